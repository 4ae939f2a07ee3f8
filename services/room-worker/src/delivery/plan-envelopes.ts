/*
 * How a turn's outgoing stanzas become delivery-stream envelopes, with the marks that make
 * a re-applied turn harmless (see @parley/bus delivery-mark.ts).
 */
import { Element } from 'ltx';
import { formatDeliveryMark, type Envelope, type FanoutRecipient } from '@parley/bus';
import { serialize } from '@parley/xml';

/** One stanza for one session, resolved from a room's `Outgoing`. */
export interface Delivery {
  /** Id of the shard stream entry whose application produced the stanza. */
  entry: string;
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
}

/** An envelope ready for `XADD <gateway delivery stream> * ...encodeEnvelope(envelope)`. */
export interface PlannedEnvelope {
  gatewayId: string;
  envelope: Envelope;
}

interface Draft {
  /** The stanza serialised without `to`, when it may be shared by a fanout. */
  body: string | undefined;
  /** The stanza serialised for the first recipient (with its `to`). */
  xml: string;
  /** Mark sequence number of the first delivery in the draft. */
  seq: number;
  recipients: FanoutRecipient[];
}

/**
 * Turns deliveries (in the order the room produced them, grouped by entry as produced)
 * into envelopes, in the same order per gateway. Each envelope is marked
 * `<shard>:<entry>:<seq>` with the `seq` of its first delivery; per (entry, gateway) the
 * envelopes are in order of their first delivery, so the marks increase. Stanzas of one entry to one
 * gateway that differ only in `to` (a broadcast) share one `fanout` envelope, placed where
 * the first of them was, but only when no recipient would then receive its stanzas in
 * another order than the room produced them (or the same one twice).
 *
 * Deterministic: the same deliveries give the same envelopes and marks, which is what
 * lets a gateway drop what a shard's next owner sends again after a failover.
 *
 * @param shard - the shard number, for the marks
 * @param deliveries - resolved deliveries, entries in stream order
 */
export function planEnvelopes(shard: number, deliveries: readonly Delivery[]): PlannedEnvelope[] {
  const out: PlannedEnvelope[] = [];
  let entry: string | undefined;
  let drafts = new Map<string, Draft[]>();
  const flush = () => {
    if (entry === undefined) return;
    for (const [gatewayId, list] of drafts) {
      list.forEach((d) => {
        const mark = formatDeliveryMark({ shard, entry: entry!, seq: d.seq });
        const first = d.recipients[0]!;
        out.push({
          gatewayId,
          envelope: d.recipients.length === 1
            ? { kind: 'stanza', to: first.to, sessionId: first.sessionId, xml: d.xml, mark }
            : { kind: 'fanout', recipients: d.recipients, xml: d.body!, mark },
        });
      });
    }
    drafts = new Map();
  };
  for (const d of deliveries) {
    if (d.entry !== entry) {
      flush();
      entry = d.entry;
    }
    let list = drafts.get(d.gatewayId);
    if (!list) drafts.set(d.gatewayId, (list = []));
    const toAttr = d.stanza.attrs.to as string | undefined;
    // A stanza addressed otherwise than to its recipient (e.g. to the bare JID) keeps its `to`.
    const body = toAttr === undefined || toAttr === d.to ? serialize(withTo(d.stanza, undefined)) : undefined;
    const recipient = { to: d.to, sessionId: d.sessionId };
    const g = body === undefined ? -1 : lastIndexWhere(list, (x) => x.body === body);
    if (g >= 0 && !list.slice(g).some((x) => x.recipients.some((r) => r.to === recipient.to && r.sessionId === recipient.sessionId))) {
      list[g]!.recipients.push(recipient);
    } else {
      list.push({ body, xml: serialize(toAttr === undefined ? withTo(d.stanza, d.to) : d.stanza), seq: d.seq, recipients: [recipient] });
    }
  }
  flush();
  return out;
}

function lastIndexWhere<T>(list: readonly T[], pred: (x: T) => boolean): number {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i]!)) return i;
  return -1;
}

/** A shallow copy of `el` with `to` set (or removed when undefined); children are shared. */
function withTo(el: Element, to: string | undefined): Element {
  const { to: _old, ...attrs } = el.attrs;
  const copy = new Element(el.name, to === undefined ? attrs : { ...attrs, to });
  copy.children = el.children;
  return copy;
}
