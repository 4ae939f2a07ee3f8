import type { Logger } from 'pino';

/**
 * On SIGINT or SIGTERM (once): logs `<name> stopping`, runs `stop`, logs `<name> stopped`
 * and exits 0. A clean stop usually needs Redis; if it hangs, the process exits 1 after
 * `timeoutMs` (default 10 000 ms) regardless.
 *
 * With `PARLEY_STOP_ON_STDIN_END=1` in the environment (set by the local launcher, which runs
 * its services in process groups of their own so that a Ctrl-C reaches only itself), the end
 * of standard input stops the process the same way (`signal: 'stdin-end'`): the launcher
 * holds the pipe's other end, so a launcher killed with SIGKILL takes its services with it.
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
  if (process.env.PARLEY_STOP_ON_STDIN_END === '1') {
    process.stdin.on('data', () => undefined); // read and discard; only the end matters
    process.stdin.once('end', () => void shutdown('stdin-end'));
    process.stdin.once('error', () => void shutdown('stdin-end'));
  }
  return () => stopping;
}
