import { join } from 'node:path';
import { repoRoot } from './repo-root.js';
import { spawnService, type ServiceProcess } from './service-process.js';

/** Options of {@link startGateway}. */
export interface StartGatewayOptions {
  /** `REDIS_URL` */
  redisUrl: string;
  /** `PARLEY_REDIS_KEY_PREFIX`; give every test file its own. */
  keyPrefix: string;
  /** More environment variables (`PARLEY_*`), applied last. */
  env?: Record<string, string>;
  /** How long to wait for the "gateway ready" line, ms (default 45 000: a loaded CI machine starts node slowly). */
  readyTimeoutMs?: number;
  /** Script to run instead of `services/gateway/dist/main.js` (the testkit's own tests use a fake). */
  script?: string;
}

/** A running `services/gateway/dist/main.js`. */
export interface GatewayProcess extends ServiceProcess {
  /** Port of c2s over TCP (RFC 6120) on 127.0.0.1. */
  readonly c2sPort: number;
  /** Port of XMPP over WebSocket (RFC 7395) on 127.0.0.1. */
  readonly wsPort: number;
  /** The id the gateway registered under in Redis. */
  readonly gatewayId: string;
  /** XEP-0368 direct TLS port on 127.0.0.1; -1 when not listening (`PARLEY_DIRECT_TLS_PORT`). */
  readonly directTlsPort: number;
}

/**
 * Spawns `node services/gateway/dist/main.js` with `REDIS_URL`, `PARLEY_REDIS_KEY_PREFIX`,
 * ephemeral ports (`PARLEY_C2S_PORT=0`, `PARLEY_WS_PORT=0`) and `PARLEY_LOG_LEVEL=info`
 * (each overridable through `opts.env`), and resolves once it logs `"gateway ready"` with
 * numeric `c2sPort`, `wsPort` and a string `gatewayId`.
 *
 * @throws TestkitError `NOT_BUILT` when dist/main.js is missing; `GATEWAY_START_FAILED`
 *   (with the captured output) when it exits or is not ready in time (it is then killed).
 */
export async function startGateway(opts: StartGatewayOptions): Promise<GatewayProcess> {
  const { handle, ready } = await spawnService({
    name: 'gateway',
    main: opts.script ?? join(repoRoot(), 'services', 'gateway', 'dist', 'main.js'),
    env: {
      REDIS_URL: opts.redisUrl,
      PARLEY_REDIS_KEY_PREFIX: opts.keyPrefix,
      PARLEY_C2S_PORT: '0',
      PARLEY_WS_PORT: '0',
      PARLEY_LOG_LEVEL: 'info',
      ...opts.env,
    },
    isReady: isReadyLine,
    readyTimeoutMs: opts.readyTimeoutMs ?? 45_000,
    startError: 'GATEWAY_START_FAILED',
  });
  const directTlsPort = typeof ready['directTlsPort'] === 'number' ? ready['directTlsPort'] : -1;
  return { ...handle, c2sPort: ready['c2sPort'] as number, wsPort: ready['wsPort'] as number, gatewayId: ready['gatewayId'] as string, directTlsPort };
}

function isReadyLine(entry: Record<string, unknown>): boolean {
  return (
    entry['msg'] === 'gateway ready' &&
    typeof entry['c2sPort'] === 'number' &&
    typeof entry['wsPort'] === 'number' &&
    typeof entry['gatewayId'] === 'string'
  );
}
