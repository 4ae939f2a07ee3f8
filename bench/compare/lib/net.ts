// Loopback ports for the servers under test: free ones to listen on, and waiting until a
// server accepts connections on its c2s port.
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Whether `port` on 127.0.0.1 can be bound right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A free TCP port on 127.0.0.1 (the testkit's). */
export { freePort } from '../../../packages/testkit/src/index.js';

/**
 * The first of `count` consecutive free ports on 127.0.0.1 (for launchers that take a base
 * port and use the next ones), searched from 20000 upwards in steps of 17.
 */
export async function freePortRange(count: number, from = 20000): Promise<number> {
  for (let base = from; base + count < 60000; base += 17) {
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await canBind(p);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

/** Resolves when a TCP connection to 127.0.0.1:`port` succeeds. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    sock.setTimeout(1000);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
  });
}

/**
 * Waits until 127.0.0.1:`port` accepts connections.
 * @param alive called between attempts; when it returns a string (why the server is gone), waiting stops with that error
 * @throws Error after `timeoutMs`, or when `alive` reports the server gone
 */
export async function waitForPort(port: number, timeoutMs: number, alive: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await accepts(port)) return;
    const dead = alive();
    if (dead !== undefined) throw new Error(dead);
    if (Date.now() > deadline) throw new Error(`nothing accepts connections on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}
