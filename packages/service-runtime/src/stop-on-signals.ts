import type { Logger } from 'pino';

/**
 * On SIGINT or SIGTERM (once): logs `<name> stopping`, runs `stop`, logs `<name> stopped`
 * and exits 0. A clean stop usually needs Redis; if it hangs, the process exits 1 after
 * `timeoutMs` (default 10 000 ms) regardless.
 * @returns whether a stop has begun (for readiness probes)
 */
export function stopOnSignals(name: string, log: Logger, stop: () => Promise<void>, timeoutMs = 10_000): () => boolean {
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${name} stopping`);
    setTimeout(() => {
      log.error('clean stop timed out');
      process.exit(1);
    }, timeoutMs).unref();
    try {
      await stop();
    } finally {
      log.info(`${name} stopped`);
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  return () => stopping;
}
