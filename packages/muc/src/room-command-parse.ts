// Admin commands arrive as JSON (issue #4): before a command touches the room its shape is
// checked and its addresses normalised here, so a malformed object is refused with
// `bad-request` instead of failing halfway. JIDs are parsed (RFC 7622) and reduced to bare
// JIDs (affiliations are per bare JID, XEP-0045 §5.2), except the alternate venue of a
// destruction (§10.9, kept as given); nicks are enforced per RFC 8266 (nick.ts), and the
// room finds an occupant by any equivalent form of its nick. Configuration values are checked
// by the features themselves (config-patch.ts).
import { tryParseJid } from '@parley/jid';
import { commandRefusal, type CommandRefusal } from './errors.js';
import { prepareNick } from './nick.js';
import type { RoomCommand } from './room-command.js';
import type { RoomConfig } from './room-config.js';
import type { Affiliation, Hat, Role } from './room-state.js';

/** A checked command, or why it is malformed. */
export type ParsedCommand = { ok: true; command: RoomCommand } | CommandRefusal;

const AFFILIATIONS: readonly Affiliation[] = ['owner', 'admin', 'member', 'none', 'outcast'];
const ROLES: readonly Exclude<Role, 'none'>[] = ['moderator', 'participant', 'visitor'];

type Obj = Record<string, unknown>;

/** Thrown inside this file only, caught by {@link parseRoomCommand}. */
class Malformed extends Error {}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(o: Obj, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Malformed(`${key} must be a string`);
  return v;
}

function reqString(o: Obj, key: string): string {
  const v = optString(o, key);
  if (v === undefined || v === '') throw new Malformed(`${key} is required`);
  return v;
}

function nick(value: string, key: string): string {
  const n = prepareNick(value);
  if (n === undefined) throw new Malformed(`${key} is not a valid nick (RFC 8266)`);
  return n.nick;
}

function bareJid(value: string, key: string): string {
  const jid = tryParseJid(value);
  if (jid === undefined) throw new Malformed(`${key} is not a valid JID`);
  return jid.bare().toString();
}

function reason(o: Obj): { reason?: string } {
  const r = optString(o, 'reason');
  return r === undefined ? {} : { reason: r };
}

function config(o: Obj, key: string): Partial<RoomConfig> {
  const v = o[key];
  if (!isObject(v)) throw new Malformed(`${key} must be an object`);
  return v as Partial<RoomConfig>;
}

function parseItem(v: unknown): Extract<RoomCommand, { op: 'set-affiliations' }>['items'][number] {
  if (!isObject(v)) throw new Malformed('each item must be an object');
  const affiliation = v.affiliation;
  if (typeof affiliation !== 'string' || !AFFILIATIONS.includes(affiliation as Affiliation)) {
    throw new Malformed('item affiliation must be one of owner, admin, member, none, outcast');
  }
  const n = optString(v, 'nick');
  return {
    jid: bareJid(reqString(v, 'jid'), 'item jid'),
    affiliation: affiliation as Affiliation,
    ...reason(v),
    ...(n === undefined ? {} : { nick: n === '' ? '' : nick(n, 'item nick') }),
  };
}

function parse(raw: Obj): RoomCommand {
  const op = raw.op;
  switch (op) {
    case 'create': {
      const owners = raw.owners;
      if (owners !== undefined && !Array.isArray(owners)) throw new Malformed('owners must be an array of JIDs');
      return {
        op,
        ...(raw.config === undefined ? {} : { config: config(raw, 'config') }),
        ...(owners === undefined
          ? {}
          : {
              owners: owners.map((o: unknown) => {
                if (typeof o !== 'string') throw new Malformed('owners must be an array of JIDs');
                return bareJid(o, 'owner');
              }),
            }),
      };
    }
    case 'get':
      return { op };
    case 'configure':
      return { op, config: config(raw, 'config') };
    case 'destroy': {
      const alternate = optString(raw, 'alternate');
      const password = optString(raw, 'password');
      let venue: string | undefined;
      if (alternate !== undefined) {
        const jid = tryParseJid(alternate);
        if (jid === undefined) throw new Malformed('alternate is not a valid JID');
        venue = jid.toString();
      }
      return {
        op,
        ...reason(raw),
        ...(venue === undefined ? {} : { alternate: venue }),
        ...(password === undefined ? {} : { password }),
      };
    }
    case 'kick':
      return { op, nick: nick(reqString(raw, 'nick'), 'nick'), ...reason(raw) };
    case 'set-role': {
      const role = raw.role;
      if (typeof role !== 'string' || !ROLES.includes(role as Exclude<Role, 'none'>)) {
        throw new Malformed('role must be one of moderator, participant, visitor (use kick for none)');
      }
      return { op, nick: nick(reqString(raw, 'nick'), 'nick'), role: role as Exclude<Role, 'none'>, ...reason(raw) };
    }
    case 'set-affiliations': {
      const items = raw.items;
      if (!Array.isArray(items) || items.length === 0) throw new Malformed('items must be a non-empty array');
      return { op, items: items.map(parseItem) };
    }
    case 'send-message': {
      const to = optString(raw, 'nick');
      return { op, body: reqString(raw, 'body'), ...(to === undefined ? {} : { nick: nick(to, 'nick') }) };
    }
    case 'remove-user':
      return { op, jid: bareJid(reqString(raw, 'jid'), 'jid') };
    case 'set-hats': {
      // The hats themselves are checked by the room (features/hats.ts `checkHats`: its bound is a setting).
      if (!Array.isArray(raw.hats)) throw new Malformed('hats must be an array');
      return { op, jid: bareJid(reqString(raw, 'jid'), 'jid'), hats: raw.hats as Hat[] };
    }
    case 'remove-hats': {
      const uri = optString(raw, 'uri');
      return { op, jid: bareJid(reqString(raw, 'jid'), 'jid'), ...(uri === undefined || uri === '' ? {} : { uri }) };
    }
    default:
      throw new Malformed(typeof op === 'string' ? `unknown op ${JSON.stringify(op)}` : 'op is required');
  }
}

/**
 * Checks a command received as JSON and normalises its JIDs and nicks.
 * @returns the command, or a `bad-request` refusal saying what is wrong.
 */
export function parseRoomCommand(raw: unknown): ParsedCommand {
  if (!isObject(raw)) return commandRefusal('bad-request', 'command must be an object');
  try {
    return { ok: true, command: parse(raw) };
  } catch (err) {
    if (err instanceof Malformed) return commandRefusal('bad-request', err.message);
    throw err;
  }
}
