#!/usr/bin/env node
/**
 * Room worker process entry point. Configuration: `--config <file.json>` (or PARLEY_CONFIG)
 * plus the environment variables listed in docs/configuration.md. Prints one log line
 * `room worker ready` with `workerId` once it has joined the membership; SIGINT/SIGTERM
 * finish the current turn, release every lease and exit 0 (exit 1 if that takes over 10 s).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@parley/config';
import { createLogger } from './logger.js';
import { RoomWorker } from './room-worker.js';

const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
const file = values.config ?? process.env.PARLEY_CONFIG;

let config;
try {
  config = loadConfig(file === undefined ? {} : { file });
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`parley room-worker: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

const bootLog = createLogger(config, { service: 'room-worker' });
const worker = new RoomWorker(config, bootLog);
const log = bootLog.child({ workerId: worker.id });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'room worker stopping');
  // A clean stop needs Redis; if it is gone, do not hang: exit after 10 s regardless.
  setTimeout(() => {
    log.error('clean stop timed out');
    process.exit(1);
  }, 10_000).unref();
  try {
    await worker.stop();
  } finally {
    log.info('room worker stopped');
    process.exit(0);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  await worker.start();
  // Launchers and tests wait for this line, so it is written even when the level is above info.
  log.child({}, { level: 'info' }).info({ shards: config.muc.shards, mucDomain: config.mucDomain }, 'room worker ready');
} catch (err) {
  log.fatal({ err }, 'room worker failed to start');
  process.exit(1);
}
