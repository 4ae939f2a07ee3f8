/**
 * Envelopes carried on a gateway's delivery stream, as flat field/value pairs (XADD).
 *
 * - `stanza`: deliver `xml` (a serialised stanza in the jabber:client namespace) to the
 *   session `sessionId` bound to the full JID `to`; when the session is gone, the gateway
 *   applies RFC 6121 §8.5.3 as for an unknown resource.
 * - `kick`: end session `sessionId` with the stream error `condition`
 *   (e.g. `conflict` when another login took the resource, RFC 6120 §4.9.3.3).
 */
export type Envelope =
  | { kind: 'stanza'; to: string; sessionId: string; xml: string }
  | { kind: 'kick'; to: string; sessionId: string; condition: string; text?: string };

/** Flattens an envelope into XADD field/value arguments. */
export function encodeEnvelope(env: Envelope): string[] {
  const fields: string[] = ['kind', env.kind, 'to', env.to, 'sid', env.sessionId];
  if (env.kind === 'stanza') fields.push('xml', env.xml);
  else {
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
  const to = m.get('to');
  const sessionId = m.get('sid');
  if (to === undefined || sessionId === undefined) return undefined;
  if (kind === 'stanza') {
    const xml = m.get('xml');
    return xml === undefined ? undefined : { kind, to, sessionId, xml };
  }
  if (kind === 'kick') {
    const condition = m.get('condition');
    if (condition === undefined) return undefined;
    const text = m.get('text');
    return text === undefined ? { kind, to, sessionId, condition } : { kind, to, sessionId, condition, text };
  }
  return undefined;
}
