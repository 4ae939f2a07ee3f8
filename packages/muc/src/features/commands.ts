// Admin commands (issue #4), one handler per op in a table, each reusing the code path an
// owner or moderator takes over XMPP so occupants see what XEP-0045 prescribes:
// - create: §10.1.3 (reserved room, configured before anyone enters: no lock, no 201);
// - configure: §10.2, §10.2.1 (104, 172/173; 322 removals when becoming members-only);
// - destroy: §10.9 (one unavailable presence with <destroy/> to each occupant);
// - kick: §8.2 (307); set-role: §8.3–§8.6, §9.6–§9.7; set-affiliations: §9.1–§9.5,
//   §10.3–§10.8 (301, 321, updated presence, the message about non-occupants);
// - send-message: a message from the room itself (like the §10.2.1 notices);
// - remove-user: an account was deleted: its affiliation goes (§9.4: 321 in a members-only
//   room) and its occupants are removed (307 otherwise, as a kick by the service);
// - set-hats / remove-hats: XEP-0317 hats (hats.ts), the occupants' presence sent again.
// The actor is the service, which is not an occupant: notifications carry no <actor/>
// (it is optional everywhere in XEP-0045). Commands are authorised by the admin API, so
// the room's permission checks are skipped, not its invariants: the voice and moderator
// status of admins and owners cannot be revoked (§8.4: "a service MUST NOT allow the voice
// privileges of an admin or owner to be removed by anyone"; §9.7) → not-allowed; a room
// that has an owner keeps at least one (§10.5, §10.6) → conflict, except for remove-user
// (a deleted account must not stay owner); reserved nicks stay unique (§9.3) → conflict.
// Every handler checks before it changes anything, so a refusal leaves the room as it was.
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { commandRefusal, commandRefusalOf, type CommandRefusal } from '../errors.js';
import { configFromPatch } from '../config-patch.js';
import type { RoomCommand } from '../room-command.js';
import { occupantByNick } from '../nick.js';
import type { Occupant } from '../room-state.js';
import type { Turn } from '../turn.js';
import { applyAffiliation, checkAffiliationChanges, type AffiliationChange } from './affiliations.js';
import { announceConfigChange, applyConfig } from './config-form.js';
import { destroyRoom } from './destroy.js';
import { checkHats, DEFAULT_MAX_HATS_PER_USER, dropHats, hatsOf, setHats } from './hats.js';
import { removeOccupant } from './leave.js';
import { applyRoleChange } from './roles.js';

/** What a handler decided: success (with or without the room's snapshot) or a refusal. */
export type CommandOutcome = { ok: true; snapshot: boolean } | CommandRefusal;

type Op = RoomCommand['op'];
type CommandOf<K extends Op> = Extract<RoomCommand, { op: K }>;
type CommandHandler<K extends Op> = (t: Turn, command: CommandOf<K>) => CommandOutcome;

const withSnapshot: CommandOutcome = { ok: true, snapshot: true };
const done: CommandOutcome = { ok: true, snapshot: false };

function occupant(t: Turn, nick: string): Occupant | CommandRefusal {
  return occupantByNick(t.room, nick) ?? commandRefusal('item-not-found', `no occupant with nick ${JSON.stringify(nick)}`);
}

function isRefusal<T extends object>(v: T | CommandRefusal): v is CommandRefusal {
  return 'ok' in v && v.ok === false;
}

/**
 * `create`, on a new (locked, empty) room: the configuration over the defaults, persistent
 * unless `config.persistent` is false; unlocked at once; `owners` become owners. An empty
 * temporary room stays until an occupant has entered and left (leave.ts `closeIfEmpty`).
 */
const create: CommandHandler<'create'> = (t, c) => {
  const next = configFromPatch(t, t.room.config, { ...(c.config ?? {}), persistent: c.config?.persistent ?? true });
  if ('condition' in next) return commandRefusalOf(next);
  t.room.config = next;
  t.room.locked = false;
  for (const jid of c.owners ?? []) t.room.affiliations.set(jid, { affiliation: 'owner' });
  t.persist();
  t.log('info', 'room created', { by: 'command', owners: c.owners?.length ?? 0 });
  return withSnapshot;
};

const get: CommandHandler<'get'> = () => withSnapshot;

/** §10.2: like an owner's form submission (which also unlocks a locked room, §10.1.2). */
const configure: CommandHandler<'configure'> = (t, c) => {
  const next = configFromPatch(t, t.room.config, c.config);
  if ('condition' in next) return commandRefusalOf(next);
  const codes = applyConfig(t, next, undefined);
  if (codes !== undefined) announceConfigChange(t, codes);
  return withSnapshot;
};

const destroy: CommandHandler<'destroy'> = (t, c) => {
  destroyRoom(t, {
    ...(c.alternate === undefined ? {} : { jid: c.alternate }),
    ...(c.reason === undefined ? {} : { reason: c.reason }),
    ...(c.password === undefined ? {} : { password: c.password }),
  });
  return done;
};

/** §8.2, by the service: anyone may be kicked (owners and admins too; they may come back). */
const kick: CommandHandler<'kick'> = (t, c) => {
  const target = occupant(t, c.nick);
  if (isRefusal(target)) return target;
  applyRoleChange(t, { nick: target.nick, role: 'none', ...(c.reason === undefined ? {} : { reason: c.reason }) }, undefined);
  return withSnapshot;
};

const setRole: CommandHandler<'set-role'> = (t, c) => {
  const target = occupant(t, c.nick);
  if (isRefusal(target)) return target;
  if (target.role === c.role) return withSnapshot;
  const affiliation = t.affiliation(target.bareJid);
  if (affiliation === 'owner' || affiliation === 'admin') {
    return commandRefusal('not-allowed', 'the role of an admin or owner follows from the affiliation (XEP-0045 §8.4, §9.7)');
  }
  applyRoleChange(t, { nick: target.nick, role: c.role, ...(c.reason === undefined ? {} : { reason: c.reason }) }, undefined);
  return withSnapshot;
};

/** §9, §10: all items checked (room invariants only), then applied in order. */
const setAffiliations: CommandHandler<'set-affiliations'> = (t, c) => {
  const changes: AffiliationChange[] = c.items.map((i) => ({
    jid: i.jid,
    affiliation: i.affiliation,
    ...(i.nick === undefined ? {} : { nick: i.nick }),
    ...(i.reason === undefined ? {} : { reason: i.reason }),
  }));
  const refusal = checkAffiliationChanges(t, undefined, changes);
  if (refusal !== undefined) return commandRefusalOf(refusal);
  for (const change of changes) applyAffiliation(t, change, undefined);
  t.log('debug', 'admin changes applied', { items: changes.length, by: 'command' });
  return withSnapshot;
};

/**
 * A message from the room JID (no nick): groupchat to every occupant session, or a normal
 * message to every session of one occupant. Not part of the discussion history.
 */
const sendMessage: CommandHandler<'send-message'> = (t, c) => {
  let recipients: Occupant[] = [...t.room.occupants.values()];
  const type = c.nick === undefined ? 'groupchat' : 'normal';
  if (c.nick !== undefined) {
    const target = occupant(t, c.nick);
    if (isRefusal(target)) return target;
    recipients = [target];
  }
  for (const o of recipients) {
    for (const session of o.sessions) {
      const message = new Element('message', { xmlns: NS.CLIENT, from: t.roomJid, type });
      message.c('body').t(c.body);
      t.sendTo(session, message);
    }
  }
  return done;
};

/**
 * The account `jid` is gone. A stored affiliation becomes none: in a members-only room
 * its occupants are removed with 321 (§9.4), when absent the occupants who may see real
 * JIDs get the §10.6 message. Occupants still in the room are then removed like a kick
 * by the service (307), showing affiliation none. Succeeds when there was nothing to do.
 */
const removeUser: CommandHandler<'remove-user'> = (t, c) => {
  const present = (): Occupant[] => [...t.room.occupants.values()].filter((o) => o.bareJid === c.jid);
  if (t.room.affiliations.get(c.jid) !== undefined) {
    if (present().length === 0 || t.room.config.membersOnly) {
      applyAffiliation(t, { jid: c.jid, affiliation: 'none' }, undefined);
    } else {
      // They are removed below: one unavailable presence rather than an update, then a removal.
      t.room.affiliations.delete(c.jid);
      dropHats(t.room, c.jid);
      t.persist();
    }
  }
  for (const o of present()) {
    removeOccupant(t, o, { codes: ['307'], affiliation: t.affiliation(o.bareJid) }, { notifySelf: true });
  }
  t.log('info', 'user removed', { by: 'command' });
  return withSnapshot;
};

/** XEP-0317: checked against the room's bound first (features/hats.ts), then worn. */
const setHatsCommand: CommandHandler<'set-hats'> = (t, c) => {
  const hats = checkHats(c.hats, t.ctx.maxHatsPerUser ?? DEFAULT_MAX_HATS_PER_USER);
  if (!Array.isArray(hats)) return hats;
  return setHats(t, c.jid, hats) ?? withSnapshot;
};

/** XEP-0317: one hat (`uri`) or all of them off. */
const removeHats: CommandHandler<'remove-hats'> = (t, c) => {
  const current = hatsOf(t.room, c.jid);
  const rest = c.uri === undefined ? [] : current.filter((h) => h.uri !== c.uri);
  if (current.length === 0 || rest.length === current.length) {
    return commandRefusal('item-not-found', c.uri === undefined ? `${c.jid} wears no hats` : `${c.jid} does not wear the hat ${c.uri}`);
  }
  return setHats(t, c.jid, rest) ?? withSnapshot;
};

/** The handlers, by op. */
export const COMMANDS: { readonly [K in Op]: CommandHandler<K> } = {
  create,
  get,
  configure,
  destroy,
  kick,
  'set-role': setRole,
  'set-affiliations': setAffiliations,
  'send-message': sendMessage,
  'remove-user': removeUser,
  'set-hats': setHatsCommand,
  'remove-hats': removeHats,
};

/** Runs `command` against the turn's room (which exists; for `create`, a new room). */
export function runCommand(t: Turn, command: RoomCommand): CommandOutcome {
  const handler = COMMANDS[command.op] as CommandHandler<Op>;
  return handler(t, command);
}
