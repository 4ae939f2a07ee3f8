/**
 * Placement of rooms on shards: a room's stanzas all go through one shard stream, so one
 * actor at a time applies them, in arrival order. The hash is FNV-1a (32 bit) over the
 * UTF-8 bytes of the room's bare JID; it must never change, since stored room state lives
 * under the shard it names.
 *
 * @param roomJid - the room's bare JID, already normalised (RFC 7622), e.g. `room@conference.localhost`
 * @param shardCount - number of shards (configuration `muc.shards`), ≥ 1
 * @returns the shard number, 0 ≤ n < shardCount
 */
export function shardForRoom(roomJid: string, shardCount: number): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(roomJid, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shardCount;
}
