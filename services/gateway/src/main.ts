#!/usr/bin/env node
/**
 * Gateway process entry point. Configuration: `--config <file.json>` (or PARLEY_CONFIG)
 * plus the environment variables listed in docs/configuration.md. Prints one log line
 * `gateway ready` with `c2sPort`, `wsPort` and `gatewayId` once it accepts connections;
 * SIGINT/SIGTERM end every session with `system-shutdown` and exit 0.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@parley/config';
import { Gateway } from './gateway.js';
import { createLogger } from './logger.js';

const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
const file = values.config ?? process.env.PARLEY_CONFIG;

let config;
try {
  config = loadConfig(file === undefined ? {} : { file });
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`parley gateway: ${err.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  throw err;
}

const bootLog = createLogger(config, { service: 'gateway' });
const gateway = new Gateway(config, bootLog);
const log = bootLog.child({ gatewayId: gateway.id });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'gateway stopping');
  // A clean stop needs Redis; if it is gone, do not hang: exit after 10 s regardless.
  setTimeout(() => {
    log.error('clean stop timed out');
    process.exit(1);
  }, 10_000).unref();
  try {
    await gateway.stop();
  } finally {
    log.info('gateway stopped');
    process.exit(0);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

try {
  const { c2sPort, wsPort } = await gateway.start();
  // Launchers and tests wait for this line, so it is written even when the level is above info.
  log.child({}, { level: 'info' }).info({ c2sPort, wsPort, hosts: config.hosts, wsPath: config.gateway.wsPath }, 'gateway ready');
} catch (err) {
  log.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}
