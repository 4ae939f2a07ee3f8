import { z } from 'zod';

/** The value that turns on test-only open authentication; nothing else does (see {@link configSchema}). */
export const OPEN_AUTH_BACKEND = 'open-insecure-test-only';

const port = z.number().int().min(0).max(65535);
const domain = z.string().min(1).max(1023).regex(/^[^@/\s]+$/, 'a domain name, without @, / or spaces');

/** A Redis Sentinel address: host name or IP address (IPv6 without brackets) and port. */
const sentinelAddress = z.object({
  host: z.string().min(1).max(255).regex(/^[^\s,/@]+$/, 'a host name or IP address'),
  port: z.number().int().min(1).max(65535),
}).strict();

/**
 * `redis.sentinel`: the sentinels to ask for the master, and the credentials (unknown keys
 * are errors, so a misspelt password field does not pass unnoticed). `username` /
 * `password` log in to the master (and replicas); `sentinelUsername` / `sentinelPassword` to
 * the sentinels (Redis `requirepass`/ACL of the sentinel processes), each only when set.
 */
export const redisSentinelSchema = z.object({
  /** The monitored master's name (`sentinel monitor <name> …`), e.g. `mymaster`. */
  masterName: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, '1-64 characters of [A-Za-z0-9_.-]'),
  /** At least one sentinel, at most 16; the client tries them in order. */
  sentinels: z.array(sentinelAddress).min(1).max(16),
  username: z.string().min(1).max(256).optional(),
  password: z.string().min(1).max(512).optional(),
  sentinelUsername: z.string().min(1).max(256).optional(),
  sentinelPassword: z.string().min(1).max(512).optional(),
  /** Database number on the master (default 0). */
  db: z.number().int().min(0).max(15).default(0),
}).strict();

/** The validated `redis.sentinel` setting. */
export type RedisSentinelConfig = z.infer<typeof redisSentinelSchema>;

/**
 * `redis.cluster` (issue #14 item 2): a Redis Cluster. `nodes` are seed nodes (`host:port`
 * as in {@link sentinelAddress}; any subset of the cluster's nodes, the client learns the rest
 * with `CLUSTER SLOTS` and follows `MOVED`/`ASK` redirections and failovers); `username` /
 * `password` log in to every node (Redis ACL user / `requirepass`), each only when set. Unknown
 * keys are errors. Cluster mode has one database, so there is no `db`.
 */
export const redisClusterSchema = z.object({
  /** At least one seed node, at most 64. */
  nodes: z.array(sentinelAddress).min(1).max(64),
  username: z.string().min(1).max(256).optional(),
  password: z.string().min(1).max(512).optional(),
}).strict();

/** The validated `redis.cluster` setting. */
export type RedisClusterConfig = z.infer<typeof redisClusterSchema>;

/**
 * The whole configuration of a parley process, validated at start-up.
 * Sizes are bytes, durations milliseconds. Every field has a default except where noted,
 * so an empty file (or no file) gives a working single-host development setup.
 */
export const configSchema = z
  .object({
    /** Virtual hosts served (RFC 6120 domainparts), e.g. `["localhost"]`. */
    hosts: z.array(domain).min(1).default(['localhost']),
    /** The XEP-0045 service domain; defaults to `conference.<first host>`. */
    mucDomain: domain.optional(),
    redis: z
      .object({
        url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
        /** Prepended to every key, so several clusters can share one Redis. */
        keyPrefix: z.string().max(64).default('parley:'),
        /**
         * Redis Sentinel (issue #14 item 2): when set, every process asks these sentinels for
         * the current master of `masterName` (and again after a failover) instead of
         * connecting to `url`, whose host, port and credentials are then unused. See
         * docs/operations.md "Redis high availability" for what a failover loses.
         */
        sentinel: redisSentinelSchema.optional(),
        /**
         * Redis Cluster (issue #14 item 2): when set, every process connects to this cluster
         * (seed nodes) instead of `url`; `sentinel` and `cluster` exclude each other. Every key
         * a Lua script or transaction touches is in one hash slot (docs/deploy.md "Redis
         * Cluster" lists the audit). `keyPrefix` must not contain `{` or `}`.
         */
        cluster: redisClusterSchema.optional(),
      })
      .refine((r) => !(r.sentinel && r.cluster), { message: 'redis.sentinel and redis.cluster exclude each other', path: ['cluster'] })
      .refine((r) => !r.cluster || !/[{}]/.test(r.keyPrefix), { message: 'with redis.cluster, keyPrefix must not contain { or } (hash tags)', path: ['keyPrefix'] })
      .prefault({}),
    gateway: z
      .object({
        /** Unique id of this gateway process; random when not set. */
        id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
        bindHost: z.string().min(1).default('127.0.0.1'),
        /** c2s over TCP (RFC 6120); 0 picks a free port. */
        c2sPort: port.default(5222),
        /** XMPP over WebSocket (RFC 7395); 0 picks a free port; -1 disables it. */
        wsPort: z.number().int().min(-1).max(65535).default(5280),
        /**
         * HTTP health listener on `bindHost` (`GET /healthz`: the process runs; `GET /readyz`:
         * 200 when registered in Redis with a fresh heartbeat, else 503; no token, status only);
         * -1 (default) disables it, 0 picks a free port (logged in `gateway ready` as `healthPort`).
         */
        healthPort: z.number().int().min(-1).max(65535).default(-1),
        wsPath: z.string().startsWith('/').default('/xmpp-websocket'),
        /**
         * XEP-0156 discovery: the public WebSocket URL (`ws://` or `wss://`, at most 2048
         * characters) that `/.well-known/host-meta` and `/.well-known/host-meta.json` on the
         * WebSocket listener advertise, e.g. behind a proxy. Unset: derived from the listener
         * (`wss` with `tls.wss` or `tls.behindTlsProxy`, the requested host when it is a served
         * domain, the listener's port and `wsPath`).
         */
        wsPublicUrl: z
          .string()
          .max(2048)
          .regex(/^wss?:\/\/[^\s"'<>]+$/, 'a ws:// or wss:// URL')
          .optional(),
        /**
         * XEP-0368 direct TLS c2s listener (TLS from the first byte, then RFC 6120 streams);
         * conventionally 5223. Opened only when a certificate is configured (`tls.certFile`
         * or `tls.certificates`); 0 picks a free port; -1 (the default) disables it.
         */
        directTlsPort: z.number().int().min(-1).max(65535).default(-1),
        /**
         * Listen backlog of each client listener (c2s, direct TLS, WebSocket): connections the
         * kernel completes and queues while the gateway has not accepted them yet, count (Linux
         * caps it at `net.core.somaxconn`). Node's default is 511; a reconnect storm after a
         * gateway restart may need more, or clients see resets.
         */
        listenBacklog: z.number().int().min(1).max(65535).default(511),
        /** How often the gateway refreshes its heartbeat in Redis. */
        heartbeatMs: z.number().int().min(100).max(60_000).default(1000),
        /** A gateway whose heartbeat is older than this is dead and its sessions are removed. */
        deadAfterMs: z.number().int().min(300).max(600_000).default(5000),
        /**
         * Stanzas from clients that may wait, gateway-wide, while Redis is unreachable; more get
         * the stanza error `resource-constraint` (type wait, RFC 6120 §8.3.3.18). The session stays open.
         */
        outageBufferStanzas: z.number().int().min(0).max(1_000_000).default(10_000),
        /** How long one client stanza may wait for Redis to come back before `resource-constraint`, ms. */
        outageWaitMs: z.number().int().min(0).max(600_000).default(30_000),
        /** Seconds a connection may stay silent before it is closed (whitespace keepalives count). */
        idleTimeoutMs: z.number().int().min(1000).default(300_000),
        /** Time allowed from TCP connect to authenticated session. */
        authTimeoutMs: z.number().int().min(1000).default(30_000),
      })
      .prefault({}),
    tls: z
      .object({
        /** PEM certificate chain; with keyFile, enables STARTTLS (RFC 6120 §5). */
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
        /**
         * Require an encrypted connection before SASL on every transport: STARTTLS on c2s
         * (RFC 6120 §5.3.1 mandatory-to-negotiate), wss:// on WebSocket (RFC 7395 has no
         * STARTTLS). Needs certFile/keyFile, and `wss: true` unless `gateway.wsPort` is -1;
         * the configuration is refused otherwise (see docs/operations.md "TLS and secrets").
         */
        required: z.boolean().default(false),
        /** Serve the WebSocket listener as wss:// (TLS from the first byte) with certFile/keyFile. */
        wss: z.boolean().default(false),
        /**
         * Per-host certificates, chosen by the TLS server name indication (RFC 6066 §3) the
         * client sends on STARTTLS, direct TLS and wss://. A client that sends no name, or one
         * not listed, gets `certFile`/`keyFile`, or else the first entry. PEM files; read at
         * start and again on SIGHUP (a file that cannot be read stops the start-up with one
         * error line, exit 78; on SIGHUP the old certificates stay).
         * Env: `PARLEY_TLS_CERTIFICATES=host:certFile:keyFile,...`.
         */
        certificates: z
          .array(z.object({ host: domain, certFile: z.string().min(1), keyFile: z.string().min(1) }).strict())
          .max(1000)
          .default([]),
        /**
         * The WebSocket listener is reached only through a TLS-terminating reverse proxy on a
         * private network: plain ws:// sessions then count as encrypted (PLAIN is offered, and
         * `tls.required` accepts them). Never set it when clients can reach the ws:// port
         * directly: their passwords would cross the network in clear.
         */
        behindTlsProxy: z.boolean().default(false),
        /**
         * Offer SCRAM-SHA-256-PLUS / SCRAM-SHA-1-PLUS (RFC 5802 §6) with the channel binding
         * types of XEP-0440 (`tls-exporter` on TLS 1.3, RFC 9266; `tls-server-end-point`,
         * RFC 5929) on connections whose TLS ends at this gateway (STARTTLS, direct TLS, wss).
         * Never offered on ws:// behind a TLS-terminating proxy (`behindTlsProxy`): the binding
         * data would be the proxy's. Off by default: with -PLUS offered, RFC 5802 §6 makes us
         * refuse a client that then says `y` (it supports binding but thinks we do not), and
         * clients that bind only with `tls-unique` (undefined on TLS 1.3) do exactly that:
         * slixmpp 1.8 could not log in over TLS. Prosody 0.12 offers no -PLUS on TLS 1.3 either.
         * Leave it off when a proxy terminates the clients' TLS and opens its own TLS to the
         * gateway (every -PLUS login would fail there).
         */
        channelBinding: z.boolean().default(false),
      })
      .prefault({})
      .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
        message: 'tls.certFile and tls.keyFile must be given together',
      }),
    auth: z
      .object({
        /**
         * `redis`: accounts in Redis, managed with xmppctl.
         * `open-insecure-test-only`: ANY user@host logs in with ANY password over PLAIN and the
         * account is created on first login. For conformance tests only.
         */
        backend: z.enum(['redis', OPEN_AUTH_BACKEND]).default('redis'),
        /** Offer SASL PLAIN on connections without TLS (test setting; PLAIN sends the password). */
        allowPlainWithoutTls: z.boolean().default(false),
        /** PBKDF2 iterations for newly stored SCRAM credentials (RFC 5802 §5.1, at least 4096). */
        scramIterations: z.number().int().min(4096).max(1_000_000).default(4096),
        /**
         * Failed SASL attempts (`not-authorized`) from one remote IP address, over all gateways,
         * within `failureWindowMs`; after that many, authentication from that address is
         * refused with `temporary-auth-failure` (RFC 6120 §6.5.11) until the window ends.
         */
        maxFailuresPerAddress: z.number().int().min(1).max(1_000_000).default(20),
        /** Failed SASL attempts against one account, over all gateways, within `failureWindowMs`; then refused likewise. */
        maxFailuresPerAccount: z.number().int().min(1).max(1_000_000).default(10),
        /** The window of the failure counts, ms; it starts at the first failure (a fixed window). */
        failureWindowMs: z.number().int().min(1000).max(24 * 3600 * 1000).default(600_000),
      })
      .prefault({}),
    limits: z
      .object({
        /** Largest stanza accepted after authentication (RFC 6120 §13.12 suggests at least 10000). */
        maxStanzaBytes: z.number().int().min(10_000).max(16 * 1024 * 1024).default(256 * 1024),
        /** Largest element accepted before authentication (stream header, SASL exchange). */
        maxPreAuthBytes: z.number().int().min(1024).max(256 * 1024).default(8 * 1024),
        /** Deepest element nesting inside a stanza (the stanza itself is depth 1). */
        maxDepth: z.number().int().min(8).max(1024).default(64),
        /**
         * Per session: bytes read per second from the client, sustained (token bucket; issue #10).
         * Past it the gateway stops reading the socket until the bucket refills (TCP
         * backpressure), it never disconnects. Default between Prosody's mod_limits c2s
         * `10kb/s` and ejabberd's `fast` shaper (50000 B/s); see docs/operations.md "Input limits".
         */
        bytesPerSecond: z.number().int().min(1000).max(1024 * 1024 * 1024).default(50_000),
        /** Per session: the byte bucket's size (burst allowed on top of the rate), bytes; 2 s of the default rate. */
        burstBytes: z.number().int().min(1000).max(1024 * 1024 * 1024).default(100_000),
        /** Per session: top-level elements (stanzas and nonzas) read per second, sustained; reading pauses beyond. */
        stanzasPerSecond: z.number().int().min(1).max(1_000_000).default(200),
        /** Per session: the element bucket's size (burst), elements; 2 s of the default rate. */
        burstStanzas: z.number().int().min(1).max(1_000_000).default(400),
        /**
         * Per session: parsed elements waiting to be handled (they are handled one at a time,
         * in order). At this many the socket is no longer read until the queue is down to half.
         */
        maxQueuedStanzas: z.number().int().min(2).max(100_000).default(128),
        /**
         * Per session: bytes written but not yet taken by the client's socket. Beyond it the
         * session ends with the stream error `resource-constraint` (RFC 6120 §4.9.3.17).
         */
        maxSendBufferBytes: z.number().int().min(64 * 1024).max(1024 * 1024 * 1024).default(8 * 1024 * 1024),
        /** Per gateway and remote IP address: open client connections; further ones are refused (loopback included). */
        maxConnectionsPerAddress: z.number().int().min(1).max(10_000_000).default(1000),
        /** Per gateway and remote IP address: connections not yet authenticated (SASL); further ones are refused. */
        maxUnauthenticatedPerAddress: z.number().int().min(1).max(10_000_000).default(100),
        /**
         * Overload backpressure (issue #10 item 6): when the oldest stanza a room shard has not
         * applied yet is older than this, the gateways hold that shard's senders (their sockets
         * stop being read) until it is below half of it. 0 turns it off.
         */
        shardMaxLagMs: z.number().int().min(0).max(600_000).default(1000),
        /** How often a gateway reads the lag of the room shards it writes to. */
        shardLagPollMs: z.number().int().min(10).max(60_000).default(50),
        /** Longest one stanza is held for a lagging shard; it then goes out anyway (nothing is dropped). */
        shardMaxHoldMs: z.number().int().min(100).max(600_000).default(10_000),
        /**
         * Overload backpressure on a gateway's delivery stream (issue #10 item 6): when every
         * entry handled during an interval waited longer than this (ms, XADD to handling: a
         * standing queue, as CoDel judges one), the rooms that produced most of the deliveries
         * are held (their senders' sockets stop being read, on every gateway) until an interval's
         * smallest wait is at or below half of it, so that quiet rooms' messages do not queue
         * behind a flood. 0 turns it off.
         */
        deliveryMaxWaitMs: z.number().int().min(0).max(60_000).default(20),
        /** The observation interval of `deliveryMaxWaitMs`, ms. */
        deliveryWaitIntervalMs: z.number().int().min(10).max(10_000).default(100),
        /**
         * Overload backpressure on a saturated process (issue #10 item 6): when a gateway's or
         * room worker's event loop is busy more than this share of the time (0–1, measured over
         * `deliveryWaitIntervalMs` on gateways and `shardLagPollMs` on workers), the senders
         * of the rooms that flood it (≥ 3 entries in an interval on a gateway, ≥ 3 pending on a
         * worker) are held like those of `deliveryMaxWaitMs`, so that the other rooms find the
         * process with time to spare. 1 (the default) turns it off: on this project's 2-vCPU
         * test machine a gateway's loop is busier than 0.9 already at the load it still keeps up
         * with (1× saturation), and holding there raised that load's p50 from 10 to 140–240 ms
         * (docs/operations.md, "Overload"). Lower it only where processes have cores of their own.
         */
        maxEventLoopBusy: z.number().min(0.1).max(1).default(1),
        /**
         * Per account: roster items (RFC 6121 §2). A roster set adding one more, or a
         * subscription that would add an item, is refused with `resource-constraint`
         * (RFC 6121 §2.3.3 lets a server bound rosters; RFC 6120 §8.3.3.18).
         */
        maxRosterItems: z.number().int().min(1).max(100_000).default(1000),
        /** Longest roster item name and group name, in UTF-8 bytes; longer ones get `not-acceptable` (RFC 6121 §2.3.3). */
        maxRosterNameBytes: z.number().int().min(16).max(65_535).default(1023),
        /** Most groups on one roster item; more get `not-acceptable`. */
        maxRosterGroups: z.number().int().min(1).max(10_000).default(100),
        /**
         * Per session: distinct JIDs it sent directed presence to (RFC 6121 §4.6), remembered
         * so they get unavailable presence at logout; past it, older targets are forgotten.
         */
        maxDirectedPresence: z.number().int().min(0).max(10_000).default(100),
        /**
         * Per account: the stored XEP-0054 vCard, in bytes of its serialised XML. A vCard set
         * past it is refused with `not-acceptable` (RFC 6120 §8.3.3.9: the request does not meet
         * the server's criteria) and the stored vCard stays as it was. The default, 128 KiB,
         * holds an avatar 10 times the 8 KB XEP-0153 §4.1 recommends (base64 grows it by a
         * third) and stays under half of `maxStanzaBytes`, since the vCard travels in one iq.
         */
        maxVcardBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(128 * 1024),
        /**
         * Per account: XEP-0049 private XML storage, in bytes of the serialised elements over
         * every namespace stored. A set that would go past it gets `not-acceptable` and stores
         * nothing. 256 KiB holds XEP-0048 bookmarks of about a thousand rooms.
         */
        maxPrivateBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(256 * 1024),
        /** Per account: distinct elements (name and namespace) in XEP-0049 private storage; one more gets `not-acceptable`. */
        maxPrivateItems: z.number().int().min(1).max(10_000).default(100),
        /**
         * Per account: JIDs on the XEP-0191 blocklist. A block that would go past it changes
         * nothing and gets `policy-violation` (RFC 6120 §8.3.3.12); one request may name at most
         * this many items. Prosody 0.12 sets no bound; 1000 is the roster's bound too.
         */
        maxBlocklistItems: z.number().int().min(1).max(100_000).default(1000),
        /**
         * Per account: XEP-0163 PEP nodes (auto-created on first publish, XEP-0060 §7.1.5). A
         * publish that would create one more gets `not-acceptable` and changes nothing. Prosody
         * 0.12 sets no bound; 64 holds what Conversations, Dino and Gajim publish (avatar,
         * nick, bookmarks, OMEMO device list and a few bundles).
         */
        maxPepNodes: z.number().int().min(1).max(10_000).default(64),
        /**
         * Per PEP node: the largest `pubsub#max_items` (and what `max` means, XEP-0060 §16.4.4);
         * a larger requested value gets `not-acceptable`. Bookmarks (XEP-0402) keep one item
         * per room, so this is also the most rooms a bookmarks node holds.
         */
        maxPepItems: z.number().int().min(1).max(100_000).default(256),
        /**
         * Per PEP item: the serialised payload, in bytes; past it a publish gets `not-acceptable`
         * with `<payload-too-big/>` (XEP-0060 §7.1.3.4). 64 KiB holds a XEP-0084 avatar of about
         * 48 KB (base64 grows it by a third).
         */
        maxPepItemBytes: z.number().int().min(256).max(16 * 1024 * 1024).default(64 * 1024),
        /**
         * Per account: bytes of every stored PEP item payload together; a publish that would go
         * past it gets `not-acceptable` and stores nothing.
         */
        maxPepBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(2 * 1024 * 1024),
        /**
         * Per session: the `<node>+notify` features (XEP-0163 §4.4, XEP-0115) remembered from its
         * client's disco#info; more are ignored. Also the bound of the gateway's cache of
         * verified caps hashes (entries, not per session).
         */
        maxNotifyNodes: z.number().int().min(1).max(10_000).default(128),
        /**
         * Per session: stanzas held back while the client says it is inactive (XEP-0352); when
         * the queue is full it is flushed. Presence keeps only the latest per sender full JID.
         */
        maxCsiQueue: z.number().int().min(1).max(10_000).default(200),
      })
      .prefault({}),
    register: z
      .object({
        /**
         * XEP-0077 in-band registration: anyone who can reach the c2s port may create an
         * account before authenticating (the `register` stream feature). Off by default, as in
         * Prosody (`allow_registration = false`): open registration invites spam accounts.
         * Password change and account removal (`<remove/>`) by an authenticated user work either way.
         */
        enabled: z.boolean().default(false),
        /**
         * Accounts created in-band from one remote IP address, over all gateways, within
         * `windowMs`; further attempts get `not-acceptable` (XEP-0077 §3.1 allows it for
         * "too many times") until the window ends.
         */
        maxPerAddress: z.number().int().min(1).max(1_000_000).default(5),
        /** The window of `maxPerAddress`, ms; it starts at the first registration (a fixed window). */
        windowMs: z.number().int().min(1000).max(7 * 24 * 3600 * 1000).default(3600_000),
        /** Longest password accepted at registration or password change, UTF-8 bytes (longer: `not-acceptable`). */
        maxPasswordBytes: z.number().int().min(8).max(4096).default(1023),
      })
      .prefault({}),
    sm: z
      .object({
        /**
         * XEP-0198 §5: how long a session whose connection dropped without `</stream>` is kept
         * for resumption, seconds (the `max` of `<enabled/>`, or the client's smaller `max`); 0
         * offers no resumption. Default 300 (Prosody 0.12's mod_smacks: 600).
         */
        resumeTimeoutSec: z.number().int().min(0).max(86_400).default(300),
        /**
         * XEP-0198 §4: stanzas sent to a client and not yet acknowledged (plus those queued while
         * its session is detached), per session; one more ends the session with the
         * `resource-constraint` stream error (RFC 6120 §4.9.3.17), unacknowledged ones handled
         * as undelivered (RFC 6121 §8.5).
         */
        maxUnacked: z.number().int().min(10).max(100_000).default(500),
        /** XEP-0198 §4: the server sends `<r/>` after this many unacknowledged stanzas... */
        ackRequestStanzas: z.number().int().min(1).max(10_000).default(5),
        /** ...or this long (ms) after an unacknowledged stanza was sent, whichever comes first. */
        ackRequestMs: z.number().int().min(100).max(600_000).default(5000),
      })
      .prefault({}),
    offline: z
      .object({
        /** Store messages to users with no available resource (RFC 6121 §8.5.2.1.1); false answers service-unavailable. */
        enabled: z.boolean().default(true),
        /** Per user; further messages get service-unavailable. */
        maxMessages: z.number().int().min(1).max(100_000).default(500),
        /** Per user: bytes of stored messages; a message that would go past it gets service-unavailable. */
        maxBytes: z.number().int().min(1024).max(1024 * 1024 * 1024).default(8 * 1024 * 1024),
        /** Per user and sender (bare JID): stored messages; further ones from that sender get service-unavailable. */
        maxMessagesPerSender: z.number().int().min(1).max(100_000).default(100),
        /** Per user and sender (bare JID): bytes of stored messages; beyond it, service-unavailable. */
        maxBytesPerSender: z.number().int().min(1024).max(1024 * 1024 * 1024).default(1024 * 1024),
      })
      .prefault({}),
    /**
     * XEP-0313 message archives of accounts (kept in Redis by the gateways: one stream per
     * account in its slot, services/gateway/src/mam): one-to-one `chat`/`normal` messages
     * with a body, both directions.
     */
    mam: z
      .object({
        /** Most messages one account's archive keeps; the oldest are trimmed first (XEP-0313 §2.2). */
        maxMessagesPerAccount: z.number().int().min(1).max(1_000_000).default(10_000),
        /**
         * Greatest age of archived messages, days (Prosody 0.12's `archive_expires_after`
         * default is one week): older ones are left out of query results and trimmed at the
         * account's next archived message. 0: no age limit.
         */
        maxAgeDays: z.number().int().min(0).max(36_500).default(7),
        /**
         * Results per query page when the client asks for none, and the cap on its RSM
         * `<max/>` (Prosody's `max_archive_query_results` default: 50).
         */
        maxQueryResults: z.number().int().min(1).max(1000).default(50),
      })
      .prefault({}),
    muc: z
      .object({
        /**
         * Number of shard streams rooms are spread over (XEP-0045 rooms hash to one each).
         * Stored rooms live under their shard: the count is stored in Redis at first start, a
         * gateway or room worker with another count refuses to start, and
         * `xmppctl muc reshard --shards N` (cluster stopped) changes it.
         */
        shards: z.number().int().min(1).max(4096).default(64),
        /** Bare JIDs with owner rights in every room (service administrators, XEP-0045 §5.2). */
        admins: z.array(z.string().min(3).max(3071)).default([]),
        /** Discussion history kept per room by default, in messages (XEP-0045 §7.2.15); 0 keeps none. */
        historyLength: z.number().int().min(0).max(1000).default(20),
        /**
         * How long a room relays the answer to an IQ it forwarded to an occupant (XEP-0045
         * §17.4 rule 3), ms since the request; later answers are dropped. The room keeps no
         * state per request: the forwarded id carries its issue time under an HMAC.
         */
        iqForwardTtlMs: z.number().int().min(1000).max(3_600_000).default(300_000),
        /**
         * XEP-0317: most hats one user may wear in a room (assigned through the admin API;
         * more are refused with 400 `bad-request`). Each hat's title is at most 256 UTF-8
         * bytes and its URI at most 1024.
         */
        maxHatsPerUser: z.number().int().min(1).max(256).default(16),
        /**
         * XEP-0045 §7.13: least time between two voice requests of one occupant that reach
         * the moderators, ms; a request sooner than that gets `resource-constraint` (type
         * wait). 0 relays every request (as Prosody 0.12 does).
         */
        voiceRequestIntervalMs: z.number().int().min(0).max(86_400_000).default(60_000),
        /**
         * XEP-0313 room archives (kept in Redis, one stream per room in its shard's slot;
         * rooms turn archiving on or off with `muc#roomconfig_enablearchiving`, on by default).
         */
        archive: z
          .object({
            /** Most messages one room's archive keeps; the oldest go first (XEP-0313 §2.2). */
            maxMessages: z.number().int().min(1).max(1_000_000).default(10_000),
            /**
             * Whether a new room archives (its `muc#roomconfig_enablearchiving` default, as
             * Prosody 0.12's `muc_log_by_default`); owners still turn it on or off per room.
             */
            defaultEnabled: z.boolean().default(true),
            /**
             * Greatest age of archived messages, days (Prosody 0.12's `muc_log_expires_after`
             * default is one week): older ones are left out of query results and trimmed
             * from the archive at the room's next archived message. 0: no age limit.
             */
            maxAgeDays: z.number().int().min(0).max(36_500).default(7),
            /**
             * Results per query page when the client asks for none, and the cap on its RSM
             * `<max/>` (Prosody's `max_archive_query_results` default: 50).
             */
            maxQueryResults: z.number().int().min(1).max(1000).default(50),
          })
          .prefault({}),
      })
      .prefault({}),
    roomWorker: z
      .object({
        /** Unique id of this room worker process; random when not set. */
        id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
        /**
         * HTTP health listener (`GET /healthz`: the process runs; `GET /readyz`: 200 while its
         * membership heartbeat in Redis is fresh, else 503; no token, status only); -1 (default)
         * disables it, 0 picks a free port (logged in `room worker ready` as `healthPort`).
         */
        healthPort: z.number().int().min(-1).max(65535).default(-1),
        /** Listen address of the health listener (`0.0.0.0` for probes from other hosts). */
        healthBindHost: z.string().min(1).default('127.0.0.1'),
        /** How long a shard lease lasts without renewal; a dead worker's shards move after this. */
        leaseTtlMs: z.number().int().min(300).max(600_000).default(4000),
        /** How often a worker renews its leases, refreshes its heartbeat and rebalances. */
        heartbeatMs: z.number().int().min(50).max(60_000).default(1000),
        /**
         * Stream entries applied per turn, in all the worker's shards (one state commit per shard
         * per turn), taken round robin between rooms' lanes; a catch-up after loading a shard
         * applies that many of its entries per turn. Smaller: shorter turns (the latency every
         * waiting stanza pays under load), more commits.
         */
        batchSize: z.number().int().min(1).max(10_000).default(256),
        /**
         * Outgoing stanzas a turn may produce before it stops applying entries (the rest wait
         * for the next turn; each shard with work still applies one entry per turn). A join to a
         * room of N occupants produces about 2N stanzas (XEP-0045 §7.2.3), so this, not
         * `batchSize`, bounds a turn of joins to a big room: how long the event loop is busy and
         * how big the turn's delivery pipeline is.
         */
        maxOutputsPerTurn: z.number().int().min(1).max(1_000_000).default(8192),
        /**
         * Lanes of rooms per shard (issue #10 item 6): a turn serves a shard's lanes round robin
         * and each lane in stream order, so a flooded room delays only the rooms of its own lane
         * (about 1 in `lanes` of its shard's rooms). Each gateway remembers one delivery mark
         * per shard and lane. Change it only with the whole cluster stopped.
         */
        lanes: z.number().int().min(1).max(1024).default(64),
        /**
         * Stream entries read ahead of the turns per shard (entries in memory, waiting), so that
         * the fair schedule sees the quiet rooms' entries behind a flooded room's backlog. A
         * shard's memory holds at most twice this many entries.
         */
        readAhead: z.number().int().min(1).max(100_000).default(1024),
      })
      .prefault({})
      .refine((w) => w.heartbeatMs * 2 < w.leaseTtlMs, { message: 'roomWorker.heartbeatMs must be less than half of roomWorker.leaseTtlMs' }),
    metrics: z
      .object({
        /**
         * How often each gateway and room worker writes its Prometheus metrics to Redis (issue #4);
         * a process's metrics expire three periods after its last write.
         */
        publishMs: z.number().int().min(100).max(300_000).default(5000),
        /**
         * Each gateway and room worker also serves its own metrics (Prometheus text format 0.0.4,
         * `service` and `process` labels, no `instance`) at `GET /metrics` on its health listener
         * (`gateway.healthPort`, `roomWorker.healthPort`), without a token, for a Prometheus that
         * scrapes every process (issue #14 item 4). Off by default: the health listener has no
         * token, and the gateway's binds to `gateway.bindHost`, often a public address.
         */
        healthListenerEnabled: z.boolean().default(false),
      })
      .prefault({}),
    adminApi: z
      .object({
        /** Listen address of the admin REST API (issue #4); keep it on loopback or a private network. */
        bindHost: z.string().min(1).default('127.0.0.1'),
        /** HTTP port; 0 picks a free port. */
        port: port.default(5380),
        /**
         * Bearer tokens accepted, stored as the SHA-256 (hex) of the token, never the token
         * itself. `read` allows GET only; `admin` allows everything.
         */
        tokens: z
          .array(
            z
              .object({
                name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1..64)'),
                sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, '64 hex digits: the SHA-256 of the token').transform((h) => h.toLowerCase()),
                scope: z.enum(['read', 'admin']),
              })
              .strict(),
          )
          .default([]),
        /** Endpoints served without a token besides `/healthz` and `/readyz` (always open): `docs` (/docs, /openapi.json), `metrics`; `readyz` is accepted and changes nothing. */
        publicEndpoints: z.array(z.enum(['docs', 'metrics', 'readyz'])).default([]),
        /** How long a room command may take before the API answers 503 room-unavailable. */
        commandTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      })
      .prefault({}),
    jobs: z
      .object({
        /**
         * How long a deleted account's name is remembered (its tombstone, set first by the
         * `delete-user` job), so a new account of that name can be refused meanwhile.
         */
        tombstoneTtlMs: z.number().int().min(1000).default(7 * 24 * 3600 * 1000),
        /** Offline messages older than this (by their XEP-0203 delay stamp) are removed by `cleanup-offline`. */
        offlineRetentionMs: z.number().int().min(60_000).default(30 * 24 * 3600 * 1000),
        /** How often `cleanup-offline` runs on its own (a BullMQ job scheduler). */
        cleanupEveryMs: z.number().int().min(1000).default(3600 * 1000),
        /** Attempts per job (the first run included); retries back off exponentially from 1 s. */
        attempts: z.number().int().min(1).max(100).default(5),
      })
      .prefault({}),
    debug: z
      .object({
        /**
         * Per-hop latency trace of groupchat messages (issue #15 item 1; @parley/bus
         * hop-trace.ts): gateways and room workers stamp each groupchat message to a room
         * (µs of the machine's monotonic clock) at every hop and carry the stamps in the bus envelopes; the gateway
         * that writes it to a recipient's TCP socket logs one `hop trace` JSON line (info
         * level) per recipient. Costs a few hundred bytes per message and a log line per
         * delivery: for measurements, never in production. Off: nothing stamped or logged.
         */
        hopTrace: z.boolean().default(false),
      })
      .prefault({}),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Human-readable output (the dev launcher turns this on); JSON otherwise. */
        pretty: z.boolean().default(false),
      })
      .prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Issue #10 item 7: tls.required holds on every transport, or the process does not start.
    const hasCert = (c.tls.certFile !== undefined && c.tls.keyFile !== undefined) || c.tls.certificates.length > 0;
    if (c.tls.wss && !hasCert) ctx.addIssue({ code: 'custom', path: ['tls', 'wss'], message: 'tls.wss needs tls.certFile and tls.keyFile (or tls.certificates)' });
    if (c.tls.wss && c.tls.behindTlsProxy) {
      ctx.addIssue({ code: 'custom', path: ['tls', 'behindTlsProxy'], message: 'tls.behindTlsProxy is for a plain ws:// listener behind a TLS-terminating proxy; it contradicts tls.wss' });
    }
    if (!c.tls.required) return;
    if (!hasCert) {
      ctx.addIssue({ code: 'custom', path: ['tls', 'required'], message: 'tls.required needs tls.certFile and tls.keyFile (STARTTLS cannot be offered without a certificate)' });
    }
    if (c.gateway.wsPort >= 0 && !c.tls.wss && !c.tls.behindTlsProxy) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls', 'required'],
        message: 'tls.required with a plain ws:// listener: WebSocket has no STARTTLS (RFC 7395); set tls.wss=true (PARLEY_TLS_WSS), tls.behindTlsProxy=true (PARLEY_TLS_BEHIND_PROXY) when a TLS-terminating proxy on a private network is in front, or disable WebSocket with gateway.wsPort=-1',
      });
    }
  });

/** A validated configuration with every default filled in and `mucDomain` resolved. */
export type Config = Omit<z.output<typeof configSchema>, 'mucDomain'> & { mucDomain: string };
