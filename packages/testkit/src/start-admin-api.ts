import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';
import { spawnService, type ServiceProcess } from './service-process.js';

/** Options of {@link startAdminApi}. */
export interface StartAdminApiOptions {
  /** `REDIS_URL` */
  redisUrl: string;
  /** `PARLEY_REDIS_KEY_PREFIX`; give every test file its own. */
  keyPrefix: string;
  /** More environment variables (`PARLEY_*`), applied last (e.g. `PARLEY_MUC_SHARDS`). */
  env?: Record<string, string>;
  /** How long to wait for the "admin api ready" line, ms (default 45 000: a loaded CI machine starts node slowly). */
  readyTimeoutMs?: number;
}

/** A running `services/admin-api/dist/main.js`. */
export interface AdminApiProcess extends ServiceProcess {
  /** Base URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** A random bearer token of scope `admin`, configured for this process only. */
  readonly token: string;
  /** `{ authorization: 'Bearer <token>' }`, for fetch. */
  readonly headers: Record<string, string>;
}

/**
 * Spawns `node services/admin-api/dist/main.js` on a free port (`PARLEY_ADMIN_PORT=0`) with
 * `REDIS_URL`, `PARLEY_REDIS_KEY_PREFIX`, `PARLEY_LOG_LEVEL=info` and one random admin token
 * (`PARLEY_ADMIN_TOKENS`, stored hashed), each overridable through `opts.env`, and resolves
 * once it logs `"admin api ready"` with its `url`.
 *
 * @throws TestkitError `NOT_BUILT` when dist/main.js is missing; `ADMIN_API_START_FAILED` (with the
 *   captured output) when it exits or is not ready in time (it is then killed).
 */
export async function startAdminApi(opts: StartAdminApiOptions): Promise<AdminApiProcess> {
  const token = randomBytes(24).toString('base64url');
  const sha256 = createHash('sha256').update(token).digest('hex');
  const { handle, ready } = await spawnService({
    name: 'admin api',
    main: join(repoRoot(), 'services', 'admin-api', 'dist', 'main.js'),
    env: {
      REDIS_URL: opts.redisUrl,
      PARLEY_REDIS_KEY_PREFIX: opts.keyPrefix,
      PARLEY_LOG_LEVEL: 'info',
      PARLEY_ADMIN_PORT: '0',
      PARLEY_ADMIN_TOKENS: `testkit:admin:${sha256}`,
      ...opts.env,
    },
    isReady: (entry) => entry['msg'] === 'admin api ready' && typeof entry['url'] === 'string',
    readyTimeoutMs: opts.readyTimeoutMs ?? 45_000,
    startError: 'ADMIN_API_START_FAILED',
  });
  return { ...handle, url: ready['url'] as string, port: ready['port'] as number, token, headers: { authorization: `Bearer ${token}` } };
}
