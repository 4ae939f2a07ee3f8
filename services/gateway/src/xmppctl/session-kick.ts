/*
 * `xmppctl session kick <full-jid> [--reason <text>] [--condition <stream-error>]` (issue #14
 * item 4): ends one session with a stream error (RFC 6120 §4.9.3; default
 * `policy-violation`), through the holding gateway's delivery stream (Sessions of
 * @parley/control, as `DELETE /v1/sessions/{jid}` of the admin API does), whichever gateway
 * holds it. Exit 1 when no such session is bound; 2 for a JID without a resource or an
 * unknown condition.
 */
import type { Command } from 'commander';
import { Sessions } from '@parley/control';
import { tryParseJid } from '@parley/jid';
import { err, out, withRedis, type CtlContext } from './ctl-context.js';

/** The stream error conditions an operator may end a session with (as the admin API's kick). */
const CONDITIONS = ['policy-violation', 'not-authorized', 'reset', 'system-shutdown', 'conflict'] as const;
/** Longest `--reason`, in UTF-8 bytes. */
const MAX_REASON_BYTES = 1024;

/** Adds `kick` to the existing `session` command group (or creates the group). */
export function registerSessionKick(program: Command, ctx: CtlContext): void {
  const session = program.commands.find((c) => c.name() === 'session') ?? program.command('session').description('sessions');
  session
    .command('kick <full-jid>')
    .description('end a session with a stream error (RFC 6120 §4.9.3), on whichever gateway holds it')
    .option('--reason <text>', 'text of the stream error')
    .option('--condition <condition>', `stream error condition: ${CONDITIONS.join(', ')}`, 'policy-violation')
    .action(async (jid: string, opts: { reason?: string; condition: string }, cmd: Command) => {
      const c = ctx.cfg(cmd);
      const full = tryParseJid(jid);
      if (!full || full.local === undefined || full.resource === undefined) throw ctx.usage(`not a full JID (user@host/resource): ${JSON.stringify(jid)}`);
      if (!(CONDITIONS as readonly string[]).includes(opts.condition)) throw ctx.usage(`--condition must be one of ${CONDITIONS.join(', ')}`);
      if (opts.reason !== undefined && Buffer.byteLength(opts.reason, 'utf8') > MAX_REASON_BYTES) throw ctx.usage(`--reason is longer than ${MAX_REASON_BYTES} bytes`);
      const kicked = await withRedis(c, async (redis, keys) => {
        const sessions = new Sessions(redis, keys);
        const target = (await sessions.ofUser(full.bare().toString())).find((s) => s.resource === full.resource);
        return target ? sessions.kick(target, opts.condition, opts.reason) : false;
      });
      if (kicked) out(`kicked ${full.toString()}`);
      else {
        err(`no session ${full.toString()}`);
        ctx.exit(1);
      }
    });
}
