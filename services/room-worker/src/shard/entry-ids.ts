import { createHmac } from 'node:crypto';

/**
 * The ids a room makes while applying one shard stream entry (`RoomContext.newId`: XEP-0359
 * stanza-ids, which are also the XEP-0313 archive ids, XEP-0307 unique room names, XEP-0421
 * occupant-id keys), derived from the entry instead of drawn at random: HMAC-SHA-256 keyed by
 * the cluster's secret (`KeySpace.mucForwardKey`) over `<shard>:<entry id>:<n>` for the n-th id
 * of the entry, shaped as a UUID (version 4 and variant bits set, 122 bits of the MAC).
 *
 * So a turn applied again after a failover or a failed commit makes the same ids as the first
 * attempt, whose deliveries clients may already hold: the stanza-id a client saw is the one in
 * the history and the archive. Without the key the ids cannot be predicted from the entry ids.
 *
 * @param key - the cluster secret (base64 text, any length)
 * @param shard - the shard whose stream holds the entry
 * @param entryId - the entry's stream id (`<ms>-<seq>`)
 * @returns a generator of ids: `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`, lower-case hex
 */
export function entryIds(key: string, shard: number, entryId: string): () => string {
  let n = 0;
  return () => {
    const mac = createHmac('sha256', key).update(`${shard}:${entryId}:${n++}`).digest();
    mac[6] = (mac[6]! & 0x0f) | 0x40;
    mac[8] = (mac[8]! & 0x3f) | 0x80;
    const hex = mac.subarray(0, 16).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  };
}
