export { Gateway } from './gateway.js';
export type { GatewayAddresses } from './gateway.js';
export { AccountStore } from '@parley/accounts';
export { createLogger } from '@parley/service-runtime';
