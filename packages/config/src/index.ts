export { configSchema, redisSentinelSchema, redisClusterSchema, OPEN_AUTH_BACKEND } from './schema.js';
export type { Config, RedisSentinelConfig, RedisClusterConfig } from './schema.js';
export { loadConfig, ENV_VARS } from './load-config.js';
export { ConfigError } from './errors.js';
