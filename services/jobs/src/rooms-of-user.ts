// Which rooms a deleted account still appears in: rooms are stored per shard, one hash
// field per room holding the room's JSON state (`KeySpace.shardRooms`), so every shard's
// hash is scanned; a room's occupants are in a hash of their own (`KeySpace.roomOccupants`,
// @parley/bus stored-room.ts) unless the room was stored before it (occupants inline). Rooms not yet saved by their worker (a brand-new room's first turn) are
// not seen; the room itself drops the account on the command anyway.
import type { Redis } from 'ioredis';
import { decodeStoredOccupant, OCCUPANTS_IN_HASH, type KeySpace } from '@parley/bus';

/** The marker of a room whose occupants are in their own hash, as JSON.stringify writes it (a false match costs one HSCAN). */
const SPLIT_MARK = `${JSON.stringify(OCCUPANTS_IN_HASH)}:true`;

/** The part of a stored room state this reads (see `RoomState` in `@parley/muc`). */
interface StoredRoom {
  affiliations?: Record<string, unknown>;
  occupants?: Record<string, { bareJid?: unknown }>;
}

/**
 * The bare JIDs of every room where `bareJid` has an affiliation or is an occupant, sorted.
 * Reads the shard hashes with HSCAN (COUNT 200), so large shards are read in pieces.
 * @param shards - configuration `muc.shards`
 */
export async function roomsOfUser(redis: Redis, keys: KeySpace, shards: number, bareJid: string): Promise<string[]> {
  // Cheap filter before parsing: the JID as it appears inside a JSON string.
  const needle = JSON.stringify(bareJid).slice(1, -1);
  const found: string[] = [];
  for (let shard = 0; shard < shards; shard++) {
    let cursor = '0';
    do {
      const [next, flat] = await redis.hscan(keys.shardRooms(shard), cursor, 'COUNT', 200);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const room = flat[i]!;
        const json = flat[i + 1]!;
        if (json.includes(needle) && holds(json, bareJid)) found.push(room);
        else if (json.includes(SPLIT_MARK) && (await occupies(redis, keys.roomOccupants(shard, room), needle, bareJid))) found.push(room);
      }
    } while (cursor !== '0');
  }
  return [...new Set(found)].sort();
}

/** Whether an occupants hash holds an occupant of `bareJid` (read with HSCAN, COUNT 200). */
async function occupies(redis: Redis, key: string, needle: string, bareJid: string): Promise<boolean> {
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(key, cursor, 'COUNT', 200);
    cursor = next;
    for (let i = 1; i < flat.length; i += 2) {
      const value = flat[i]!;
      if (value.includes(needle) && (decodeStoredOccupant(value)?.occupant as { bareJid?: unknown } | undefined)?.bareJid === bareJid) return true;
    }
  } while (cursor !== '0');
  return false;
}

function holds(json: string, bareJid: string): boolean {
  let room: StoredRoom;
  try {
    room = JSON.parse(json) as StoredRoom;
  } catch {
    return false;
  }
  if (room.affiliations && Object.hasOwn(room.affiliations, bareJid)) return true;
  return Object.values(room.occupants ?? {}).some((o) => o.bareJid === bareJid);
}
