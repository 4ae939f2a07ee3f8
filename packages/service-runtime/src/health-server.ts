import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What a readiness check reports: `ready` and, per check, a short fixed word (`ok`, `stale`,
 * `not registered`, `unreachable`, `stopping`, ...). Served without a token, so it must never
 * carry a secret, an address or an error text from a library.
 */
export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
  /** Extra non-secret facts shown with the status (e.g. `{ shards: 32 }`): numbers only. */
  info?: Record<string, number>;
}

/** Options of {@link startHealthServer}. */
export interface HealthServerOptions {
  /** TCP port (0: a free one). */
  port: number;
  /** Listen address, e.g. `127.0.0.1` or `0.0.0.0`. */
  host: string;
  /** The readiness check of `/readyz`; it must settle within `timeoutMs` or counts as not ready. */
  readiness: () => Promise<Readiness>;
  /** How long `/readyz` waits for `readiness`, ms (default 2000). */
  timeoutMs?: number;
  /**
   * This process's own metrics for `GET /metrics` (e.g. a prom-client Registry: `contentType`
   * and `metrics()`); without it `/metrics` is 404 like any other path.
   */
  metrics?: { contentType: string; metrics(): Promise<string> };
}

/** A running health listener. */
export interface HealthServer {
  /** The bound port. */
  port: number;
  close(): Promise<void>;
}

/**
 * A small HTTP listener for orchestrators' probes (Kubernetes, Docker HEALTHCHECK, systemd
 * watchers), issue #14 item 4. No token, no request body read, GET/HEAD only:
 * - `GET /healthz` → 200 `{"status":"ok"}` while the process runs (liveness);
 * - `GET /readyz` → 200 `{"status":"ready","checks":{...}}` when `readiness()` says so, else
 *   503 `{"status":"unavailable","checks":{...}}` (also when it throws or takes longer than
 *   `timeoutMs`);
 * - `GET /metrics` → 200 with `opts.metrics` in its content type (Prometheus text format), when given;
 *   500 `{"status":"metrics-failed"}` when collecting them throws;
 * - any other path → 404, any other method → 405 (with `Allow: GET, HEAD`).
 * Requests time out after 5 s; at most 64 connections at once.
 * @throws the listen error (e.g. EADDRINUSE) from the returned promise
 */
export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = `${JSON.stringify(body)}\n`;
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { status: 'method-not-allowed' }, { allow: 'GET, HEAD' });
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') return send(200, { status: 'ok' });
    const metrics = opts.metrics;
    if (path === '/metrics' && metrics) {
      metrics
        .metrics()
        .then((text) => {
          res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
          res.end(req.method === 'HEAD' ? undefined : text);
        })
        .catch(() => send(500, { status: 'metrics-failed' }));
      return;
    }
    if (path !== '/readyz') return send(404, { status: 'not-found' });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Readiness>((resolve) => {
      timer = setTimeout(() => resolve({ ready: false, checks: { readiness: `no answer within ${timeoutMs} ms` } }), timeoutMs);
    });
    Promise.race([opts.readiness().catch((): Readiness => ({ ready: false, checks: { readiness: 'failed' } })), timeout])
      .then((r) => send(r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'unavailable', checks: r.checks, ...(r.info ?? {}) }))
      .finally(() => clearTimeout(timer));
  });
  server.requestTimeout = 5000;
  server.headersTimeout = 5000;
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
