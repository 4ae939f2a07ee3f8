// @parley/service-runtime: what the gateway, room worker and admin API entry points share.
export { loadServiceConfig, serviceUsage } from './load-service-config.js';
export { createLogger } from './create-logger.js';
export { stopOnSignals } from './stop-on-signals.js';
export { SupervisedThread, livenessRedisOptions, type SupervisedThreadOptions } from './supervised-thread.js';
export { startHealthServer, type HealthServer, type HealthServerOptions, type Readiness } from './health-server.js';
export { DATA_SCHEMA_VERSION, SchemaVersionError, ensureSchemaVersion, checkSchemaVersionOrExit } from './schema-version.js';
export { ShardCountError, ensureShardCount, checkShardCountOrExit, type ShardLayout } from './shard-count.js';
export { createRedis, sentinelOptions, clusterClient, isCluster, scanKeys, type RedisConnection } from './redis-connection.js';
