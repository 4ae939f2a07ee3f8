// @parley/accounts: user accounts in Redis (SCRAM credentials, RFC 5802 §3), shared by the
// gateways (SASL), xmppctl and the admin API; and offline message storage (RFC 6121 §8.5.2.2).
export { AccountStore } from './account-store.js';
export { OfflineStore, type OfflineQuota, type OfflinePushResult } from './offline-store.js';
