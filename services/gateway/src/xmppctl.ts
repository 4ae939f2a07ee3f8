#!/usr/bin/env node
/**
 * xmppctl: manage accounts and inspect sessions in a parley cluster's Redis.
 *
 *   xmppctl user add <jid>       (password: prompted without echo on a terminal, else the first line of stdin)
 *   xmppctl user passwd <jid>
 *   xmppctl user delete <jid>
 *   xmppctl user list
 *   xmppctl session list
 *   xmppctl session kick <full-jid> [--reason <text>] [--condition <stream-error>]
 *   xmppctl room list | create <room-jid> [--name --members-only --temporary --owner <jid>] | destroy <room-jid> [--reason --alternate] | occupants <room-jid>
 *   xmppctl status [--json]    (gateways, workers, shard owners, Redis, schema version; exit 1 when degraded)
 *   xmppctl check              (config, certificate files, Redis reachable and authenticated; exit 0 ok, 1 failed, 78 bad config)
 *   xmppctl muc reshard --shards <n>   (cluster stopped; see xmppctl/data-commands.ts)
 *   xmppctl backup > file.jsonl / xmppctl restore < file.jsonl
 *
 * Reads the same configuration as the gateway (`--config`, PARLEY_CONFIG, REDIS_URL,
 * PARLEY_REDIS_KEY_PREFIX, ...). Exit codes: 0 done, 1 refused (e.g. the account exists),
 * 2 bad arguments, 78 bad configuration.
 *
 * Passwords never come from the command line (issue #10: argv is visible to every local user
 * in `ps` and /proc, and lands in shell history): `--password` was removed and is refused
 * with exit 2.
 */
import { Command, CommanderError } from 'commander';
import { read } from 'read';
import { Redis } from 'ioredis';
import { keySpace, parseSessionRecord } from '@parley/bus';
import { ConfigError, loadConfig, type Config } from '@parley/config';
import { tryParseJid } from '@parley/jid';
import { AccountStore } from '@parley/accounts';
import { createRedis } from '@parley/service-runtime';
import { registerDataCommands } from './xmppctl/data-commands.js';
import { registerOpsCommands } from './xmppctl/ops-commands.js';

class UsageError extends Error {}

function accountJid(input: string, config: Config): string {
  const jid = tryParseJid(input);
  if (!jid || jid.local === undefined || jid.resource !== undefined) throw new UsageError(`not a bare JID of an account: ${JSON.stringify(input)}`);
  if (!config.hosts.includes(jid.domain)) throw new UsageError(`${jid.domain} is not one of the served hosts (${config.hosts.join(', ')})`);
  return jid.toString();
}

/** Longest password accepted, in UTF-8 bytes (the stdin read stops there). */
const MAX_PASSWORD_BYTES = 1024;

/** Reads standard input up to its end or {@link MAX_PASSWORD_BYTES} + 2 bytes; the first line is the password. */
async function passwordFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > MAX_PASSWORD_BYTES + 2) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const nl = text.search(/\r?\n/);
  return nl < 0 ? text : text.slice(0, nl);
}

/**
 * The password: typed at a prompt without echo (twice) when standard input is a terminal,
 * otherwise the first line of standard input (e.g. `printf '%s\n' "$PW" | xmppctl user add ...`).
 * @throws UsageError when empty, longer than {@link MAX_PASSWORD_BYTES}, or the two typings differ
 */
async function readPassword(jid: string): Promise<string> {
  let password: string;
  if (process.stdin.isTTY) {
    password = await read({ prompt: `Password for ${jid}: `, silent: true, replace: '', output: process.stderr });
    const again = await read({ prompt: 'Again: ', silent: true, replace: '', output: process.stderr });
    if (again !== password) throw new UsageError('the passwords differ');
  } else {
    password = await passwordFromStdin();
  }
  if (password.length === 0) throw new UsageError('the password must not be empty (type it at the prompt, or give it as the first line of standard input)');
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) throw new UsageError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  return password;
}

/** Refuses the removed `--password` option with an explanation (exit 2). */
function refusePasswordArgument(argv: readonly string[]): void {
  if (argv.some((a) => a === '--password' || a.startsWith('--password='))) {
    throw new UsageError('--password was removed: a password on the command line is visible to other users (ps, /proc) and in shell history; type it at the prompt or give it on standard input');
  }
}

async function withStore<T>(config: Config, fn: (store: AccountStore, redis: Redis) => Promise<T>): Promise<T> {
  const redis = createRedis(config.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    return await fn(new AccountStore(redis, keySpace(config.redis.keyPrefix), config.auth.scramIterations), redis);
  } finally {
    redis.disconnect();
  }
}

async function main(argv: string[]): Promise<number> {
  let config: Config | undefined;
  const cfg = (cmd: Command): Config => {
    const file = (cmd.optsWithGlobals() as { config?: string }).config ?? process.env.PARLEY_CONFIG;
    config ??= loadConfig(file === undefined ? {} : { file });
    return config;
  };
  let code = 0;
  const program = new Command('xmppctl')
    .description('Manage accounts and inspect sessions of a parley cluster')
    .option('--config <file>', 'JSON or YAML configuration file (default: $PARLEY_CONFIG)')
    .exitOverride();
  const user = program.command('user').description('accounts');
  user
    .command('add <jid>')
    .description('create an account')
    .option('--password-stdin', 'read the password from standard input (the default when it is not a terminal)')
    .action(async (jid: string, _opts: unknown, cmd: Command) => {
      const c = cfg(cmd);
      const bare = accountJid(jid, c);
      const password = await readPassword(bare);
      const created = await withStore(c, (s) => s.create(bare, password));
      if (created) process.stdout.write(`created ${bare}\n`);
      else {
        process.stderr.write(`xmppctl: ${bare} exists already\n`);
        code = 1;
      }
    });
  user
    .command('passwd <jid>')
    .description('change the password of an account')
    .option('--password-stdin', 'read the new password from standard input (the default when it is not a terminal)')
    .action(async (jid: string, _opts: unknown, cmd: Command) => {
      const c = cfg(cmd);
      const bare = accountJid(jid, c);
      const password = await readPassword(bare);
      if (await withStore(c, (s) => s.setPassword(bare, password))) process.stdout.write(`password changed for ${bare}\n`);
      else {
        process.stderr.write(`xmppctl: no account ${bare}\n`);
        code = 1;
      }
    });
  user
    .command('delete <jid>')
    .description('delete an account and its offline messages')
    .action(async (jid: string, _opts: unknown, cmd: Command) => {
      const c = cfg(cmd);
      const bare = accountJid(jid, c);
      if (await withStore(c, (s) => s.delete(bare))) process.stdout.write(`deleted ${bare}\n`);
      else {
        process.stderr.write(`xmppctl: no account ${bare}\n`);
        code = 1;
      }
    });
  user
    .command('list')
    .description('list every account, one bare JID per line')
    .action(async (_opts: unknown, cmd: Command) => {
      for (const jid of await withStore(cfg(cmd), (s) => s.list())) process.stdout.write(`${jid}\n`);
    });
  program
    .command('session')
    .description('sessions')
    .command('list')
    .description('list bound sessions: full JID, gateway, available, priority, transport')
    .action(async (_opts: unknown, cmd: Command) => {
      const c = cfg(cmd);
      const keys = keySpace(c.redis.keyPrefix);
      await withStore(c, async (_s, redis) => {
        for (const gw of await redis.zrange(keys.gateways(), 0, '-1')) {
          for (const full of (await redis.smembers(keys.gatewaySessions(gw))).sort()) {
            const slash = full.indexOf('/');
            const rec = parseSessionRecord(await redis.hget(keys.userSessions(full.slice(0, slash)), full.slice(slash + 1)));
            if (rec && rec.gateway === gw) {
              process.stdout.write(`${full}\t${gw}\t${rec.available ? 'available' : 'unavailable'}\t${rec.priority}\t${rec.transport}\n`);
            }
          }
        }
      });
    });

  registerDataCommands(program, cfg, (message) => new UsageError(message));
  registerOpsCommands(program, { cfg, usage: (message) => new UsageError(message), exit: (n) => void (code = n) });

  try {
    refusePasswordArgument(argv);
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      process.stderr.write(`xmppctl: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`xmppctl: ${err.message}\n`);
      return 78;
    }
    process.stderr.write(`xmppctl: ${(err as Error).message}\n`);
    return 1;
  }
  return code;
}

process.exitCode = await main(process.argv.slice(2));
