/*
 * Registers the offline data commands of xmppctl (issue #14 items 2 and 4):
 *
 *   xmppctl muc reshard --shards <n>    re-place every room for n shards (cluster stopped)
 *   xmppctl backup > file.jsonl         export the data set as JSON lines (backup-format.ts)
 *   xmppctl restore < file.jsonl        import a backup into an empty data set (cluster stopped)
 *
 * Refusals (cluster alive, data present, unapplied shard stream entries, a bad backup line)
 * throw, so xmppctl prints one line `xmppctl: <why>` and exits 1.
 */
import type { Command } from 'commander';
import type { Config } from '@parley/config';
import { backup, restore } from './backup.js';
import { err as progress, withRedis } from './ctl-context.js';
import { reshard } from './reshard.js';

/** Largest `--shards` accepted: `muc.shards`'s bound in @parley/config. */
const MAX_SHARDS = 4096;

/**
 * Adds `muc reshard`, `backup` and `restore` to `program`.
 * @param cfg - the configuration of the command being run (loaded once)
 * @param usage - makes the error that xmppctl reports as a usage error (exit 2)
 */
export function registerDataCommands(program: Command, cfg: (cmd: Command) => Config, usage: (message: string) => Error): void {
  program
    .command('muc')
    .description('multi-user chat service')
    .command('reshard')
    .description('re-place every room on the shards of a new muc.shards (cluster stopped; then start it with muc.shards = N)')
    .requiredOption('--shards <n>', `new number of shards (1-${MAX_SHARDS})`)
    .action(async (opts: { shards: string }, cmd: Command) => {
      if (!/^\d{1,4}$/.test(opts.shards) || Number(opts.shards) < 1 || Number(opts.shards) > MAX_SHARDS) throw usage(`--shards must be an integer from 1 to ${MAX_SHARDS}`);
      const c = cfg(cmd);
      await withRedis(c, (redis, keys) => reshard(redis, keys, c, Number(opts.shards), progress));
    });
  program
    .command('backup')
    .description('write accounts, rosters, account data, rooms and archives to standard output as JSON lines (stop the cluster first for a consistent copy)')
    .action(async (_opts: unknown, cmd: Command) => {
      const c = cfg(cmd);
      const r = await withRedis(c, (redis, keys) => backup(redis, keys, c, process.stdout));
      progress(`backed up ${r.accounts} accounts and ${r.rooms} rooms (${r.records} records)`);
    });
  program
    .command('restore')
    .description('read a backup from standard input into an empty data set (cluster stopped)')
    .action(async (_opts: unknown, cmd: Command) => {
      const c = cfg(cmd);
      const r = await withRedis(c, (redis, keys) => restore(redis, keys, c, process.stdin, progress));
      progress(`restored ${r.accounts} accounts and ${r.rooms} rooms (${r.records} records); rooms placed for muc.shards ${c.muc.shards}`);
    });
}
