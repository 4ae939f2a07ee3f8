/*
 * The turn loop's XREAD of its held shard streams (turn-loop.ts), as an ioredis command whose
 * RESP text (the Redis protocol, RESP2 "array of bulk strings" request) is built with one
 * join. ioredis's own `Command.toWritable` concatenates every argument into a rope (`"$" +
 * bytes + "\r\n" + arg + "\r\n"`, ~150 bytes of garbage per argument); this XREAD names every
 * held shard's stream and cursor (131 arguments with 64 shards) and ends every turn: at 2,000
 * deliveries/s in 100 rooms that was a fifth of the room worker's allocation (issue #15,
 * bench/results/allocations-2026-12-07.md). Each stream key's part is made once.
 */
import { Command } from 'ioredis';

/** The RESP part of each stream key, `$<bytes>\r\n<key>\r\n`; keys are the shard streams (`KeySpace.shardStream`), so at most `muc.shards`. */
const bulkKeys = new Map<string, string>();

function bulkKey(key: string): string {
  let bulk = bulkKeys.get(key);
  if (bulk === undefined) bulkKeys.set(key, (bulk = `$${Buffer.byteLength(key)}\r\n${key}\r\n`));
  return bulk;
}

/**
 * `XREAD COUNT <count> [BLOCK <blockMs>] STREAMS <key>… <cursor>…`: an ioredis `Command`
 * (send it with `sendCommand` on a client or a pipeline) whose reply is XREAD's as ioredis's
 * `xread` gives it (the same command name, so the same reply mapping). Its arguments are
 * kept as usual (for ioredis's debug output); only their serialisation differs, and gives
 * the same bytes as ioredis's (test/xread-command.test.ts). Not for a client with ioredis's
 * own `keyPrefix` option (the keys would go out without it); this service's clients have none.
 * @param count - entries per stream at most
 * @param blockMs - how long Redis may wait for an entry, ms; undefined: no BLOCK (a poll)
 * @param keys - stream keys
 * @param cursors - per key, the id after which to read (stream ids: ASCII)
 */
export function xreadCommand(count: number, blockMs: number | undefined, keys: readonly string[], cursors: readonly string[]): Command {
  const head: Array<string | number> = blockMs === undefined ? ['COUNT', count, 'STREAMS'] : ['COUNT', count, 'BLOCK', blockMs, 'STREAMS'];
  const parts: string[] = [`*${1 + head.length + keys.length + cursors.length}\r\n$5\r\nxread\r\n`];
  for (const arg of head) {
    const text = String(arg);
    parts.push(`$${text.length}\r\n${text}\r\n`);
  }
  for (const key of keys) parts.push(bulkKey(key));
  for (const cursor of cursors) parts.push('$', String(cursor.length), '\r\n', cursor, '\r\n');
  return new RawXread(parts.join(''), [head, keys, cursors]);
}

/** An XREAD with its RESP text made beforehand (see {@link xreadCommand}). */
class RawXread extends Command {
  constructor(
    private readonly text: string,
    args: ReadonlyArray<ReadonlyArray<string | number>>,
  ) {
    // ioredis flattens the argument lists one level; replies as text, as its `xread` gives them.
    super('xread', args as unknown as Array<string | number>, { replyEncoding: 'utf8' });
  }

  override toWritable(): string {
    return this.text;
  }
}
