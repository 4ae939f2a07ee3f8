// Redis stream entry ids, `<ms>-<seq>` (https://redis.io/docs/latest/develop/data-types/streams/).

/**
 * The smallest stream id after `id` (`<ms>-<seq + 1>`): `XTRIM … MINID` to it removes `id`
 * and everything before it, nothing after.
 */
export function nextStreamId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  return `${ms}-${BigInt(seq) + 1n}`;
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
