// Redis stream entry ids, `<ms>-<seq>` (https://redis.io/docs/latest/develop/data-types/streams/).

/**
 * The smallest stream id after `id` (`<ms>-<seq + 1>`): `XTRIM … MINID` to it removes `id`
 * and everything before it, nothing after.
 */
export function nextStreamId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  return `${ms}-${BigInt(seq) + 1n}`;
}
