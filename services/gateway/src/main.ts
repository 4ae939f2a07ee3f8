#!/usr/bin/env node
/**
 * Gateway process entry point. Configuration: `--config <file.json>` (or PARLEY_CONFIG)
 * plus the environment variables listed in docs/configuration.md. Prints one log line
 * `gateway ready` with `c2sPort`, `wsPort` and `gatewayId` once it accepts connections;
 * SIGINT/SIGTERM end every session with `system-shutdown` and exit 0.
 */
import { createLogger, loadServiceConfig, stopOnSignals } from '@parley/service-runtime';
import { Gateway } from './gateway.js';

const config = loadServiceConfig('gateway');
const bootLog = createLogger(config, { service: 'gateway' });
const gateway = new Gateway(config, bootLog);
const log = bootLog.child({ gatewayId: gateway.id });
stopOnSignals('gateway', log, () => gateway.stop());

try {
  const { c2sPort, wsPort } = await gateway.start();
  // Launchers and tests wait for this line, so it is written even when the level is above info.
  log.child({}, { level: 'info' }).info({ c2sPort, wsPort, hosts: config.hosts, wsPath: config.gateway.wsPath }, 'gateway ready');
} catch (err) {
  log.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}
