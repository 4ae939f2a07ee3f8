// XEP-0313 account archives in Redis: the store is @parley/accounts' MamStore (shared with the
// admin API, which archives the messages it sends); re-exported for the gateway's modules.
export { MamStore, type MamLimits, type AccountArchiveQuery, type ArchiveMetadata } from '@parley/accounts';
