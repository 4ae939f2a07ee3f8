import { z } from 'zod';

/** The value that turns on test-only open authentication; nothing else does (see {@link configSchema}). */
export const OPEN_AUTH_BACKEND = 'open-insecure-test-only';

const port = z.number().int().min(0).max(65535);
const domain = z.string().min(1).max(1023).regex(/^[^@/\s]+$/, 'a domain name, without @, / or spaces');

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
      })
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
        wsPath: z.string().startsWith('/').default('/xmpp-websocket'),
        /** How often the gateway refreshes its heartbeat in Redis. */
        heartbeatMs: z.number().int().min(100).max(60_000).default(1000),
        /** A gateway whose heartbeat is older than this is dead and its sessions are removed. */
        deadAfterMs: z.number().int().min(300).max(600_000).default(5000),
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
        /** Require STARTTLS before SASL (RFC 6120 §5.3.1 mandatory-to-negotiate). */
        required: z.boolean().default(false),
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
      })
      .prefault({}),
    offline: z
      .object({
        /** Store messages to users with no available resource (RFC 6121 §8.5.2.1.1); false answers service-unavailable. */
        enabled: z.boolean().default(true),
        /** Per user; further messages get service-unavailable. */
        maxMessages: z.number().int().min(1).max(100_000).default(500),
      })
      .prefault({}),
    muc: z
      .object({
        /**
         * Number of shard streams rooms are spread over (XEP-0045 rooms hash to one each).
         * Fixed for the life of the data: stored rooms live under their shard.
         */
        shards: z.number().int().min(1).max(4096).default(64),
        /** Bare JIDs with owner rights in every room (service administrators, XEP-0045 §5.2). */
        admins: z.array(z.string().min(3).max(3071)).default([]),
        /** Discussion history kept per room by default, in messages (XEP-0045 §7.2.15); 0 keeps none. */
        historyLength: z.number().int().min(0).max(1000).default(20),
      })
      .prefault({}),
    roomWorker: z
      .object({
        /** Unique id of this room worker process; random when not set. */
        id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
        /** How long a shard lease lasts without renewal; a dead worker's shards move after this. */
        leaseTtlMs: z.number().int().min(300).max(600_000).default(4000),
        /** How often a worker renews its leases, refreshes its heartbeat and rebalances. */
        heartbeatMs: z.number().int().min(50).max(60_000).default(1000),
        /** Stream entries applied per shard per turn (one state commit per turn). */
        batchSize: z.number().int().min(1).max(10_000).default(256),
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
        /** Endpoints served without a token besides `/healthz`: `docs` (/docs, /openapi.json), `metrics`, `readyz`. */
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
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        /** Human-readable output (the dev launcher turns this on); JSON otherwise. */
        pretty: z.boolean().default(false),
      })
      .prefault({}),
  })
  .strict();

/** A validated configuration with every default filled in and `mucDomain` resolved. */
export type Config = Omit<z.output<typeof configSchema>, 'mucDomain'> & { mucDomain: string };
