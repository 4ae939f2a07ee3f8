export { Gateway } from './gateway.js';
export type { GatewayAddresses } from './gateway.js';
export { AccountStore } from './auth/account-store.js';
export { createLogger } from './logger.js';
