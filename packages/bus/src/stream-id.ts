// Redis stream entry ids, `<ms>-<seq>` (https://redis.io/docs/latest/develop/data-types/streams/).

/** Largest sequence number of a stream id (unsigned 64 bit). */
const MAX_SEQ = 18446744073709551615n;

/**
 * The smallest stream id after `id` (`<ms>-<seq + 1>`): `XTRIM … MINID` to it removes `id`
 * and everything before it, nothing after.
 */
export function nextStreamId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  // The largest sequence number (2^64 - 1, as prevStreamId makes) rolls over to the next millisecond.
  if (BigInt(seq) >= MAX_SEQ) return `${BigInt(ms) + 1n}-0`;
  return `${ms}-${BigInt(seq) + 1n}`;
}

/**
 * The greatest stream id before `id` (`id` itself for `0-0`): a cursor that says "everything
 * up to, not including, `id`" (`XRANGE (cursor` starts at `id`; `nextStreamId` gives `id` back).
 */
export function prevStreamId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  if (BigInt(seq) > 0n) return `${ms}-${BigInt(seq) - 1n}`;
  if (BigInt(ms) === 0n) return '0-0';
  return `${BigInt(ms) - 1n}-${MAX_SEQ}`;
}

/** The milliseconds part of a stream id (`<ms>-<seq>`): the Redis time its entry was added (XADD `*`). */
export function streamIdMs(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}

/** A Redis `TIME` reply (`[seconds, microseconds]`, as strings) in milliseconds since the epoch. */
export function redisTimeMs(time: readonly (string | number)[]): number {
  return Number(time[0] ?? 0) * 1000 + Math.floor(Number(time[1] ?? 0) / 1000);
}
