/*
 * Where a room's outgoing stanzas go: to the session the room named, or, for a stanza the
 * room addressed only by JID, to the sessions the registry lists for it (RFC 6121 §8.5:
 * a full JID → its session; a bare JID → every available resource).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { parseSessionRecord, type KeySpace } from '@parley/bus';
import type { Outgoing } from '@parley/muc';
import type { Delivery } from './plan-envelopes.js';

/**
 * Mark sequence numbers reserved per output of an entry: output i of an entry is marked
 * `i * SEQ_PER_OUTPUT + k`, k being the recipient's index when a bare JID expands to several
 * resources (capped at SEQ_PER_OUTPUT - 1).
 */
export const SEQ_PER_OUTPUT = 256;

/** A room's outgoing stanza and the shard stream entry that produced it. */
export interface TurnOutput {
  entry: string;
  /** The lane the entry's deliveries are marked with (@parley/bus delivery-mark.ts); undefined: none. */
  lane?: number | undefined;
  out: Outgoing;
}

/**
 * Resolves every output to zero or more {@link Delivery}s, keeping their order. Stanzas for
 * gateways that are not live are dropped (their streams have no reader, and writing would
 * recreate a stream the reaper deleted), as are stanzas for JIDs without a session.
 *
 * A gateway missing from `liveGateways` (which is refreshed once per heartbeat) is looked up
 * in the gateways sorted set before its stanzas are dropped, and added to the set when it is
 * there: a gateway that started since the last heartbeat gets its stanzas. A gateway stays
 * in the sorted set, however old its heartbeat, until a reaper removes it (the gateway's
 * liveness.ts): a gateway only suspected of death (its heartbeat late after a Redis outage)
 * still gets its stanzas, and if it is reaped, its reaper deals with what is in its stream.
 * An occupant session named on a gateway that is gone is looked up in the registry: when its
 * record (same session id) names a live gateway, the stanza goes there. That is a XEP-0198
 * resumable session the reaper kept (issue #13): the room learns of its new gateway only at
 * its `session-moved` input, and a stanza of the entries before it must not be lost.
 *
 * @param liveGateways - ids of the gateways in the gateways sorted set; gateways found there are added
 * @returns the deliveries, in output order (resources of a bare JID sorted by name)
 */
export async function resolveRecipients(
  redis: Redis,
  keys: KeySpace,
  outputs: readonly TurnOutput[],
  liveGateways: Set<string>,
  log: Logger,
): Promise<Delivery[]> {
  const bares = [...new Set(outputs.filter((o) => !o.out.route).map((o) => splitJid(o.out.to).bare))];
  // Resource -> session record, as Maps: the resource comes from the stanza's `to` (user
  // input), so it must not be looked up on a plain object (`constructor`, `__proto__`).
  const registry = new Map<string, Map<string, string>>();
  if (bares.length) {
    const pipeline = redis.pipeline();
    for (const bare of bares) pipeline.hgetall(keys.userSessions(bare));
    const replies = (await pipeline.exec()) ?? [];
    bares.forEach((bare, i) => {
      const [err, value] = replies[i] ?? [new Error('no reply'), undefined];
      if (err) throw err;
      registry.set(bare, new Map(Object.entries((value ?? {}) as Record<string, string>)));
    });
  }
  const unknown = new Set<string>();
  for (const { out } of outputs) {
    if (out.route) {
      if (!liveGateways.has(out.route.gatewayId)) unknown.add(out.route.gatewayId);
      continue;
    }
    const { bare, resource } = splitJid(out.to);
    const sessions = registry.get(bare) ?? new Map<string, string>();
    for (const r of resource === undefined ? sessions.keys() : [resource]) {
      const rec = parseSessionRecord(sessions.get(r));
      if (rec && !liveGateways.has(rec.gateway)) unknown.add(rec.gateway);
    }
  }
  if (unknown.size) {
    const ids = [...unknown];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.zscore(keys.gateways(), id);
    const replies = (await pipeline.exec()) ?? [];
    ids.forEach((id, i) => {
      const [err, score] = replies[i] ?? [new Error('no reply'), null];
      if (!err && score !== null) liveGateways.add(id);
    });
  }
  // Occupant sessions on gateways that are gone: their records may name a live gateway now.
  const moved = [...new Set(outputs.filter((o) => o.out.route && !o.out.viaServer && !liveGateways.has(o.out.route.gatewayId)).map((o) => splitJid(o.out.to).bare))]
    .filter((bare) => !registry.has(bare));
  if (moved.length) {
    const pipeline = redis.pipeline();
    for (const bare of moved) pipeline.hgetall(keys.userSessions(bare));
    const replies = (await pipeline.exec()) ?? [];
    moved.forEach((bare, i) => {
      const [err, value] = replies[i] ?? [new Error('no reply'), undefined];
      if (!err) registry.set(bare, new Map(Object.entries((value ?? {}) as Record<string, string>)));
    });
  }
  /** The live gateway now holding occupant session `sessionId` of `to` (a full JID), if any. */
  const holderNow = (to: string, sessionId: string): string | undefined => {
    const { bare, resource } = splitJid(to);
    const rec = resource === undefined ? undefined : parseSessionRecord(registry.get(bare)?.get(resource));
    return rec && rec.sessionId === sessionId && liveGateways.has(rec.gateway) ? rec.gateway : undefined;
  };
  const deliveries: Delivery[] = [];
  let lastEntry: string | undefined;
  let index = 0;
  for (const { entry, lane, out } of outputs) {
    // The output's position within its entry decides its mark, not what the registry or
    // the set of live gateways say at the time: a replay after a failover gets the same marks.
    index = entry === lastEntry ? index + 1 : 0;
    lastEntry = entry;
    const seqOf = (k: number) => index * SEQ_PER_OUTPUT + Math.min(k, SEQ_PER_OUTPUT - 1);
    const before = deliveries.length;
    if (out.route && out.viaServer) {
      // For an account: the named gateway routes it (a `route` envelope).
      if (liveGateways.has(out.route.gatewayId)) {
        deliveries.push({ entry, lane, seq: seqOf(0), gatewayId: out.route.gatewayId, sessionId: '', to: out.to, stanza: out.stanza, viaServer: true });
      }
    } else if (out.route) {
      const gatewayId = liveGateways.has(out.route.gatewayId) ? out.route.gatewayId : holderNow(out.to, out.route.sessionId);
      if (gatewayId !== undefined) {
        deliveries.push({ entry, lane, seq: seqOf(0), gatewayId, sessionId: out.route.sessionId, to: out.to, stanza: out.stanza, broadcast: out.broadcast });
      }
    } else {
      const { bare, resource } = splitJid(out.to);
      const sessions = registry.get(bare) ?? new Map<string, string>();
      const candidates = resource === undefined
        ? [...sessions.keys()].sort().map((r) => [r, parseSessionRecord(sessions.get(r))] as const).filter(([, rec]) => rec?.available)
        : [[resource, parseSessionRecord(sessions.get(resource))] as const];
      candidates.forEach(([res, rec], k) => {
        if (rec && liveGateways.has(rec.gateway)) {
          deliveries.push({ entry, lane, seq: seqOf(k), gatewayId: rec.gateway, sessionId: rec.sessionId, to: `${bare}/${res}`, stanza: out.stanza });
        }
      });
    }
    if (deliveries.length === before) log.debug({ to: out.to, streamId: entry, name: out.stanza.name }, 'no live session for an outgoing stanza; dropped');
  }
  return deliveries;
}

function splitJid(jid: string): { bare: string; resource: string | undefined } {
  const slash = jid.indexOf('/');
  return slash < 0 ? { bare: jid, resource: undefined } : { bare: jid.slice(0, slash), resource: jid.slice(slash + 1) };
}
