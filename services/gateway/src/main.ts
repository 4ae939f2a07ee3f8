#!/usr/bin/env node
/**
 * Gateway process entry point. Configuration: `--config <file>` (JSON or YAML; or PARLEY_CONFIG)
 * plus the environment variables listed in docs/configuration.md. Prints one log line
 * `gateway ready` with `c2sPort`, `wsPort`, `directTlsPort`, `healthPort` (-1: off) and `gatewayId` once it accepts
 * connections; SIGINT/SIGTERM end every session with `system-shutdown` and exit 0; SIGHUP
 * reloads the TLS certificates without dropping sessions.
 */
import { checkSchemaVersionOrExit, checkShardCountOrExit, createLogger, loadServiceConfig, stopOnSignals } from '@parley/service-runtime';
import { keySpace, shardLayout } from '@parley/bus';
import { Gateway } from './gateway.js';
import { TlsCertificateError } from './transport/tls-certificates.js';
import { startGatewayHealth } from './health.js';

const config = loadServiceConfig('gateway');
const bootLog = createLogger(config, { service: 'gateway' });
let gateway: Gateway;
try {
  gateway = new Gateway(config, bootLog);
} catch (err) {
  // A missing or unreadable certificate file: one line, like any configuration error (exit 78).
  if (!(err instanceof TlsCertificateError)) throw err;
  process.stderr.write(`parley gateway: ${err.message}\n`);
  process.exit(78);
}
// After the certificate files were read (a configuration error shows without Redis).
// Refuse data written by a newer parley (one line, exit 78); the first start writes the version.
await checkSchemaVersionOrExit('gateway', config.redis, keySpace(config.redis.keyPrefix).schemaVersion());
// Refuse a muc.shards other than the one the stored rooms are placed for (one line, exit 78).
await checkShardCountOrExit('gateway', config.redis, shardLayout(keySpace(config.redis.keyPrefix), config.muc.shards));
const log = bootLog.child({ gatewayId: gateway.id });
let health: Awaited<ReturnType<typeof startGatewayHealth>>;
let serving = false;
const stopping = stopOnSignals('gateway', log, async () => {
  await gateway.stop();
  await health?.close();
});
// SIGHUP: read the certificate files again; sessions stay connected (docs/operations.md).
process.on('SIGHUP', () => {
  try {
    if (gateway.reloadTls()) log.info('tls certificates reloaded');
    else log.info('SIGHUP: no tls certificate configured, nothing to reload');
  } catch (err) {
    log.error({ reason: (err as Error).message }, 'tls certificate reload failed; the previous certificates stay in use');
  }
});

try {
  const { c2sPort, wsPort, directTlsPort } = await gateway.start();
  // `/readyz` says ready only from here on, and no longer once a stop has begun.
  health = await startGatewayHealth(config, gateway.id, () => serving && !stopping(), gateway.metricsRegistry);
  serving = true;
  const healthPort = health?.server.port ?? -1;
  // Launchers and tests wait for this line, so it is written even when the level is above info.
  log.child({}, { level: 'info' }).info({ c2sPort, wsPort, directTlsPort, healthPort, hosts: config.hosts, wsPath: config.gateway.wsPath }, 'gateway ready');
} catch (err) {
  log.fatal({ err }, 'gateway failed to start');
  process.exit(1);
}
