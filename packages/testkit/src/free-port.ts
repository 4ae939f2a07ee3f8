import { createServer } from 'node:net';

/**
 * Ports below Linux's default ephemeral range (`net.ipv4.ip_local_port_range`, 32768–60999).
 * A port the kernel hands out for `listen(0)` or for an outgoing connection's local end is
 * from that range, so a port picked there and released can be taken again by any process
 * before the test's server binds it (a launcher's room workers open a dozen Redis
 * connections while its gateways start). Ports below it are only ever taken on purpose.
 */
const LOW = 20_000;
const HIGH = 32_767;
const ATTEMPTS = 200;
/** Ports this process handed out already: two calls never return the same port. */
const handedOut = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago; see {@link freePorts}.
 */
export async function freePort(): Promise<number> {
  return freePorts(1);
}

/**
 * The first of `count` consecutive TCP ports on 127.0.0.1 (count ≥ 1) that could all be
 * bound a moment ago, picked at random in 20000–32767 (below the kernel's ephemeral range,
 * so no outgoing connection takes one meanwhile). A launcher given a base port uses the
 * following ones for its other gateways. No two calls in one process return overlapping
 * runs; another test process may still pick the same port, so that is a small chance, not
 * a guarantee.
 *
 * @throws Error when no such run was found in 200 random tries.
 */
export async function freePorts(count: number): Promise<number> {
  if (!Number.isInteger(count) || count < 1 || count > 100) throw new RangeError(`freePorts: count ${count} is not 1..100`);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW + 2 - count));
    let free = true;
    for (let p = base; p < base + count && free; p++) free = !handedOut.has(p) && (await bindable(p));
    if (!free) continue;
    for (let p = base; p < base + count; p++) handedOut.add(p);
    return base;
  }
  throw new Error(`freePorts: no ${count} consecutive free ports in ${LOW}-${HIGH}`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
