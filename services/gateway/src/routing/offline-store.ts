// Offline storage lives in @parley/accounts (packages/accounts/src/offline-store.ts), shared
// with the admin API's `POST /v1/messages`; re-exported here for the gateway's modules.
export { OfflineStore, type OfflineQuota, type OfflinePushResult } from '@parley/accounts';
