// @parley/accounts: user accounts in Redis (SCRAM credentials, RFC 5802 §3), shared by the
// gateways (SASL), xmppctl and the admin API.
export { AccountStore } from './account-store.js';
