// @parley/accounts: user accounts in Redis (SCRAM credentials, RFC 5802 §3), shared by the
// gateways (SASL), xmppctl and the admin API; offline message storage (RFC 6121 §8.5.2.2) and
// XEP-0313 account archives.
export { AccountStore } from './account-store.js';
export { OfflineStore, type OfflineQuota, type OfflinePushResult } from './offline-store.js';
// XEP-0313 account archives (the archive and the archiving of one-to-one messages; the
// queries are the gateway's), shared by the gateways and the admin API.
export {
  archivable,
  withStanzaId,
  prefsVerdict,
  prefsFromJson,
  matchesWithFilter,
  SID_NS,
  DEFAULT_PREFS,
  PREFS_DEFAULTS,
  type MamPrefs,
  type AccountArchiveEntry,
  type AccountArchivePage,
} from './archive.js';
export { MamStore, type MamLimits, type AccountArchiveQuery, type ArchiveMetadata } from './archive-store.js';
export { MessageArchiver, type MessageArchiverDeps, type ArchiverLog } from './message-archiver.js';
