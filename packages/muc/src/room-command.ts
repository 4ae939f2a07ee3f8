// Administrative commands for a room (issue #4: the admin API). They reach the room's actor
// through its shard stream, like stanzas, so they are serialised with everything else that
// happens in the room, and they produce the same notifications XEP-0045 requires when an
// occupant does the same thing (e.g. status 307 to the room for a kick, §8.2).
import type { Affiliation, Hat, Role } from './room-state.js';
import type { RoomConfig } from './room-config.js';

/**
 * One command, as JSON on the stream (`RoomInputEnvelope` kind `command` in `@parley/bus`).
 * JIDs are bare JIDs, already normalised by the sender.
 *
 * - `create`: create the room already configured and unlocked (a reserved room,
 *   XEP-0045 §10.1.3, configured by the service): `config` over the defaults, persistent
 *   unless `config.persistent` is false; `owners` get affiliation owner. Fails with
 *   `conflict` when the room exists.
 * - `get`: the room's {@link RoomSnapshot}.
 * - `configure`: change configuration fields like an owner's form submission (§10.2,
 *   status 104 and 172/173 to occupants; becoming members-only removes non-members with 322).
 * - `destroy`: §10.9, occupants get unavailable presence with `<destroy>`.
 * - `kick`: role none for `nick`, status 307 to the room (§8.2).
 * - `set-role`: §8.3–8.6, §9.6–9.7 (voice, moderator) for `nick`.
 * - `set-affiliations`: §9/§10 changes for several JIDs at once, validated first and applied
 *   all or none, with the presence/message notifications §9 requires.
 * - `send-message`: a message from the room itself (`from` = room JID), to every occupant
 *   as a groupchat message with no nick (like the §10.2.1 status messages), or to one
 *   occupant `nick` as a normal message.
 * - `remove-user`: the account `jid` was deleted: its affiliation (if any) becomes none, with
 *   notifications, and its occupants leave the room (status 321 where membership mattered).
 * - `set-hats`: XEP-0317, the hats `jid` wears from now on, in this order (replacing what it
 *   wore; empty: none); `jid` needs a member, admin or owner affiliation (else `not-allowed`);
 *   its occupants' presence is sent again. Bounds and checks: features/hats.ts `checkHats`.
 * - `remove-hats`: XEP-0317, takes off the hat `uri` of `jid` (every hat without `uri`);
 *   `item-not-found` when `jid` does not wear that hat (or none at all).
 */
export type RoomCommand =
  | { op: 'create'; config?: Partial<RoomConfig>; owners?: string[] }
  | { op: 'get' }
  | { op: 'configure'; config: Partial<RoomConfig> }
  | { op: 'destroy'; reason?: string; alternate?: string; password?: string }
  | { op: 'kick'; nick: string; reason?: string }
  | { op: 'set-role'; nick: string; role: Exclude<Role, 'none'>; reason?: string }
  | { op: 'set-affiliations'; items: { jid: string; affiliation: Affiliation; reason?: string; nick?: string }[] }
  | { op: 'send-message'; body: string; nick?: string }
  | { op: 'remove-user'; jid: string }
  | { op: 'set-hats'; jid: string; hats: Hat[] }
  | { op: 'remove-hats'; jid: string; uri?: string };

/** Why a command was refused. */
export type CommandErrorCode = 'item-not-found' | 'conflict' | 'bad-request' | 'not-allowed';

/** A room as the admin API shows it. */
export interface RoomSnapshot {
  jid: string;
  config: RoomConfig;
  locked: boolean;
  subject: { text: string; nick?: string } | null;
  /** ms since epoch */
  created: number;
  /** In join order; `jid` bare, `fullJids` every session (primary first), `affiliation` effective (service admins are owners). */
  occupants: { nick: string; jid: string; fullJids: string[]; role: Role; affiliation: Affiliation }[];
  /** Stored affiliations sorted by JID; `reason` as given when set (e.g. why a user was banned). */
  affiliations: { jid: string; affiliation: Exclude<Affiliation, 'none'>; nick?: string; reason?: string }[];
  /** XEP-0317 hats by bare JID, sorted by JID, each list in the order assigned; absent when nobody wears any. */
  hats?: { jid: string; hats: Hat[] }[];
}

/**
 * What a command produced, pushed as JSON to the command's reply list after the turn that
 * applied it is committed.
 */
export type CommandResult =
  | { ok: true; room?: RoomSnapshot }
  | { ok: false; error: CommandErrorCode; message: string };
