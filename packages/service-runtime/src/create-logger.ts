import { pino, type Logger } from 'pino';
import type { Config } from '@parley/config';

/**
 * The process logger: JSON lines on stdout (pino), or human-readable lines when
 * `log.pretty` is set and `pino-pretty` can be loaded (the dev launcher pretty-prints the
 * children's JSON itself, so services normally log JSON).
 */
export function createLogger(config: Config, bindings: Record<string, unknown>): Logger {
  const options = { level: config.log.level, base: { pid: process.pid, ...bindings } };
  if (config.log.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(options);
}
