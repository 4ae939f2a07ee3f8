// The stored form of a room's occupants (issue #15 item 2), shared by the room worker that
// writes it and the tools that read it (xmppctl backup and reshard, the delete-user job).
//
// A room is stored in two parts in its shard's slot: its field of `KeySpace.shardRooms`
// (the room JSON without history and, when it has `occupantsInHash: true`, without
// occupants) and the hash `KeySpace.roomOccupants` (shown nick → `[seq, occupant JSON]`).
// A commit writes only the occupants that changed, so its size does not grow with the
// room. `seq` keeps the join order (Redis hashes have none): occupants are read back sorted
// by it. Rooms written before this layout hold their occupants inline (`occupants` of the
// room JSON, no marker); readers take those as they are.

/** Field of a stored room's JSON that says its occupants are in `KeySpace.roomOccupants`. */
export const OCCUPANTS_IN_HASH = 'occupantsInHash';

/** One stored occupant: its join-order number and the occupant as parsed JSON. */
export interface StoredOccupant {
  /** Join order within the room (ascending; not contiguous). */
  seq: number;
  /** The occupant object (`Occupant` of `@parley/muc`), not yet validated. */
  occupant: unknown;
  /** The occupant's JSON text as stored. */
  json: string;
}

/**
 * The hash value of an occupant: `[seq, occupant]` as JSON, built around `occupantJson`
 * (the result of `JSON.stringify(occupant)`) without parsing it again.
 */
export function encodeStoredOccupant(seq: number, occupantJson: string): string {
  return `[${seq},${occupantJson}]`;
}

/** Decodes a hash value of `KeySpace.roomOccupants`; undefined when it is not one. */
export function decodeStoredOccupant(value: string): StoredOccupant | undefined {
  const comma = value.indexOf(',');
  if (value[0] !== '[' || comma < 2 || value[value.length - 1] !== ']') return undefined;
  const seq = Number(value.slice(1, comma));
  if (!Number.isSafeInteger(seq) || seq < 0) return undefined;
  const json = value.slice(comma + 1, -1);
  try {
    const occupant: unknown = JSON.parse(json);
    return typeof occupant === 'object' && occupant !== null && !Array.isArray(occupant) ? { seq, occupant, json } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The occupants of a room from the values of its occupants hash (HVALS), in join order;
 * values that do not decode are left out (counted in `bad`).
 */
export function orderStoredOccupants(values: readonly string[]): { occupants: StoredOccupant[]; bad: number } {
  const occupants: StoredOccupant[] = [];
  let bad = 0;
  for (const v of values) {
    const o = decodeStoredOccupant(v);
    if (o) occupants.push(o);
    else bad++;
  }
  occupants.sort((a, b) => a.seq - b.seq);
  return { occupants, bad };
}

/** Whether a parsed stored room keeps its occupants in `KeySpace.roomOccupants`. */
export function occupantsInHash(room: unknown): boolean {
  return typeof room === 'object' && room !== null && (room as Record<string, unknown>)[OCCUPANTS_IN_HASH] === true;
}
