import type { Redis } from 'ioredis';
import type { KeySpace } from '@parley/bus';
import type { RoomSummary } from '@parley/muc';

/**
 * Every room the room workers hold, from the room directory (`keys.roomDirectory()`, a hash
 * room JID → `RoomSummary` JSON that workers update after each turn), sorted by JID. A
 * summary that does not parse is left out. Used by `GET /v1/rooms` and `xmppctl room list`.
 */
export async function readRoomDirectory(redis: Redis, keys: KeySpace): Promise<RoomSummary[]> {
  const out: RoomSummary[] = [];
  for (const raw of Object.values(await redis.hgetall(keys.roomDirectory()))) {
    try {
      const s = JSON.parse(raw) as RoomSummary;
      if (typeof s?.jid === 'string') out.push(s);
    } catch {
      // an unreadable summary is left out
    }
  }
  return out.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
}
