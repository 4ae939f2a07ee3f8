import type { KeySpace } from './keys.js';
import { shardForRoom } from './shard.js';

/**
 * What the start check of the shard count (`ensureShardCount` of @parley/service-runtime)
 * needs to know about where rooms are stored: the count and marker keys, how to find every
 * shard's rooms hash, and {@link shardForRoom} with `shards`.
 * @param shards - configuration `muc.shards`
 */
export function shardLayout(keys: KeySpace, shards: number) {
  const roomsKey = new RegExp(`^${escapeRegExp(keys.prefix)}muc:\\{s:(\\d{1,5})\\}:rooms$`);
  return {
    shards,
    countKey: keys.mucShards(),
    reshardKey: keys.mucReshard(),
    roomsPattern: `${escapeGlob(keys.prefix)}muc:{s:*}:rooms`,
    shardOfRoomsKey(key: string): number | undefined {
      const m = roomsKey.exec(key);
      return m ? Number(m[1]) : undefined;
    },
    placement: (roomJid: string) => shardForRoom(roomJid, shards),
  };
}

/** `s` with the characters special in a RegExp escaped. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `s` with the characters special in a Redis SCAN MATCH glob (`* ? [ ] \`) escaped. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}
