import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '@parley/config';

/**
 * Reads a process's configuration: `--config <file.json>` (or PARLEY_CONFIG) plus the
 * environment variables of docs/configuration.md. On a configuration error it prints
 * `parley <service>: <problems>` to stderr and exits 78 (EX_CONFIG); other errors are thrown.
 */
export function loadServiceConfig(service: string): Config {
  const { values } = parseArgs({ options: { config: { type: 'string' } }, strict: true });
  const file = values.config ?? process.env.PARLEY_CONFIG;
  try {
    return loadConfig(file === undefined ? {} : { file });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`parley ${service}: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
