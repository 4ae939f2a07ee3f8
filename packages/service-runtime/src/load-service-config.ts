import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '@parley/config';

/** What each service is, for its `--help` (keyed by the name given to {@link loadServiceConfig}). */
const ABOUT: ReadonlyMap<string, { command: string; about: string; signals: string }> = new Map([
  ['gateway', {
    command: 'parley-gateway',
    about: 'Edge gateway: c2s over TCP (STARTTLS), XEP-0368 direct TLS and WebSocket; SASL, binding, routing through Redis.',
    signals: 'SIGINT/SIGTERM end every session (system-shutdown) and exit 0; SIGHUP reloads the TLS certificate files.',
  }],
  ['room-worker', {
    command: 'parley-room-worker',
    about: 'Room worker: serves the XEP-0045 rooms of the MUC shards it leases from Redis.',
    signals: 'SIGINT/SIGTERM finish the current turn, release every lease and exit 0.',
  }],
  ['admin-api', {
    command: 'parley-admin-api',
    about: 'Admin REST API (OpenAPI at /openapi.json) and the job workers.',
    signals: 'SIGINT/SIGTERM finish the requests in flight, stop the job workers and exit 0.',
  }],
]);

/** The `--help` text of `service`. */
export function serviceUsage(service: string): string {
  const a = ABOUT.get(service) ?? { command: `parley-${service}`, about: `parley ${service}.`, signals: 'SIGINT/SIGTERM stop it cleanly.' };
  return [
    `Usage: ${a.command} [--config <file>]`,
    '',
    a.about,
    '',
    'Options:',
    '  --config <file>  JSON or YAML configuration file (default: $PARLEY_CONFIG; none: built-in defaults).',
    '                   PARLEY_* environment variables override it; see docs/configuration.md.',
    '  -h, --help       Print this help and exit.',
    '',
    `Signals: ${a.signals}`,
    'Exit status: 0 stopped cleanly, 1 failed, 64 bad command line, 78 configuration error.',
    '',
  ].join('\n');
}

/**
 * Reads a process's configuration: `--config <file>` (JSON or YAML; or PARLEY_CONFIG) plus the
 * environment variables of docs/configuration.md. `--help`/`-h` prints {@link serviceUsage}
 * to stdout and exits 0; an unknown option or a missing value prints one line
 * `parley <service>: <problem> (see --help)` to stderr and exits 64 (EX_USAGE). On a
 * configuration error it prints `parley <service>: <problems>` to stderr and exits 78
 * (EX_CONFIG); other errors are thrown.
 */
export function loadServiceConfig(service: string): Config {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({ options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    process.stderr.write(`parley ${service}: ${(err as Error).message.split('\n')[0]} (see --help)\n`);
    process.exit(64);
  }
  if (values.help) {
    process.stdout.write(serviceUsage(service));
    process.exit(0);
  }
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
