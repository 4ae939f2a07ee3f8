/*
 * `xmppctl room ...` (issue #14 item 4): the rooms of the MUC service, through the same room
 * commands the admin API sends (RoomCommands of @parley/control: a command over the room's
 * shard stream, applied by the room's actor in turn with its stanzas, XEP-0045 semantics).
 *
 *   xmppctl room list                       jid, occupants, name (tab-separated), sorted by JID
 *   xmppctl room create <room-jid> [--name <text>] [--members-only] [--temporary] [--owner <jid>...]
 *   xmppctl room destroy <room-jid> [--reason <text>] [--alternate <jid>]   (XEP-0045 §10.9)
 *   xmppctl room occupants <room-jid>       nick, bare JID, role, affiliation (tab-separated)
 *
 * Exit 1 when the room refuses (exists already: `conflict`; no such room: `item-not-found`)
 * or does not answer within `adminApi.commandTimeoutMs` (no room worker holds its shard);
 * exit 2 for a JID that is not a room of `mucDomain`.
 */
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import type { KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import { readRoomDirectory, RoomCommands } from '@parley/control';
import { tryParseJid } from '@parley/jid';
import type { CommandResult, RoomCommand, RoomConfig, RoomSnapshot } from '@parley/muc';
import { err, out, withRedis, type CtlContext } from './ctl-context.js';

/** Longest `--reason` / `--name`, in UTF-8 bytes (the admin API's limits). */
const MAX_TEXT_BYTES = 1024;
/** Most `--owner` options. */
const MAX_OWNERS = 100;

/** A room's bare JID on the MUC service, normalised. @throws the usage error */
function roomJid(input: string, config: Config, ctx: CtlContext): string {
  const jid = tryParseJid(input);
  if (!jid || jid.local === undefined || jid.resource !== undefined) throw ctx.usage(`not a bare room JID: ${JSON.stringify(input)}`);
  if (jid.domain !== config.mucDomain) throw ctx.usage(`${jid.domain} is not the MUC service (${config.mucDomain})`);
  return jid.toString();
}

function text(value: string | undefined, option: string, ctx: CtlContext): string | undefined {
  if (value !== undefined && Buffer.byteLength(value, 'utf8') > MAX_TEXT_BYTES) throw ctx.usage(`${option} is longer than ${MAX_TEXT_BYTES} bytes`);
  return value;
}

/** Sends one command and returns its snapshot; a refusal sets exit 1 and returns undefined. */
async function send(redis: Redis, keys: KeySpace, config: Config, room: string, command: RoomCommand, ctx: CtlContext): Promise<{ ok: boolean; room?: RoomSnapshot }> {
  const rooms = new RoomCommands(redis, keys, { shards: config.muc.shards, timeoutMs: config.adminApi.commandTimeoutMs });
  const result: CommandResult = await rooms.send(room, command);
  if (result.ok) return result.room ? { ok: true, room: result.room } : { ok: true };
  const why = result.error === 'item-not-found' ? `no room ${room}` : result.error === 'conflict' ? `${room} exists already` : `${command.op} refused (${result.error})`;
  err(result.message ? `${why}: ${result.message}` : why);
  ctx.exit(1);
  return { ok: false };
}

/** Adds the `room` command group to `program`. */
export function registerRoomCommands(program: Command, ctx: CtlContext): void {
  const room = program.command('room').description('rooms of the MUC service (XEP-0045)');
  room
    .command('list')
    .description('list rooms: JID, occupants, name (tab-separated), sorted by JID')
    .action(async (_opts: unknown, cmd: Command) => {
      const c = ctx.cfg(cmd);
      for (const s of await withRedis(c, (redis, keys) => readRoomDirectory(redis, keys))) out(`${s.jid}\t${s.occupants}\t${s.name}`);
    });
  room
    .command('create <room-jid>')
    .description('create a room, configured and unlocked (XEP-0045 §10.1.3), persistent unless --temporary')
    .option('--name <text>', 'muc#roomconfig_roomname')
    .option('--members-only', 'muc#roomconfig_membersonly')
    .option('--temporary', 'not persistent: destroyed when the last occupant leaves')
    .option('--owner <jid>', 'a bare JID made owner (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (jid: string, opts: { name?: string; membersOnly?: boolean; temporary?: boolean; owner: string[] }, cmd: Command) => {
      const c = ctx.cfg(cmd);
      const bare = roomJid(jid, c, ctx);
      if (opts.owner.length > MAX_OWNERS) throw ctx.usage(`at most ${MAX_OWNERS} --owner`);
      const owners = opts.owner.map((o) => {
        const j = tryParseJid(o);
        if (!j || j.local === undefined || j.resource !== undefined) throw ctx.usage(`--owner: not a bare JID: ${JSON.stringify(o)}`);
        return j.toString();
      });
      const config: Partial<RoomConfig> = {};
      const name = text(opts.name, '--name', ctx);
      if (name !== undefined) config.name = name;
      if (opts.membersOnly) config.membersOnly = true;
      if (opts.temporary) config.persistent = false;
      const r = await withRedis(c, (redis, keys) =>
        send(redis, keys, c, bare, { op: 'create', ...(Object.keys(config).length ? { config } : {}), ...(owners.length ? { owners } : {}) }, ctx),
      );
      if (r.ok) out(`created ${bare}`);
    });
  room
    .command('destroy <room-jid>')
    .description('destroy a room: occupants get unavailable presence with <destroy/> (XEP-0045 §10.9)')
    .option('--reason <text>', 'why, shown to the occupants')
    .option('--alternate <jid>', 'JID of an alternate venue')
    .action(async (jid: string, opts: { reason?: string; alternate?: string }, cmd: Command) => {
      const c = ctx.cfg(cmd);
      const bare = roomJid(jid, c, ctx);
      const reason = text(opts.reason, '--reason', ctx);
      let alternate: string | undefined;
      if (opts.alternate !== undefined) {
        const j = tryParseJid(opts.alternate);
        if (!j || j.resource !== undefined) throw ctx.usage(`--alternate: not a bare JID: ${JSON.stringify(opts.alternate)}`);
        alternate = j.toString();
      }
      const r = await withRedis(c, (redis, keys) =>
        send(redis, keys, c, bare, { op: 'destroy', ...(reason !== undefined ? { reason } : {}), ...(alternate !== undefined ? { alternate } : {}) }, ctx),
      );
      if (r.ok) out(`destroyed ${bare}`);
    });
  room
    .command('occupants <room-jid>')
    .description("list a room's occupants: nick, bare JID, role, affiliation (tab-separated), in join order")
    .action(async (jid: string, _opts: unknown, cmd: Command) => {
      const c = ctx.cfg(cmd);
      const bare = roomJid(jid, c, ctx);
      const r = await withRedis(c, (redis, keys) => send(redis, keys, c, bare, { op: 'get' }, ctx));
      for (const o of r.room?.occupants ?? []) out(`${o.nick}\t${o.jid}\t${o.role}\t${o.affiliation}`);
    });
}
