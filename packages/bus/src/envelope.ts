import { decodeHopTrace, encodeHopTrace, type HopTrace } from './hop-trace.js';

/**
 * Envelopes carried on a gateway's delivery stream, as flat field/value pairs (XADD).
 *
 * - `stanza`: deliver `xml` (a serialised stanza in the jabber:client namespace) to the
 *   session `sessionId` bound to the full JID `to`; when the session is gone, the gateway
 *   applies RFC 6121 §8.5.3 as for an unknown resource.
 * - `fanout`: deliver one stanza to several sessions of this gateway; `xml` is room stanza
 *   text (below) and the gateway sets `to` per recipient. A room sends a groupchat message
 *   to each gateway once, however many of its occupants are connected there.
 * - `stanzas`: deliver several stanzas, in order, to one session (`to` set on each); each of
 *   `xml` is room stanza text. A joiner's view of the room (XEP-0045 §7.2.3: every other
 *   occupant's presence, then its own) is one envelope, not one per occupant.
 * - `kick`: end session `sessionId` with the stream error `condition`
 *   (e.g. `conflict` when another login took the resource, RFC 6120 §4.9.3.3).
 * - `route`: route `xml` (a whole stanza in jabber:client, with `from` and `to`) as a
 *   stanza the gateway received from its `from` (RFC 6120 §10): a room's request to an
 *   account rather than to a session (XEP-0045 §17.4: an occupant's vCard, XEP-0054, is
 *   answered by the occupant's server at its bare JID).
 * - `blocklist`: the XEP-0191 blocklist of the account `owner` (bare JID) changed; the
 *   gateway forgets its cached copy (sent to every gateway holding a session of `owner`).
 * - `sm-takeover`: a stream on gateway `gateway` resumes (XEP-0198 §5) session `sessionId`
 *   of the full JID `to` whose SM-ID is `smId`: this gateway hands the session's state over
 *   by pushing it (JSON) onto the list `reply`, then forwards what still arrives for it.
 *
 * Room stanza text: a stanza in `jabber:client` serialised (ltx, double-quoted attributes)
 * without a `to` attribute and without `xmlns` on its root, so that a gateway writes it
 * to a session by splicing in ` to="…"` ({@link splitStartTag}) instead of parsing it.
 *
 * `stanza`, `fanout`, `stanzas` and `route` envelopes written by a room worker carry a
 * {@link DeliveryMark} (`mark`), so that a gateway drops what a shard's new owner sends
 * again after a failover.
 *
 * `stanza`, `stanzas` and `fanout` envelopes may carry a {@link HopTrace} (`hop`, optional: the
 * `debug.hopTrace` setting, see hop-trace.ts); a malformed one is dropped, not the envelope.
 */
export type Envelope =
  | { kind: 'stanza'; to: string; sessionId: string; xml: string; mark?: string; hop?: HopTrace }
  | { kind: 'fanout'; recipients: FanoutRecipient[]; xml: string; mark?: string; hop?: HopTrace }
  | { kind: 'stanzas'; to: string; sessionId: string; xml: string[]; mark?: string; hop?: HopTrace }
  | { kind: 'kick'; to: string; sessionId: string; condition: string; text?: string }
  | { kind: 'route'; xml: string; mark?: string }
  | { kind: 'blocklist'; owner: string; mark?: undefined }
  | { kind: 'sm-takeover'; to: string; sessionId: string; smId: string; gateway: string; reply: string; mark?: undefined };

/** One recipient of a `fanout` envelope: a full JID and the id of its session. */
export interface FanoutRecipient {
  to: string;
  sessionId: string;
}

/** Flattens an envelope into XADD field/value arguments. */
export function encodeEnvelope(env: Envelope): string[] {
  if (env.kind === 'fanout') {
    const fields = ['kind', 'fanout', 'rcpt', JSON.stringify(env.recipients.map((r) => [r.to, r.sessionId])), 'xml', env.xml];
    if (env.mark !== undefined) fields.push('mark', env.mark);
    if (env.hop !== undefined) fields.push('hop', encodeHopTrace(env.hop));
    return fields;
  }
  if (env.kind === 'blocklist') return ['kind', 'blocklist', 'owner', env.owner];
  if (env.kind === 'sm-takeover') return ['kind', 'sm-takeover', 'to', env.to, 'sid', env.sessionId, 'smid', env.smId, 'gw', env.gateway, 'reply', env.reply];
  if (env.kind === 'route') {
    const fields = ['kind', 'route', 'xml', env.xml];
    if (env.mark !== undefined) fields.push('mark', env.mark);
    return fields;
  }
  const fields: string[] = ['kind', env.kind, 'to', env.to, 'sid', env.sessionId];
  if (env.kind === 'stanzas') {
    fields.push('xml', JSON.stringify(env.xml));
    if (env.mark !== undefined) fields.push('mark', env.mark);
    if (env.hop !== undefined) fields.push('hop', encodeHopTrace(env.hop));
  } else if (env.kind === 'stanza') {
    fields.push('xml', env.xml);
    if (env.mark !== undefined) fields.push('mark', env.mark);
    if (env.hop !== undefined) fields.push('hop', encodeHopTrace(env.hop));
  } else {
    fields.push('condition', env.condition);
    if (env.text !== undefined) fields.push('text', env.text);
  }
  return fields;
}

/** Reads XREADGROUP field/value pairs back into an envelope; undefined when malformed. */
export function decodeEnvelope(fields: string[]): Envelope | undefined {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i]!, fields[i + 1]!);
  const kind = m.get('kind');
  const mark = m.get('mark');
  if (kind === 'fanout') {
    const xml = m.get('xml');
    const recipients = parseRecipients(m.get('rcpt'));
    if (xml === undefined || recipients === undefined) return undefined;
    return withHop(mark === undefined ? { kind, recipients, xml } : { kind, recipients, xml, mark }, m);
  }
  if (kind === 'blocklist') {
    const owner = m.get('owner');
    return owner === undefined ? undefined : { kind, owner };
  }
  if (kind === 'route') {
    const xml = m.get('xml');
    if (xml === undefined) return undefined;
    return mark === undefined ? { kind, xml } : { kind, xml, mark };
  }
  const to = m.get('to');
  const sessionId = m.get('sid');
  if (to === undefined || sessionId === undefined) return undefined;
  if (kind === 'stanza') {
    const xml = m.get('xml');
    if (xml === undefined) return undefined;
    return withHop(mark === undefined ? { kind, to, sessionId, xml } : { kind, to, sessionId, xml, mark }, m);
  }
  if (kind === 'stanzas') {
    const xml = parseStringList(m.get('xml'));
    if (xml === undefined || xml.length === 0) return undefined;
    return withHop(mark === undefined ? { kind, to, sessionId, xml } : { kind, to, sessionId, xml, mark }, m);
  }
  if (kind === 'sm-takeover') {
    const smId = m.get('smid');
    const gateway = m.get('gw');
    const reply = m.get('reply');
    if (smId === undefined || gateway === undefined || reply === undefined) return undefined;
    return { kind, to, sessionId, smId, gateway, reply };
  }
  if (kind === 'kick') {
    const condition = m.get('condition');
    if (condition === undefined) return undefined;
    const text = m.get('text');
    return text === undefined ? { kind, to, sessionId, condition } : { kind, to, sessionId, condition, text };
  }
  return undefined;
}

/** Adds the envelope's `hop` field when it holds a well-formed trace (hop-trace.ts). */
function withHop(env: Extract<Envelope, { kind: 'stanza' | 'stanzas' | 'fanout' }>, m: Map<string, string>): Envelope {
  const raw = m.get('hop');
  if (raw === undefined) return env;
  const hop = decodeHopTrace(raw);
  return hop === undefined ? env : { ...env, hop };
}

function parseRecipients(raw: string | undefined): FanoutRecipient[] | undefined {
  if (raw === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (!Array.isArray(v)) return undefined;
    const out: FanoutRecipient[] = [];
    for (const pair of v) {
      if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') return undefined;
      out.push({ to: pair[0], sessionId: pair[1] });
    }
    return out;
  } catch {
    return undefined;
  }
}

function parseStringList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Splits room stanza text where an attribute appended to its root goes: before the `>` or
 * `/>` that ends the start tag (ltx escapes `>` in attribute values, so the first `>` is
 * that one). `head + ' to="…"' + tail` is the stanza with `to` as its last attribute.
 * @returns undefined when `xml` is not an element or its root carries `xmlns` (not room
 *   stanza text: parse it instead)
 */
export function splitStartTag(xml: string): [head: string, tail: string] | undefined {
  const end = xml.indexOf('>');
  if (xml[0] !== '<' || end < 2) return undefined;
  const at = xml[end - 1] === '/' ? end - 1 : end;
  const head = xml.slice(0, at);
  if (/\sxmlns[=:]/.test(head)) return undefined;
  return [head, xml.slice(at)];
}
