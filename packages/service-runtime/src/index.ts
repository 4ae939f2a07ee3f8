// @parley/service-runtime: what the gateway, room worker and admin API entry points share.
export { loadServiceConfig } from './load-service-config.js';
export { createLogger } from './create-logger.js';
export { stopOnSignals } from './stop-on-signals.js';
export { SupervisedThread, livenessRedisOptions, type SupervisedThreadOptions } from './supervised-thread.js';
