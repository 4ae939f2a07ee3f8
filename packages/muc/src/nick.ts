// Room nicks per RFC 8266 (the PRECIS Nickname profile, through `@parley/jid`): a nick is
// shown in its enforced form (§2.3: spaces mapped and trimmed, NFKC, case kept) and
// compared in its case-mapped form (§2.4), which is the key of `RoomState.occupants`. So
// `Alice`, `alice` and `ａｌｉｃｅ` are one nick (XEP-0045 §7.2.8: the second gets conflict).
import { tryNickname } from '@parley/jid';
import type { Occupant, RoomState } from './room-state.js';

/** A nick in its two RFC 8266 forms: `nick` to show, `key` to compare and look up. */
export interface Nick {
  readonly nick: string;
  readonly key: string;
}

/**
 * Prepared nicks by input: a pure memo (the same input always gives the same result), as
 * preparing a non-ASCII nick costs 10-20 µs and registered nicks are compared on every
 * join. Only inputs up to {@link MEMO_INPUT_MAX} code units are kept, and the memo is
 * dropped when it holds {@link MEMO_MAX} entries, so it stays under ~5 MB.
 */
const memo = new Map<string, Nick | null>();
const MEMO_MAX = 10_000;
const MEMO_INPUT_MAX = 256;

/** The two forms of `input`, or undefined when it is not an acceptable nick (RFC 8266 §2.3). */
export function prepareNick(input: string): Nick | undefined {
  const hit = memo.get(input);
  if (hit !== undefined) return hit ?? undefined;
  const prepared = tryNickname(input);
  const value = prepared === undefined ? null : Object.freeze(prepared);
  if (input.length <= MEMO_INPUT_MAX) {
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(input, value);
  }
  return value ?? undefined;
}

/** The occupant holding the nick `input` (any equivalent form), if any. */
export function occupantByNick(room: RoomState, input: string): Occupant | undefined {
  const n = prepareNick(input);
  return n === undefined ? undefined : room.occupants.get(n.key);
}

/**
 * The comparison form of a stored (enforced) nick: an occupant's or a registered one.
 * A stored nick that no longer passes enforcement (stored before RFC 8266 applied) is its
 * own key.
 */
export function nickKeyOf(nick: string): string {
  return prepareNick(nick)?.key ?? nick;
}

/** The key of `occupant` in `RoomState.occupants`. */
export function keyOf(occupant: Occupant): string {
  return nickKeyOf(occupant.nick);
}
