#!/usr/bin/env node
/**
 * Room worker process entry point. Configuration: `--config <file.json>` (or PARLEY_CONFIG)
 * plus the environment variables listed in docs/configuration.md. Prints one log line
 * `room worker ready` with `workerId` once it has joined the membership; SIGINT/SIGTERM
 * finish the current turn, release every lease and exit 0 (exit 1 if that takes over 10 s).
 */
import { createLogger, loadServiceConfig, stopOnSignals } from '@parley/service-runtime';
import { RoomWorker } from './room-worker.js';

const config = loadServiceConfig('room-worker');
const bootLog = createLogger(config, { service: 'room-worker' });
const worker = new RoomWorker(config, bootLog);
const log = bootLog.child({ workerId: worker.id });
stopOnSignals('room worker', log, () => worker.stop());

try {
  await worker.start();
  // Launchers and tests wait for this line, so it is written even when the level is above info.
  log.child({}, { level: 'info' }).info({ shards: config.muc.shards, mucDomain: config.mucDomain }, 'room worker ready');
} catch (err) {
  log.fatal({ err }, 'room worker failed to start');
  process.exit(1);
}
