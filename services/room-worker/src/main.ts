#!/usr/bin/env node
/**
 * Room worker process entry point. Configuration: `--config <file.json>` (or PARLEY_CONFIG)
 * plus the environment variables listed in docs/configuration.md. Prints one log line
 * `room worker ready` with `workerId` and `healthPort` (-1: off) once it has joined the membership; SIGINT/SIGTERM
 * finish the current turn, release every lease and exit 0 (exit 1 if that takes over 10 s).
 */
import { checkSchemaVersionOrExit, checkShardCountOrExit, createLogger, loadServiceConfig, stopOnSignals } from '@parley/service-runtime';
import { keySpace, shardLayout } from '@parley/bus';
import { RoomWorker } from './room-worker.js';
import { ShardLogSummary } from './shard-log-summary.js';
import { startWorkerHealth } from './health.js';

const config = loadServiceConfig('room-worker');
// Refuse data written by a newer parley (one line, exit 78); the first start writes the version.
await checkSchemaVersionOrExit('room-worker', config.redis, keySpace(config.redis.keyPrefix).schemaVersion());
// Refuse a muc.shards other than the one the stored rooms are placed for (one line, exit 78).
await checkShardCountOrExit('room-worker', config.redis, shardLayout(keySpace(config.redis.keyPrefix), config.muc.shards));
// Per-shard acquire/hand-over/release lines at debug, one summary line at info.
const shardLog = new ShardLogSummary(config.muc.shards);
const bootLog = createLogger(config, { service: 'room-worker' }, { hooks: { logMethod: shardLog.hook } });
const worker = new RoomWorker(config, bootLog);
const log = bootLog.child({ workerId: worker.id });
shardLog.attach(log, () => worker.shards);
let health: Awaited<ReturnType<typeof startWorkerHealth>>;
let serving = false;
const stopping = stopOnSignals('room worker', log, async () => {
  await worker.stop();
  shardLog.flush();
  await health?.close();
});

try {
  await worker.start();
  // `/readyz` says ready only from here on, and no longer once a stop has begun.
  health = await startWorkerHealth(config, worker.id, () => serving && !stopping(), () => worker.shards.length, worker.metricsRegistry);
  serving = true;
  const healthPort = health?.server.port ?? -1;
  // Launchers and tests wait for this line, so it is written even when the level is above info.
  log.child({}, { level: 'info' }).info({ shards: config.muc.shards, mucDomain: config.mucDomain, healthPort }, 'room worker ready');
} catch (err) {
  log.fatal({ err }, 'room worker failed to start');
  process.exit(1);
}
