/*
 * How a turn's outgoing stanzas become delivery-stream envelopes, with the marks that make
 * a re-applied turn harmless (see @parley/bus delivery-mark.ts).
 */
import { Element } from 'ltx';
import { formatDeliveryMark, type Envelope, type FanoutRecipient } from '@parley/bus';
import type { Broadcast } from '@parley/muc';
import { serialize } from '@parley/xml';

/** One stanza for one session, resolved from a room's `Outgoing`. */
export interface Delivery {
  /** Id of the shard stream entry whose application produced the stanza. */
  entry: string;
  /** The entry's lane within the shard, for the mark (undefined: a mark without a lane). */
  lane?: number | undefined;
  /**
   * Mark sequence number: from the stanza's position among its entry's outputs, so the
   * same on every application of the entry; increasing in delivery order within an entry.
   */
  seq: number;
  gatewayId: string;
  sessionId: string;
  /** The recipient's full JID. */
  to: string;
  stanza: Element;
  /**
   * The room's broadcast this stanza belongs to (`Outgoing.broadcast`): its stanza without
   * `to` is serialised once per turn, not once per recipient.
   */
  broadcast?: Broadcast | undefined;
  /** Routed by the gateway as a stanza from the room (`Outgoing.viaServer`): a `route` envelope. */
  viaServer?: true;
}

/** An envelope ready for `XADD <gateway delivery stream> * ...encodeEnvelope(envelope)`. */
export interface PlannedEnvelope {
  gatewayId: string;
  envelope: Envelope;
  /** Id of the shard stream entry whose application produced it. */
  entry: string;
}

interface Draft {
  /**
   * Room stanza text (@parley/bus envelope.ts) of the first delivery, when it may be shared
   * by a fanout or joined into a `stanzas` envelope; undefined for a stanza addressed
   * otherwise than to its recipient.
   */
  body: string | undefined;
  /** More bodies for the one recipient, after `body` (the draft is then a `stanzas` envelope). */
  more: string[] | undefined;
  /** The first delivery's stanza and recipient (serialised at the end if it stays alone). */
  stanza: Element;
  to: string;
  /** Mark sequence number of the first delivery in the draft. */
  seq: number;
  recipients: FanoutRecipient[];
  /** A `route` envelope (Delivery.viaServer). */
  viaServer?: true;
}

/** One entry's drafts for one gateway, with the indexes that keep planning linear. */
interface GatewayDrafts {
  list: Draft[];
  /** Body → index of the last draft with that body. */
  lastWithBody: Map<string, number>;
  /** Recipient (`to` NUL `sessionId`) → index of the last draft that includes it. */
  lastWithRecipient: Map<string, number>;
}

/**
 * Turns deliveries (in the order the room produced them, grouped by entry as produced)
 * into envelopes, in the same order per gateway. Each envelope is marked
 * `<shard>.<lane>:<entry>:<seq>` (`<shard>:<entry>:<seq>` for a delivery without a lane) with the `seq` of its first delivery; per (entry, gateway) the
 * envelopes are in order of their first delivery, so the marks increase. Stanzas of one entry to one
 * gateway that differ only in `to` (a broadcast) share one `fanout` envelope, placed where
 * the first of them was, but only when no recipient would then receive its stanzas in
 * another order than the room produced them (or the same one twice). Consecutive stanzas of
 * one entry to one recipient that nobody shares (a joiner's view of the room, XEP-0045
 * §7.2.3) go as one `stanzas` envelope. Stanzas go as room stanza text (@parley/bus
 * envelope.ts), which the gateway writes without parsing; only a stanza addressed otherwise
 * than to its recipient (e.g. to a bare JID) goes whole, as a `stanza` envelope.
 *
 * Deterministic: the same deliveries give the same envelopes and marks, which is what
 * lets a gateway drop what a shard's next owner sends again after a failover.
 *
 * Linear in the number of deliveries: a room's broadcast (`Delivery.broadcast`) is
 * serialised once, other stanzas once each; drafts are found by body and recipients
 * checked through per-gateway indexes rather than by scanning.
 *
 * @param shard - the shard number, for the marks
 * @param deliveries - resolved deliveries, entries in stream order
 */
export function planEnvelopes(shard: number, deliveries: readonly Delivery[]): PlannedEnvelope[] {
  const out: PlannedEnvelope[] = [];
  let entry: string | undefined;
  let lane: number | undefined;
  let drafts = new Map<string, GatewayDrafts>();
  const flush = () => {
    if (entry === undefined) return;
    for (const [gatewayId, { list }] of drafts) {
      for (const d of list) {
        const mark = formatDeliveryMark({ shard, lane, entry, seq: d.seq });
        const first = d.recipients[0]!;
        if (d.viaServer) {
          out.push({ gatewayId, entry, envelope: { kind: 'route', xml: serialize(withTo(d.stanza, d.to)), mark } });
          continue;
        }
        out.push({
          gatewayId,
          entry,
          envelope:
            d.recipients.length > 1
              ? { kind: 'fanout', recipients: d.recipients, xml: d.body!, mark }
              : d.body !== undefined
                ? { kind: 'stanzas', to: first.to, sessionId: first.sessionId, xml: d.more ? [d.body, ...d.more] : [d.body], mark }
                : { kind: 'stanza', to: first.to, sessionId: first.sessionId, xml: serialize(d.stanza.attrs.to === undefined ? withTo(d.stanza, d.to) : d.stanza), mark },
        });
      }
    }
    drafts = new Map();
  };
  for (const d of deliveries) {
    if (d.entry !== entry) {
      flush();
      entry = d.entry;
      lane = d.lane;
    }
    let g = drafts.get(d.gatewayId);
    if (!g) drafts.set(d.gatewayId, (g = { list: [], lastWithBody: new Map(), lastWithRecipient: new Map() }));
    if (d.viaServer) {
      // Routed by the gateway: an envelope of its own, never shared.
      g.list.push({ body: undefined, more: undefined, stanza: d.stanza, to: d.to, seq: d.seq, recipients: [{ to: d.to, sessionId: '' }], viaServer: true });
      continue;
    }
    const toAttr = d.stanza.attrs.to as string | undefined;
    // A stanza addressed otherwise than to its recipient (e.g. to the bare JID) keeps its `to`.
    const body = toAttr === undefined || toAttr === d.to ? bodyOf(d) : undefined;
    const recipient = { to: d.to, sessionId: d.sessionId };
    const key = `${d.to}\0${d.sessionId}`;
    const i = body === undefined ? -1 : (g.lastWithBody.get(body) ?? -1);
    const last = g.list.length - 1;
    const tailDraft = g.list[last];
    if (i >= 0 && (g.lastWithRecipient.get(key) ?? -1) < i) {
      // Joins a fanout: nothing sent to this recipient after draft i yet.
      g.list[i]!.recipients.push(recipient);
      g.lastWithRecipient.set(key, i);
    } else if (body !== undefined && tailDraft?.body !== undefined && tailDraft.recipients.length === 1 && g.lastWithRecipient.get(key) === last) {
      // Follows the recipient's own last stanza, which nobody else shares: one `stanzas` envelope.
      // That draft can no longer become a fanout.
      (tailDraft.more ??= []).push(body);
      if (g.lastWithBody.get(tailDraft.body) === last) g.lastWithBody.delete(tailDraft.body);
    } else {
      const index = g.list.length;
      g.list.push({ body, more: undefined, stanza: d.stanza, to: d.to, seq: d.seq, recipients: [recipient] });
      if (body !== undefined) g.lastWithBody.set(body, index);
      g.lastWithRecipient.set(key, index);
    }
  }
  flush();
  return out;
}

/**
 * Room stanza text of each broadcast, kept while the broadcast lives: a turn's broadcast is
 * serialised once, and one the room core shares across turns (an occupant's presence as a
 * joiner sees it, @parley/muc `viewPresence`) once for all the joins that show it.
 */
const bodies = new WeakMap<Broadcast, string>();

/** Room stanza text (no `to`, no root `xmlns`): once per broadcast (cached in `bodies`), else per delivery. */
function bodyOf(d: Delivery): string {
  const b = d.broadcast;
  if (b === undefined || b.stanza.attrs.to !== undefined) return roomStanzaText(d.stanza);
  let body = bodies.get(b);
  if (body === undefined) bodies.set(b, (body = roomStanzaText(b.stanza)));
  return body;
}

/** `el` serialised without `to` and without its root's `xmlns` (it is in `jabber:client`). */
function roomStanzaText(el: Element): string {
  const { to: _to, xmlns: _xmlns, ...attrs } = el.attrs;
  const copy = new Element(el.name, attrs);
  copy.children = el.children;
  return serialize(copy);
}

/** A shallow copy of `el` with `to` set (or removed when undefined); children are shared. */
function withTo(el: Element, to: string | undefined): Element {
  const { to: _old, ...attrs } = el.attrs;
  const copy = new Element(el.name, to === undefined ? attrs : { ...attrs, to });
  copy.children = el.children;
  return copy;
}
