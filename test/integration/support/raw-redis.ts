import { createConnection } from 'node:net';

/**
 * Sends raw RESP commands (inline form) to the Redis on 127.0.0.1:`port` over a fresh
 * connection, without authenticating; resolves with the server's first `count` reply lines.
 * @throws Error when fewer than `count` lines arrive within 5 s.
 */
export function rawRedis(port: number, commands: string[], count = commands.length): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no ${count} replies from Redis: ${JSON.stringify(got)}`));
    }, 5000);
    sock.once('connect', () => sock.write(commands.map((c) => `${c}\r\n`).join('')));
    sock.on('data', (d: Buffer) => {
      got += d.toString('utf8');
      const lines = got.split('\r\n').filter(Boolean);
      if (lines.length >= count) {
        clearTimeout(timer);
        sock.destroy();
        resolve(lines.slice(0, count));
      }
    });
    sock.once('error', reject);
  });
}
