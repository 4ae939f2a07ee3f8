import { join } from 'node:path';
import { repoRoot } from './repo-root.js';
import { spawnService, type ServiceProcess } from './service-process.js';

/** Options of {@link startRoomWorker}. */
export interface StartRoomWorkerOptions {
  /** `REDIS_URL` */
  redisUrl: string;
  /** `PARLEY_REDIS_KEY_PREFIX`; give every test file its own. */
  keyPrefix: string;
  /** More environment variables (`PARLEY_*`), applied last (e.g. `PARLEY_LEASE_TTL_MS`). */
  env?: Record<string, string>;
  /** How long to wait for the "room worker ready" line, ms (default 45 000: a loaded CI machine starts node slowly). */
  readyTimeoutMs?: number;
}

/** A running `services/room-worker/dist/main.js`. */
export interface RoomWorkerProcess extends ServiceProcess {
  /** The id the worker registered under in Redis. */
  readonly workerId: string;
}

/**
 * Spawns `node services/room-worker/dist/main.js` with `REDIS_URL`,
 * `PARLEY_REDIS_KEY_PREFIX` and `PARLEY_LOG_LEVEL=info` (each overridable through
 * `opts.env`), and resolves once it logs `"room worker ready"` with a string `workerId`.
 *
 * @throws TestkitError `NOT_BUILT` when dist/main.js is missing; `ROOM_WORKER_START_FAILED`
 *   (with the captured output) when it exits or is not ready in time (it is then killed).
 */
export async function startRoomWorker(opts: StartRoomWorkerOptions): Promise<RoomWorkerProcess> {
  const { handle, ready } = await spawnService({
    name: 'room worker',
    main: join(repoRoot(), 'services', 'room-worker', 'dist', 'main.js'),
    env: { REDIS_URL: opts.redisUrl, PARLEY_REDIS_KEY_PREFIX: opts.keyPrefix, PARLEY_LOG_LEVEL: 'info', ...opts.env },
    isReady: (entry) => entry['msg'] === 'room worker ready' && typeof entry['workerId'] === 'string',
    readyTimeoutMs: opts.readyTimeoutMs ?? 45_000,
    startError: 'ROOM_WORKER_START_FAILED',
  });
  return { ...handle, workerId: ready['workerId'] as string };
}
