import { pino, type Logger, type LoggerOptions } from 'pino';
import type { Config } from '@parley/config';

/**
 * The process logger: JSON lines on stdout (pino), or human-readable lines when
 * `log.pretty` is set and `pino-pretty` can be loaded (the dev launcher pretty-prints the
 * children's JSON itself, so services normally log JSON). `extra.hooks` are pino hooks
 * (e.g. a `logMethod` that changes the level of some lines), inherited by child loggers.
 */
export function createLogger(config: Config, bindings: Record<string, unknown>, extra: { hooks?: LoggerOptions['hooks'] } = {}): Logger {
  const options: LoggerOptions = { level: config.log.level, base: { pid: process.pid, ...bindings }, ...(extra.hooks ? { hooks: extra.hooks } : {}) };
  if (config.log.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino(options);
}
