/**
 * Every Redis key name the cluster uses, in one place.
 *
 * Keys that belong together carry the same hash tag (`{...}`) so that, on Redis Cluster,
 * a user's session registry, offline queue and account live in one slot, a gateway's
 * delivery stream and session set in another (its liveness token and reaper lock are with the
 * cluster-wide `gateways` set), and a MUC shard's stream, lease, cursor,
 * rooms and histories in a third (so one Lua script can commit a shard atomically). All keys start with a configurable
 * prefix so that several clusters (or test runs) can share one Redis.
 */
export interface KeySpace {
  /** The prefix every key starts with, e.g. `parley:`. */
  readonly prefix: string;
  /** Hash: resource → JSON {@link SessionRecord}, one field per bound resource of a bare JID. */
  userSessions(bareJid: string): string;
  /** List of serialised stanzas waiting for the user's next available presence (RFC 6121 §8.5.2.1.1). */
  offline(bareJid: string): string;
  /**
   * List, in the account's slot, onto which a gateway pushes the state of a session it hands
   * over to a XEP-0198 resumption on another gateway (JSON, see the gateway's session.ts);
   * `nonce` is the resuming stream's. Expires after a minute.
   */
  smTakeover(bareJid: string, nonce: string): string;
  /**
   * Hash of one XEP-0198 resumable session, in the account's slot (services/gateway/src/sm/sm-store.ts):
   * `sid` (session id), `res` (resource), `gw` (the gateway holding it, or adopting it as an
   * orphan), `h` (stanzas handled from the client since `<enable/>`, not wrapped), `acked`
   * (the client's last `h`), `win` (resumption window, s), `det` (ms since epoch the
   * connection dropped, '' while connected), `did` (id of the last delivery stream entry
   * queued), `orphan` ('1' once its gateway died), `reaping` ('1' while a reaper still queues
   * the dead gateway's entries). Deleted when the session ends.
   */
  smState(bareJid: string, smId: string): string;
  /** List of {@link smState}'s unacknowledged and queued stanzas, oldest first: JSON `{"x": xml, "t": ms sent}`. */
  smQueue(bareJid: string, smId: string): string;
  /** Set of the rooms (bare JIDs) of {@link smState}'s session, told on a move and at the end. */
  smRooms(bareJid: string, smId: string): string;
  /**
   * Sorted set of the orphaned XEP-0198 sessions (their gateway died): member JSON
   * `[bare JID, SM-ID, resource]`, score = end of the resumption window (ms since epoch).
   * Swept by every live gateway.
   */
  smExpiring(): string;
  /** Hash holding one account: `credentials` (JSON StoredCredentials) and `created` (ms since epoch). */
  account(bareJid: string): string;
  /** Set of the bare JIDs of every account, for listing (`xmppctl user list`). */
  accountIndex(): string;
  /**
   * String: the data schema version of this key space (an integer, see
   * `DATA_SCHEMA_VERSION` in @parley/service-runtime), written by the first process that starts
   * on an empty (or older, unversioned) data set and checked by every process at start.
   */
  schemaVersion(): string;
  /** A deleted account's tombstone: its deletion time (ms since epoch), kept for a while (TTL). */
  tombstone(bareJid: string): string;
  /** Sorted set: gateway id → time of its last heartbeat (ms since epoch, by the Redis server clock); members are live until reaped. */
  gateways(): string;
  /** Hash describing one live gateway: host, c2s/WebSocket ports, pid, start time. */
  gatewayInfo(gatewayId: string): string;
  /** Set of the full JIDs whose sessions a gateway holds (so a dead gateway's sessions can be removed). */
  gatewaySessions(gatewayId: string): string;
  /** Stream of envelopes for the sessions of one gateway (consumed by a group, see {@link DELIVERY_GROUP}). */
  gatewayDelivery(gatewayId: string): string;
  /** A random secret shared by the gateways: SCRAM decoy salts for unknown users derive from it. */
  saslDecoySecret(): string;
  /**
   * A random secret shared by the room workers: the HMAC key of the ids of IQs that rooms
   * forward to occupants (XEP-0045 §17.4, `@parley/muc` iq-forward.ts). Set once (NX).
   */
  mucForwardKey(): string;
  /**
   * Key prefix of the failed-authentication counters (rate-limiter-flexible appends
   * `:<address>` or `:<bare JID>`; each counter expires with its window): `address` per
   * remote IP, `account` per bare JID (issue #10, `auth.maxFailuresPer*`).
   */
  authFailures(kind: 'address' | 'account'): string;
  /**
   * Hash of a user's offline quota, next to its {@link offline} list: `bytes` (total stored)
   * and per sender bare JID `n:<jid>` (messages) and `b:<jid>` (bytes).
   */
  offlineQuota(bareJid: string): string;
  /**
   * Hash: contact bare JID → JSON roster item (`@parley/roster` encodeItem) of one account's
   * roster (RFC 6121 §2), in the account's slot. Bounded by `limits.maxRosterItems`.
   */
  roster(bareJid: string): string;
  /** String: the account's roster version counter (RFC 6121 §2.6), incremented on every roster change. */
  rosterVersion(bareJid: string): string;
  /**
   * Hash: contact bare JID → the whole inbound subscription request (serialised presence,
   * extensions included) the account has not answered yet: "Pending In" (RFC 6121 §3.1.3).
   */
  rosterPending(bareJid: string): string;
  /**
   * String: the account's last unavailable presence (serialised, from its bare JID) and
   * `\n`-separated before it the time in ms since epoch, answered to probes when no resource
   * is available (RFC 6121 §4.3.2).
   */
  lastUnavailable(bareJid: string): string;
  /**
   * Hash of the account's XEP-0054 vCard, in the account's slot: `xml` (the serialised
   * `<vCard xmlns='vcard-temp'>`) and `photo` (XEP-0153 §4.1: lowercase hex SHA-1 of the
   * PHOTO's decoded BINVAL, or empty when the vCard has no photo). Absent: no vCard.
   */
  vcard(bareJid: string): string;
  /**
   * Hash of the account's XEP-0049 private XML storage, in the account's slot: field
   * `<namespace> <element name>` → the serialised element.
   */
  privateXml(bareJid: string): string;
  /**
   * Hash of the account's XEP-0012 last activity, in the account's slot: `t` (ms since epoch
   * when one of its sessions last went unavailable) and `status` (that presence's status text).
   */
  lastActivity(bareJid: string): string;
  /**
   * Key prefix of the in-band registration counters (XEP-0077, `register.maxPerAddress`):
   * rate-limiter-flexible appends `:<address>`; each counter expires with its window.
   */
  registrations(): string;
  /**
   * Sorted set of the account's XEP-0191 blocklist, in the account's slot: member = a
   * normalised blocked JID (domain, bare or full), score = insertion order (so the list reads
   * back as it was built). Bounded by `limits.maxBlocklistItems`.
   */
  blocklist(bareJid: string): string;
  /**
   * Hash of the account's XEP-0163 PEP nodes, in the account's slot: node name → JSON node
   * configuration (services/gateway/src/pep/pep-config.ts). Bounded by `limits.maxPepNodes`.
   */
  pepNodes(bareJid: string): string;
  /** Hash of the account's PEP bookkeeping, in its slot: `bytes` (payload bytes of every node) and `seq` (publish counter). */
  pepMeta(bareJid: string): string;
  /** Hash of one PEP node's items, in the account's slot: item id → serialised payload. */
  pepItems(bareJid: string, node: string): string;
  /** Sorted set of one PEP node's item ids, in the account's slot, scored by publish order (newest highest). */
  pepOrder(bareJid: string, node: string): string;
  /**
   * Stream: the account's XEP-0313 message archive, in the account's slot. One entry per
   * archived message (entry id `<ms>-<seq>` by the Redis clock: the archive time), fields
   * `s` (archive id = the XEP-0359 stanza-id), `w` (the other party's JID as addressed) and
   * `x` (the serialised message). Bounded by `mam.maxMessagesPerAccount` and `mam.maxAgeDays`.
   */
  mamArchive(bareJid: string): string;
  /** Hash: archive id → stream entry id of {@link mamArchive}, in the account's slot (RSM `after`/`before` lookups). */
  mamArchiveIndex(bareJid: string): string;
  /** String: JSON XEP-0313 §6 preferences of the account (`default`, `always`, `never`); absent: default `always`. */
  mamPrefs(bareJid: string): string;
  /** Short-lived lock held while one gateway cleans up after a dead one. */
  reaperLock(gatewayId: string): string;
  /**
   * String: the random registration token of a live gateway. Its heartbeat (a Lua script)
   * refreshes the score only while the token matches; the reaper deletes it when it takes
   * the gateway for dead, so a gateway that was only paused learns that it was reaped.
   */
  gatewayToken(gatewayId: string): string;
  /** Stream: a dead gateway's delivery stream, renamed here by its reaper while it re-routes the entries. */
  gatewayReaping(gatewayId: string): string;
  /**
   * Set of the ids of the gateways claimed for reaping whose reap has not finished (added by
   * the claim, removed when the reap ends), so that a survivor can finish the reap of a
   * reaper that died (its {@link reaperLock} expired).
   */
  reapingGateways(): string;
  /**
   * Hash of cluster-wide liveness state, times in ms by the Redis server clock (`TIME`):
   * `lastBeat` (the last heartbeat of any gateway), `pauseUntil` (no reaping before this).
   */
  livenessState(): string;
  /** Stream of room inputs (`RoomInputEnvelope`) for one shard of the MUC service, read by the shard's owner. */
  shardStream(shard: number): string;
  /** The shard's lease: `<worker id> <fencing token>`, with a TTL; only its holder applies the stream. */
  shardLease(shard: number): string;
  /** Counter issuing the shard's fencing tokens (INCR on every lease grant). */
  shardFence(shard: number): string;
  /** Id of the last shard stream entry whose effects are committed. */
  shardCursor(shard: number): string;
  /**
   * Hash: room bare JID → JSON room state (without history) for every room of the shard.
   * Without occupants when it has `occupantsInHash: true` (they are in
   * {@link roomOccupants}); rooms written before that hold them inline (stored-room.ts).
   */
  shardRooms(shard: number): string;
  /**
   * Hash of the shard's progress beyond its cursor (room worker fair scheduling): `n` → count
   * of commits, `<lane>` → id of the last entry of that lane applied and committed when it is
   * after the cursor. At most `roomWorker.lanes` + 1 fields.
   */
  shardLanes(shard: number): string;
  /**
   * Hash of the shard's rooms that are behind, written by its room worker for the gateways'
   * backpressure (with a TTL): room bare JID → id of its oldest entry not yet applied, and
   * `*` → the last entry read when the worker's read-ahead is full (entries after it wait
   * unread), or `-` → `` alone while the worker is at work with no room behind. At most 64
   * rooms. Missing: no worker serves the shard.
   */
  shardHotRooms(shard: number): string;
  /**
   * Hash of the shard's rooms that fill a gateway's delivery queue (room bare JID → deadline,
   * ms of the Redis clock), written by any gateway whose queue stands; a gateway holds the
   * senders of a listed room until its deadline (services/gateway/src/routing/shard-backpressure.ts).
   * At most 64 rooms per gateway; the hash expires when no gateway refreshes it.
   */
  shardDeliveryHot(shard: number): string;
  /** List of a room's discussion history entries (JSON), oldest first, in its shard's slot. */
  roomHistory(shard: number, roomJid: string): string;
  /**
   * Hash of a room's occupants, in its shard's slot: shown nick → `[seq, occupant JSON]`
   * (stored-room.ts in this package; `seq` orders the occupants by join). Written by the
   * room worker's commit one changed occupant at a time; the room's field of
   * {@link shardRooms} then holds the room without occupants (`occupantsInHash` set).
   */
  roomOccupants(shard: number, roomJid: string): string;
  /**
   * Stream of a room's XEP-0313 archive, in its shard's slot: one entry per archived
   * message (fields `s` = archive id, `e` = JSON `ArchiveEntry`), entry ids `<ms>-<seq>` from
   * the message's time (services/room-worker/src/shard/archive-store.ts).
   */
  roomArchive(shard: number, roomJid: string): string;
  /** Hash of a room's archive ids → their entry id in {@link roomArchive}, in its shard's slot. */
  roomArchiveIndex(shard: number, roomJid: string): string;
  /**
   * Hash of a room's XEP-0425 §4 tombstones, in its shard's slot: archive id → serialised
   * `<retracted/>` replacing that message's payload in query results (at most one field per
   * entry of {@link roomArchive}, trimmed with it).
   */
  roomArchiveTombstones(shard: number, roomJid: string): string;
  /** Sorted set: room worker id → time of its last heartbeat (ms since epoch). */
  roomWorkers(): string;
  /** Hash describing one live room worker: pid, start time, shards held. */
  roomWorkerInfo(workerId: string): string;
  /** List onto which a room worker pushes the JSON result of one room command (short TTL). */
  commandReply(commandId: string): string;
  /** Hash: room bare JID → JSON summary (name, public, persistent, members-only, occupants) of every room, for listings. */
  roomDirectory(): string;
  /**
   * String: the number of shards (`muc.shards`) the stored rooms are placed for
   * ({@link shardForRoom}); written by the first gateway or room worker to start and by
   * `xmppctl muc reshard`, and checked by both at start (a mismatch refuses to start).
   */
  mucShards(): string;
  /**
   * String: JSON `{ "to": shards, "started": ms since epoch }` while `xmppctl muc reshard`
   * moves rooms between shards; removed when it is done. Gateways and room workers refuse to
   * start while it exists (an interrupted reshard is finished by running it again).
   */
  mucReshard(): string;
  /**
   * One process's Prometheus metrics: the JSON of prom-client `getMetricsAsJSON()`, rewritten
   * every `metrics.publishMs` with a TTL of three periods. `service` is `gateway` or
   * `room-worker`, `instance` the gateway or worker id.
   */
  processMetrics(service: string, instance: string): string;
  /** Set of the {@link processMetrics} keys of every process that has published (dead ones are removed by readers). */
  metricsIndex(): string;
}

/** Consumer group name on every gateway delivery stream. */
export const DELIVERY_GROUP = 'gateway';

/**
 * Builds the {@link KeySpace} for a prefix.
 * @param prefix - prepended to every key; conventionally ends with `:` (default `parley:`).
 */
export function keySpace(prefix = 'parley:'): KeySpace {
  const user = (kind: string) => (bare: string) => `${prefix}${kind}:{u:${bare}}`;
  const gw = (kind: string) => (id: string) => `${prefix}gw:{g:${id}}:${kind}`;
  const shard = (kind: string) => (n: number) => `${prefix}muc:{s:${n}}:${kind}`;
  // Gateway liveness keys share the slot of `<prefix>gateways` (its whole name is the hash
  // tag), so its Lua scripts (register, heartbeat, reap claim/resume/lock) stay single-slot on
  // Redis Cluster; the delivery streams stay in each gateway's own slot.
  const live = `{${prefix}gateways}`;
  return {
    prefix,
    userSessions: user('sessions'),
    offline: user('offline'),
    account: user('account'),
    accountIndex: () => `${prefix}accounts`,
    schemaVersion: () => `${prefix}schema-version`,
    tombstone: user('tombstone'),
    gateways: () => `${prefix}gateways`,
    gatewayInfo: gw('info'),
    gatewaySessions: gw('sessions'),
    gatewayDelivery: gw('deliver'),
    reaperLock: (id) => `${live}:reaper:${id}`,
    gatewayToken: (id) => `${live}:token:${id}`,
    gatewayReaping: gw('reaping'),
    reapingGateways: () => `${live}:reaping`,
    livenessState: () => `${live}:liveness`,
    saslDecoySecret: () => `${prefix}sasl-decoy-secret`,
    mucForwardKey: () => `${prefix}muc:forward-key`,
    authFailures: (kind: 'address' | 'account') => `${prefix}auth-failures:${kind}`,
    offlineQuota: user('offline-quota'),
    roster: user('roster'),
    rosterVersion: user('roster-ver'),
    rosterPending: user('roster-pending'),
    lastUnavailable: user('last-unavailable'),
    vcard: user('vcard'),
    privateXml: user('private'),
    lastActivity: user('last-activity'),
    registrations: () => `${prefix}registrations`,
    blocklist: user('blocklist'),
    pepNodes: user('pep-nodes'),
    pepMeta: user('pep-meta'),
    pepItems: (bare, node) => `${prefix}pep-items:{u:${bare}}:${node}`,
    smTakeover: (bare, nonce) => `${prefix}sm-takeover:{u:${bare}}:${nonce}`,
    smState: (bare, smId) => `${prefix}sm:{u:${bare}}:${smId}`,
    smQueue: (bare, smId) => `${prefix}sm:{u:${bare}}:${smId}:q`,
    smRooms: (bare, smId) => `${prefix}sm:{u:${bare}}:${smId}:rooms`,
    smExpiring: () => `${prefix}sm:expiring`,
    pepOrder: (bare, node) => `${prefix}pep-order:{u:${bare}}:${node}`,
    mamArchive: user('mam'),
    mamArchiveIndex: user('mam-ids'),
    mamPrefs: user('mam-prefs'),
    shardStream: shard('in'),
    shardLease: shard('lease'),
    shardFence: shard('fence'),
    shardCursor: shard('cursor'),
    shardRooms: shard('rooms'),
    shardLanes: shard('lanes'),
    shardHotRooms: shard('hot'),
    shardDeliveryHot: shard('delivery-hot'),
    roomHistory: (n, roomJid) => `${prefix}muc:{s:${n}}:history:${roomJid}`,
    roomOccupants: (n, roomJid) => `${prefix}muc:{s:${n}}:occupants:${roomJid}`,
    roomArchive: (n, roomJid) => `${prefix}muc:{s:${n}}:archive:${roomJid}`,
    roomArchiveIndex: (n, roomJid) => `${prefix}muc:{s:${n}}:archive-ids:${roomJid}`,
    roomArchiveTombstones: (n, roomJid) => `${prefix}muc:{s:${n}}:archive-tombstones:${roomJid}`,
    roomWorkers: () => `${prefix}room-workers`,
    roomWorkerInfo: (id) => `${prefix}room-worker:{w:${id}}:info`,
    roomDirectory: () => `${prefix}muc:directory`,
    mucShards: () => `${prefix}muc:shards`,
    mucReshard: () => `${prefix}muc:reshard`,
    commandReply: (id) => `${prefix}cmd:{c:${id}}:reply`,
    processMetrics: (service, instance) => `${prefix}metrics:{m:${service}:${instance}}`,
    metricsIndex: () => `${prefix}metrics:index`,
  };
}
