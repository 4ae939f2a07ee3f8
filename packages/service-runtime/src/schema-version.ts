import { createRedis, type RedisConnection } from './redis-connection.js';

/**
 * The data schema version this code reads and writes (issue #14 items 2 and 3): the layout of
 * every key in @parley/bus `keySpace` and of the values stored there. Version 1 is the
 * layout of the first release (0.1.0, git tag `v0.1.0`). A change that an older
 * version could not read correctly raises it, with a migration that a newer version runs at
 * start (none yet).
 */
export const DATA_SCHEMA_VERSION = 1;

/** The data in Redis is newer than this code: thrown by {@link ensureSchemaVersion}. */
export class SchemaVersionError extends Error {
  constructor(readonly found: string, readonly supported: number) {
    super(`the data in Redis has schema version ${found}, newer than this version of parley reads (${supported}); run a parley release that supports it`);
    this.name = 'SchemaVersionError';
  }
}

/**
 * Checks the data schema version at start: `SET <key> DATA_SCHEMA_VERSION NX` (the first
 * process on an empty or unversioned data set writes it), then `GET`. Waits for Redis like
 * the services do (ioredis reconnects; each command is retried until Redis answers).
 * @param conn - `config.redis` (Sentinel-aware), or just the `redis.url`
 * @param key - `keySpace(prefix).schemaVersion()`
 * @returns the stored version (equal to or older than DATA_SCHEMA_VERSION)
 * @throws SchemaVersionError when the stored version is not an integer or is newer than DATA_SCHEMA_VERSION
 */
export async function ensureSchemaVersion(conn: string | RedisConnection, key: string): Promise<number> {
  const redis = createRedis(typeof conn === 'string' ? { url: conn } : conn, { maxRetriesPerRequest: null, retryStrategy: () => 500, lazyConnect: true });
  redis.on('error', () => undefined); // retried until Redis answers
  try {
    await redis.connect().catch(() => undefined);
    await redis.set(key, String(DATA_SCHEMA_VERSION), 'NX');
    const found = (await redis.get(key)) ?? String(DATA_SCHEMA_VERSION);
    if (!/^\d{1,9}$/.test(found) || Number(found) > DATA_SCHEMA_VERSION) throw new SchemaVersionError(found.slice(0, 32), DATA_SCHEMA_VERSION);
    return Number(found);
  } finally {
    redis.disconnect();
  }
}

/**
 * {@link ensureSchemaVersion} for a process entry point: on a {@link SchemaVersionError} it
 * prints one line `parley <service>: <message>` to stderr and exits 78 (EX_CONFIG, as for a
 * configuration error); other errors are thrown.
 */
export async function checkSchemaVersionOrExit(service: string, conn: string | RedisConnection, key: string): Promise<void> {
  try {
    await ensureSchemaVersion(conn, key);
  } catch (err) {
    if (!(err instanceof SchemaVersionError)) throw err;
    process.stderr.write(`parley ${service}: ${err.message}\n`);
    process.exit(78);
  }
}
