#!/usr/bin/env node
/**
 * The local cluster launcher: one command, in the foreground, starts a complete cluster:
 * its own redis-server (unless --redis-url or REDIS_URL is given) and N gateway processes
 * on consecutive ports. Children's JSON logs are pretty-printed here. A line containing
 * READY is printed once every process accepts connections; SIGINT/SIGTERM stop
 * everything cleanly (gateways first, then Redis).
 *
 *   npm run cluster -- --gateways 2 --c2s-port 5222 --open-auth
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { PinoPretty } from 'pino-pretty';
import { startRedis, type RedisChild } from './redis-server.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const gatewayMain = join(repoRoot, 'services', 'gateway', 'dist', 'main.js');

const int = (name: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

const program = new Command('cluster')
  .description('Start a complete local parley cluster in the foreground')
  .option('--gateways <n>', 'gateway processes', int('--gateways', 1, 64), 2)
  .option('--c2s-port <port>', 'c2s port of the first gateway; the others use the next ports', int('--c2s-port', 1, 65535), 5222)
  .option('--ws-port <port>', 'WebSocket port of the first gateway; the others use the next ports', int('--ws-port', 1, 65535), 5280)
  .option('--open-auth', 'TEST ONLY: any user logs in with any password (PLAIN allowed without TLS)', false)
  .option('--redis-url <url>', 'use this Redis instead of starting one (default: $REDIS_URL)')
  .option('--data-dir <dir>', 'where the launched redis-server keeps its data', join(repoRoot, '.data', 'redis'))
  .option('--config <file>', 'JSON configuration file passed to every process')
  .option('--json', 'print the children\'s JSON log lines as they are instead of pretty-printing them', false);
program.parse();
const opts = program.opts<{
  gateways: number; c2sPort: number; wsPort: number; openAuth: boolean; redisUrl?: string; dataDir: string; config?: string; json: boolean;
}>();

// pino-pretty writes to stdout itself (destination 1); with --json the lines pass through.
const pretty = opts.json ? process.stdout : PinoPretty({ colorize: process.stdout.isTTY, translateTime: 'HH:MM:ss.l', ignore: 'hostname', destination: 1, sync: true });
const say = (msg: string) => process.stdout.write(`[cluster] ${msg}\n`);

let redis: RedisChild | undefined;
const children: ChildProcess[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  stopping = true;
  say('stopping');
  await Promise.all(
    children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
      setTimeout(() => c.kill('SIGKILL'), 8000).unref();
    })),
  );
  await redis?.stop();
  say('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

function startGateway(index: number, redisUrl: string): Promise<{ c2sPort: number; wsPort: number; gatewayId: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl,
    PARLEY_C2S_PORT: String(opts.c2sPort + index),
    PARLEY_WS_PORT: String(opts.wsPort + index),
  };
  if (opts.config) env.PARLEY_CONFIG = opts.config;
  if (opts.openAuth) {
    env.PARLEY_AUTH_BACKEND = 'open-insecure-test-only';
    env.PARLEY_ALLOW_PLAIN_WITHOUT_TLS = 'true';
  }
  const child = spawn(process.execPath, [gatewayMain], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      pretty.write(`${line}\n`);
      try {
        const rec = JSON.parse(line) as { msg?: string; c2sPort?: number; wsPort?: number; gatewayId?: string };
        if (rec.msg === 'gateway ready') resolve({ c2sPort: rec.c2sPort!, wsPort: rec.wsPort!, gatewayId: rec.gatewayId! });
      } catch {
        // not a log line; printed as is
      }
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`gateway ${index} exited before it was ready (${signal ?? code})`));
      if (!stopping) say(`gateway ${index} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); the others keep serving`);
    });
  });
}

try {
  let redisUrl = opts.redisUrl ?? process.env.REDIS_URL;
  if (!redisUrl) {
    redis = await startRedis(opts.dataDir);
    redisUrl = redis.url;
    say(`redis-server on ${redisUrl} (data in ${opts.dataDir})`);
  }
  const ready = await Promise.all(Array.from({ length: opts.gateways }, (_, i) => startGateway(i, redisUrl!)));
  for (const g of ready) say(`gateway ${g.gatewayId}: c2s 127.0.0.1:${g.c2sPort}, WebSocket ws://127.0.0.1:${g.wsPort}/xmpp-websocket`);
  if (opts.openAuth) say('WARNING: open authentication is on: any user logs in with any password. Test use only.');
  say(`READY redis=${redisUrl} gateways=${ready.length} c2s=${ready.map((g) => g.c2sPort).join(',')} ws=${ready.map((g) => g.wsPort).join(',')}`);
} catch (err) {
  say(`failed to start: ${(err as Error).message}`);
  await stopAll(1);
}
