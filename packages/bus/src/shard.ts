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

/**
 * The lane of a room within its shard: the room worker serves a shard's lanes fairly (round
 * robin) and each lane in stream order, so a room's inputs stay in arrival order while one
 * flooded room delays only the rooms sharing its lane. The lane is the FNV-1a hash of
 * {@link shardForRoom} passed through a 32-bit finaliser (MurmurHash3 fmix32), so that it
 * does not repeat the shard number (the rooms of one shard spread over every lane).
 * Changing it is harmless between runs, not during one (delivery marks name lanes).
 *
 * @param lanes - number of lanes per shard (configuration `roomWorker.lanes`), ≥ 1
 * @returns the lane, 0 ≤ n < lanes
 */
export function laneForRoom(roomJid: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(roomJid, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h % lanes;
}
