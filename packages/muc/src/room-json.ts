// A room as JSON, for the worker to store in Redis (one hash field per room) and read back.
// `RoomState` keeps occupants and affiliations in Maps (keys come from users: nicks and
// JIDs); here they become JSON objects, built without a prototype so that any key
// (`__proto__`, `constructor`, ...) is an ordinary property, and are read back with
// `Object.entries` (own properties only) into Maps. Occupants are stored by their shown
// nick and re-keyed on reading by the RFC 8266 comparison form (nick.ts), so rooms stored
// before nicks were compared that way load as well.
import type { AffiliationRecord, Hat, Occupant, RoomState } from './room-state.js';
import { keyOf } from './nick.js';

/** The JSON shape of a stored room: `RoomState` with objects instead of Maps. */
export type RoomJson = Omit<RoomState, 'occupants' | 'affiliations' | 'hats'> & {
  /** XEP-0317 hats by bare JID (absent when the room has none; features/hats.ts). */
  hats?: Record<string, Hat[]>;
  /** By shown nick, in join order (nicks that look like array indices come first in JSON). */
  occupants: Record<string, Occupant>;
  /** By bare JID. */
  affiliations: Record<string, AffiliationRecord>;
};

/** Thrown by {@link roomFromJson} for a value that is not a stored room. */
export class RoomJsonError extends Error {
  override readonly name = 'RoomJsonError';
}

function table<T>(entries: Iterable<[string, T]>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** `room` as JSON-ready data (shares the occupant, affiliation and history objects). */
export function roomToJson(room: RoomState): RoomJson {
  const { hats, ...rest } = room;
  return {
    ...rest,
    occupants: table([...room.occupants.values()].map((o): [string, Occupant] => [o.nick, o])),
    affiliations: table(room.affiliations),
    ...(hats === undefined || hats.size === 0 ? {} : { hats: table(hats) }),
  };
}

/**
 * Stored XEP-0317 hats (`hats` of {@link RoomJson}): lists of `{uri, title, hue?}`; a
 * malformed entry is left out rather than failing the room (hats are decoration).
 */
function hatsFromJson(value: unknown): Map<string, Hat[]> | undefined {
  if (!isRecord(value)) return undefined;
  const out = new Map<string, Hat[]>();
  for (const [bare, list] of Object.entries(value)) {
    if (!Array.isArray(list)) continue;
    const hats = list.filter(
      (h: unknown): h is Hat =>
        isRecord(h) && typeof h.uri === 'string' && typeof h.title === 'string' && (h.hue === undefined || typeof h.hue === 'number'),
    );
    if (hats.length > 0) out.set(bare, hats);
  }
  return out.size === 0 ? undefined : out;
}

const AFFILIATIONS = new Set<unknown>(['owner', 'admin', 'member', 'outcast']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The room stored as `value` (the result of `JSON.parse`). Occupants are keyed by the
 * comparison form of their nick; of two stored occupants with equivalent nicks (possible
 * only in rooms stored before RFC 8266 comparison) the first is kept. `history` may be
 * absent (the worker stores it in a list of its own): it becomes empty.
 * @throws RoomJsonError when `value` is not an object with `jid`, `config`, `occupants`
 *   and `affiliations` of the right kinds, or an occupant has no nick or sessions.
 */
export function roomFromJson(value: unknown): RoomState {
  if (!isRecord(value)) throw new RoomJsonError('room is not an object');
  const { occupants, affiliations, jid, config, history } = value;
  if (typeof jid !== 'string' || !isRecord(config)) throw new RoomJsonError('room without jid or config');
  if (!isRecord(occupants) || !isRecord(affiliations)) throw new RoomJsonError('room without occupants or affiliations');
  const byKey = new Map<string, Occupant>();
  for (const raw of Object.values(occupants)) {
    if (!isRecord(raw) || typeof raw.nick !== 'string' || !Array.isArray(raw.sessions)) throw new RoomJsonError('malformed occupant');
    const occupant = raw as unknown as Occupant;
    const key = keyOf(occupant);
    if (!byKey.has(key)) byKey.set(key, occupant);
  }
  const byJid = new Map<string, AffiliationRecord>();
  for (const [bare, rec] of Object.entries(affiliations)) {
    if (!isRecord(rec) || !AFFILIATIONS.has(rec.affiliation)) throw new RoomJsonError('malformed affiliation');
    byJid.set(bare, rec as unknown as AffiliationRecord);
  }
  const { hats: storedHats, ...rest } = value;
  const hats = hatsFromJson(storedHats);
  return {
    ...(rest as unknown as RoomState),
    occupants: byKey,
    affiliations: byJid,
    history: Array.isArray(history) ? (history as RoomState['history']) : [],
    ...(hats === undefined ? {} : { hats }),
  };
}
