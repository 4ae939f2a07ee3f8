// Offline message retention. The gateway stores each message to an offline user as one
// list item, serialised with a XEP-0203 `<delay xmlns='urn:xmpp:delay' stamp='…'/>` child
// appended last (OfflineStore of @parley/accounts), oldest first (RPUSH), and
// takes the whole list at once on the user's next available presence (offline-pop-2.lua).
import type { Redis } from 'ioredis';
import { NS, parseElement } from '@parley/xml';

/** Items read per LRANGE. */
const CHUNK = 500;

/**
 * Removes the items of one offline list whose delay stamp is before `cutoff`.
 *
 * Removal is by value (LREM count 1), so it is safe while gateways push and pop the same
 * list: an item popped meanwhile is simply not found, and identical items are identical
 * messages. Items that do not parse or carry no stamp are left alone.
 * @param cutoff - ms since epoch
 * @returns how many items were removed
 */
export async function trimOffline(redis: Redis, listKey: string, cutoff: number): Promise<number> {
  const old: string[] = [];
  for (let start = 0; ; start += CHUNK) {
    const items = await redis.lrange(listKey, start, start + CHUNK - 1);
    for (const xml of items) {
      const at = delayStamp(xml);
      if (at !== undefined && at < cutoff) old.push(xml);
    }
    if (items.length < CHUNK) break;
  }
  if (old.length === 0) return 0;
  const tx = redis.multi();
  for (const xml of old) tx.lrem(listKey, 1, xml);
  const replies = (await tx.exec()) ?? [];
  return replies.reduce((n, [err, removed]) => n + (err ? 0 : Number(removed)), 0);
}

/** The stamp (ms since epoch) of the stanza's last top-level XEP-0203 `<delay/>`: the one the gateway added. */
export function delayStamp(xml: string): number | undefined {
  let stanza;
  try {
    stanza = parseElement(xml, { defaultNs: NS.CLIENT, maxBytes: 32 * 1024 * 1024, maxDepth: 1100 });
  } catch {
    return undefined;
  }
  const delays = stanza.getChildren('delay', NS.DELAY);
  const stamp = delays[delays.length - 1]?.attrs.stamp as unknown;
  if (typeof stamp !== 'string') return undefined;
  const at = Date.parse(stamp);
  return Number.isNaN(at) ? undefined : at;
}
