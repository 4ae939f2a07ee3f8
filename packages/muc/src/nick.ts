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

/**
 * Code points refused in nicks on top of RFC 8266 (which allows symbols): emoji that
 * display as emoji by default (Unicode `Emoji_Presentation`: 🐱, flags, ...) and variation
 * selectors (U+FE00-FE0F, U+E0100-E01EF, which turn text symbols such as ☺ into emoji).
 * Prosody 0.12 refuses the former (its strict Resourceprep knows no code point assigned
 * after Unicode 3.2) and silently drops the latter (`Ben☺️` joins as `Ben☺`); we refuse
 * both rather than show a nick other than the one asked for. In an occupant JID a
 * variation selector never gets here: the resourcepart (RFC 7622, PRECIS) disallows it and
 * the gateway answers jid-malformed; this covers nicks in muc#admin items, registration
 * forms and admin commands. XEP-0045 §14 lets a service
 * apply "more stringent rules" to nicks; emoji are a favourite of nick spoofing.
 */
const REFUSED_IN_NICKS = /\p{Emoji_Presentation}|[\uFE00-\uFE0F]|[\u{E0100}-\u{E01EF}]/u;

/**
 * The two forms of `input`, or undefined when it is not an acceptable nick (RFC 8266 §2.3,
 * or a code point of {@link REFUSED_IN_NICKS}).
 */
export function prepareNick(input: string): Nick | undefined {
  const hit = memo.get(input);
  if (hit !== undefined) return hit ?? undefined;
  const prepared = REFUSED_IN_NICKS.test(input) ? undefined : tryNickname(input);
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
