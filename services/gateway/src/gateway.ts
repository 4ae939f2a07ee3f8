import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { TLSSocket } from 'node:tls';
import { Redis } from 'ioredis';
import { createRedis } from '@parley/service-runtime';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { encodeEnvelope, keySpace, shardForRoom, type KeySpace } from '@parley/bus';
import { OPEN_AUTH_BACKEND, type Config } from '@parley/config';
import { AccountStore } from '@parley/accounts';
import { createRegistry, MetricsPublisher } from '@parley/metrics';
import { PLUS_MECHANISMS, SUPPORTED_MECHANISMS } from '@parley/sasl';
import type { Registry } from 'prom-client';
import { saslByHost } from './auth/sasl-backends.js';
import { Liveness } from './liveness/liveness.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { hopTracing } from '@parley/bus';
import { configureHopTrace } from './metrics/hop-trace.js';
import { batchWritesPerTurn } from './routing/batch-writes.js';
import { DeliveryConsumer } from './routing/delivery-consumer.js';
import { LocalSessions } from './routing/local-sessions.js';
import { OfflineStore } from './routing/offline-store.js';
import { Router } from './routing/router.js';
import { coreIqHandlers, type IqHandlers } from './server/iq-handlers.js';
import { defineScripts, type ScriptedRedis } from './routing/scripts.js';
import { SessionRegistry } from './routing/session-registry.js';
import { ShardBackpressure } from './routing/shard-backpressure.js';
import { DeliveryPressure } from './routing/delivery-pressure.js';
import { RosterStore } from './roster/roster-store.js';
import { PresenceService } from './roster/presence.js';
import { registerRosterHandlers } from './roster/roster-iq.js';
import { AccountServices } from './account/index.js';
import { Blocking } from './blocking/blocking.js';
import { BlocklistStore } from './blocking/blocklist-store.js';
import { BlocklistCache } from './blocking/blocklist-cache.js';
import { Carbons } from './carbons/carbons.js';
import { PepService } from './pep/pep.js';
import { PepStore } from './pep/pep-store.js';
import { AccountArchive } from './mam/mam.js';
import { MamStore } from '@parley/accounts';
import { ClientSession, type SessionDeps } from './session/session.js';
import { SmTakeover } from './sm/sm-takeover.js';
import { SmStore } from './sm/sm-store.js';
import { SmOrphans } from './sm/sm-orphans.js';
import { TcpTransport } from './transport/tcp-transport.js';
import { AddressLimits, addressKey, refuseTcp, type AddressTicket } from './transport/address-limits.js';
import { AuthThrottle } from './session/auth-throttle.js';
import { WebSocketTransport } from './transport/websocket-transport.js';
import { hostMetaHandler } from './transport/host-meta.js';
import { TlsCertificates } from './transport/tls-certificates.js';

/** The ports a started gateway listens on (useful when the configuration asked for port 0). */
export interface GatewayAddresses {
  c2sPort: number;
  /** -1 when WebSocket is disabled. */
  wsPort: number;
  /** XEP-0368 direct TLS port; -1 when disabled (no certificate, or `gateway.directTlsPort` -1). */
  directTlsPort: number;
}

/**
 * One edge gateway process: accepts c2s connections over TCP and WebSocket, authenticates
 * them, registers their sessions in Redis and routes their stanzas through Redis Streams.
 * It keeps no state that another gateway could not rebuild from Redis.
 */
export class Gateway {
  readonly id: string;
  readonly keys: KeySpace;
  /** This process's Prometheus registry (`service="gateway"`, `process=<id>`), published to Redis. */
  readonly metricsRegistry: Registry;
  private readonly metrics: GatewayMetrics;
  private readonly publisher: MetricsPublisher;
  private readonly redis: ScriptedRedis;
  private readonly reader: Redis;
  private readonly local = new LocalSessions();
  private readonly sessions = new Set<ClientSession>();
  /** Per remote address connection caps (issue #10) and each session's hold on them. */
  private readonly addressLimits: AddressLimits;
  private readonly tickets = new Map<ClientSession, AddressTicket>();
  private readonly authThrottle: AuthThrottle;
  private readonly registry: SessionRegistry;
  private readonly router: Router;
  /** The iq requests answered by the server itself; modules register theirs in the constructor. */
  private readonly iq: IqHandlers = coreIqHandlers((owner, requester) => this.roster.sendsPresenceTo(owner, requester));
  private readonly consumer: DeliveryConsumer;
  private readonly backpressure: ShardBackpressure;
  /** Standing-queue detection on the delivery stream; its hot rooms are held by {@link backpressure}. */
  private readonly deliveryPressure: DeliveryPressure;
  private deliveryPressureTimer: NodeJS.Timeout | undefined;
  private readonly liveness: Liveness;
  /** XEP-0198 across gateways: hand-overs from live gateways, state in Redis, orphans of dead ones (issue #13). */
  private readonly smTakeover: SmTakeover;
  private readonly smStore: SmStore;
  private readonly smOrphans: SmOrphans;
  private readonly accounts: AccountStore;
  private readonly offline: OfflineStore;
  /** Rosters in Redis (RFC 6121 §2); `roster.subscriptionOf(owner, contact)` for other modules. */
  readonly roster: RosterStore;
  /** Presence with rosters (RFC 6121 §3, §4). */
  private readonly presence: PresenceService;
  /** vCards, private storage, last activity, time, in-band registration, caps (issue #11 items 5, 6). */
  private readonly accountServices: AccountServices;
  /** XEP-0191 blocklists of this gateway's accounts, for filtering what rooms deliver. */
  private readonly blocklistCache: BlocklistCache;
  /** XEP-0163 PEP (and XEP-0402 bookmarks on it) on accounts' bare JIDs. */
  private readonly pep: PepService;
  /** STARTTLS, direct TLS and wss:// certificates (SNI per host); undefined without any. */
  private readonly certificates: TlsCertificates | undefined;
  private tcp: TcpServer | undefined;
  private directTls: TcpServer | undefined;
  private http: HttpServer | undefined;
  private wss: WebSocketServer | undefined;
  private stopping = false;
  private decoySecret: Buffer | undefined;

  /** This gateway's logger: every line (sessions' included) names the gateway (`gatewayId`). */
  private readonly log: Logger;

  constructor(private readonly config: Config, log: Logger) {
    this.id = config.gateway.id ?? `gw-${randomBytes(6).toString('hex')}`;
    this.log = log = log.child({ gatewayId: this.id });
    // debug.hopTrace (issue #15 item 1): per-hop stamps of groupchat messages, logged per delivery.
    hopTracing.on = config.debug.hopTrace;
    if (hopTracing.on) configureHopTrace(log, this.id);
    this.keys = keySpace(config.redis.keyPrefix);
    // Commands issued in the same event-loop turn (e.g. the XADDs of many sessions' stanzas
    // to room shards) go out in one write and come back in one read: batchWritesPerTurn on one
    // Redis (no ioredis Pipeline per turn, issue #15), ioredis's auto-pipelining on a Cluster.
    // Redis keeps a connection's commands in order, so each session's order is unchanged.
    // Nothing blocking runs on this connection (XREADGROUP BLOCK has its own).
    // maxRetriesPerRequest null: during a Redis outage commands wait for the reconnection
    // instead of failing the session; the router admits only a bounded number of stanzas
    // while Redis is unavailable (gateway.outageBufferStanzas, then `resource-constraint`).
    // Reconnection attempts every 50, 100, ... ms, at most every 500 ms: back within 0.5 s of Redis.
    const retryStrategy = (times: number) => Math.min(times * 50, 500);
    const autoPipelining = config.redis.cluster !== undefined;
    this.redis = defineScripts(batchWritesPerTurn(createRedis(config.redis, { lazyConnect: true, maxRetriesPerRequest: null, enableAutoPipelining: autoPipelining, retryStrategy })));
    // The delivery consumer's: a batch's XTRIM goes out in the same write as the next XREADGROUP.
    this.reader = batchWritesPerTurn(createRedis(config.redis, { lazyConnect: true, maxRetriesPerRequest: null, retryStrategy }));
    // Connection errors (Redis down) are retried by ioredis; log them at most every 5 s.
    let lastRedisError = 0;
    for (const conn of [this.redis, this.reader]) {
      conn.on('error', (err: Error) => {
        if (Date.now() - lastRedisError < 5000) return;
        lastRedisError = Date.now();
        log.warn({ err: err.message }, 'Redis connection error; retrying');
      });
    }
    this.accounts = new AccountStore(this.redis, this.keys, config.auth.scramIterations);
    this.registry = new SessionRegistry(this.redis, this.keys);
    this.roster = new RosterStore(this.redis, this.keys, config.limits.maxRosterItems);
    this.accountServices = new AccountServices(this.iq, {
      config,
      redis: this.redis,
      keys: this.keys,
      accounts: this.accounts,
      connected: async (bare) => (await this.registry.sessionsOf(bare)).length > 0,
      maySee: (owner, requester) => this.roster.sendsPresenceTo(owner, requester),
      now: () => Date.now(),
      // XEP-0077 §3.2: the removed account's sessions end with not-authorized (RFC 6120 §4.9.3.14).
      kickAll: async (bare) => {
        for (const s of await this.registry.sessionsOf(bare)) await this.router.kick(`${bare}/${s.resource}`, s.record, 'not-authorized', 'account removed');
      },
      route: (stanza) => this.router.route(stanza),
      bookmarks: () => this.pep,
    });
    this.offline = new OfflineStore(this.redis, this.keys, config.offline.maxMessages, {
      maxBytes: config.offline.maxBytes,
      maxMessagesPerSender: config.offline.maxMessagesPerSender,
      maxBytesPerSender: config.offline.maxBytesPerSender,
    });
    this.addressLimits = new AddressLimits(config.limits.maxConnectionsPerAddress, config.limits.maxUnauthenticatedPerAddress);
    this.authThrottle = new AuthThrottle(this.redis, this.keys, config.auth, log);
    const now = () => Date.now();
    this.backpressure = new ShardBackpressure(
      this.redis,
      this.keys,
      {
        maxLagMs: config.limits.shardMaxLagMs,
        pollMs: config.limits.shardLagPollMs,
        maxHoldMs: config.limits.shardMaxHoldMs,
        onHold: () => this.metrics.limit('shard-held'),
        shardOf: (room) => shardForRoom(room, config.muc.shards),
      },
      log,
    );
    this.deliveryPressure = new DeliveryPressure({ targetMs: config.limits.deliveryMaxWaitMs, intervalMs: config.limits.deliveryWaitIntervalMs, maxRooms: 256, maxBusy: config.limits.maxEventLoopBusy });
    this.router = new Router({
      gatewayId: this.id,
      config,
      redis: this.redis,
      keys: this.keys,
      registry: this.registry,
      accounts: this.accounts,
      offline: this.offline,
      local: this.local,
      log,
      now,
      backpressure: this.backpressure,
      iq: this.iq,
    });
    // XEP-0191 blocking and XEP-0280 carbons: iq handlers in the table, checks and copies in the router.
    const blocklists = new BlocklistStore(this.redis, this.keys, config.limits.maxBlocklistItems);
    // XEP-0191 §3.3 for room deliveries: the blocklists of local sessions' accounts, in memory.
    this.blocklistCache = new BlocklistCache(blocklists);
    this.local.onAccountGone((bare) => this.blocklistCache.forget(bare));
    const blocking = new Blocking({
      store: blocklists,
      cache: this.blocklistCache,
      gatewayId: this.id,
      notifyGateway: async (gateway, owner) => {
        await this.redis.xadd(this.keys.gatewayDelivery(gateway), '*', ...encodeEnvelope({ kind: 'blocklist', owner }));
      },
      registry: this.registry,
      local: this.local,
      hosts: config.hosts,
      maySee: (owner, contact) => this.roster.sendsPresenceTo(owner, contact),
      router: () => this.router,
      log,
    });
    blocking.register(this.iq);
    const carbons = new Carbons({ registry: this.registry, local: this.local, hosts: config.hosts, router: () => this.router });
    carbons.register(this.iq);
    this.router.useBlockingAndCarbons(blocking, carbons);
    // RFC 6121 §2–§4: roster iq handlers, subscriptions and presence with rosters.
    this.presence = new PresenceService({ config, redis: this.redis, keys: this.keys, registry: this.registry, roster: this.roster, router: this.router, log, now });
    this.router.usePresence(this.presence);
    registerRosterHandlers(this.iq, {
      roster: this.roster,
      presence: this.presence,
      router: this.router,
      registry: this.registry,
      local: this.local,
      bounds: { maxNameBytes: config.limits.maxRosterNameBytes, maxGroupBytes: config.limits.maxRosterNameBytes, maxGroups: config.limits.maxRosterGroups },
    });
    // XEP-0163 PEP: iq handlers on accounts' bare JIDs, notifications through the router.
    this.pep = new PepService({
      config,
      store: new PepStore(this.redis, this.keys, { maxNodes: config.limits.maxPepNodes, maxBytes: config.limits.maxPepBytes }),
      registry: this.registry,
      roster: this.roster,
      route: (stanza) => this.router.route(stanza),
      log,
    });
    this.pep.register(this.iq);
    // XEP-0313 account archives: iq handlers on accounts' bare JIDs, archiving in the router.
    const archive = new AccountArchive({
      store: new MamStore(this.redis, this.keys, { maxEntries: config.mam.maxMessagesPerAccount, maxAgeMs: config.mam.maxAgeDays * 86_400_000 }),
      local: this.local,
      hosts: config.hosts,
      maxQueryResults: config.mam.maxQueryResults,
      log,
      now,
    });
    archive.register(this.iq);
    this.router.useArchive(archive);
    this.consumer = new DeliveryConsumer(this.reader, this.keys, this.id, this.router, this.local, log, { mucDomain: config.mucDomain, cache: this.blocklistCache });
    this.smTakeover = new SmTakeover(this.redis, this.keys, this.id, config.muc.shards);
    this.smStore = new SmStore(this.redis, this.keys, this.id, log);
    this.smOrphans = new SmOrphans({
      redis: this.redis,
      keys: this.keys,
      gatewayId: this.id,
      router: this.router,
      local: this.local,
      takeover: this.smTakeover,
      log,
      maxUnacked: config.sm.maxUnacked,
      now: () => Date.now(),
      presence: this.presence,
      lastActivity: this.accountServices.lastActivity,
    });
    this.liveness = new Liveness({
      gatewayId: this.id,
      redis: this.redis,
      redisUrl: config.redis.url,
      redisSentinel: config.redis.sentinel,
      redisCluster: config.redis.cluster,
      keys: this.keys,
      registry: this.registry,
      router: this.router,
      log,
      heartbeatMs: config.gateway.heartbeatMs,
      deadAfterMs: config.gateway.deadAfterMs,
      onReaped: () => this.closeSessionsAfterReap(),
      presence: this.presence,
      lastActivity: this.accountServices.lastActivity,
      onRegisteredAgain: () => this.registeredAgain(),
      orphans: config.sm.resumeTimeoutSec > 0 ? this.smOrphans : undefined,
    });
    const labels = { service: 'gateway', instance: this.id };
    this.metricsRegistry = createRegistry(labels);
    this.metrics = new GatewayMetrics(this.metricsRegistry, [...PLUS_MECHANISMS, ...SUPPORTED_MECHANISMS], () => this.connectionsByTransport());
    this.consumer.onWait = (ms) => this.metrics.deliveryWaited(ms);
    if (this.deliveryPressure.enabled) this.consumer.pressure = this.deliveryPressure;
    this.publisher = new MetricsPublisher({
      redis: this.redis,
      keys: this.keys,
      registry: this.metricsRegistry,
      labels,
      publishMs: config.metrics.publishMs,
      onError: (err) => {
        if (!this.stopping) log.warn({ err }, 'publishing metrics failed');
      },
    });
    // Throws TlsCertificateError (one line naming the setting and file) when a file is missing.
    this.certificates = TlsCertificates.fromConfig(config);
  }

  /** Number of client sessions (connected, authenticated or not) on this gateway. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  private connectionsByTransport(): { tcp: number; websocket: number } {
    const n = { tcp: 0, websocket: 0 };
    for (const session of this.sessions) n[session.transportKind] += 1;
    return n;
  }

  /** Connects to Redis, starts consuming, and listens; resolves with the bound ports. */
  async start(): Promise<GatewayAddresses> {
    if (this.config.auth.backend === OPEN_AUTH_BACKEND) {
      this.log.warn(
        '*** OPEN AUTHENTICATION (open-insecure-test-only): ANY user logs in with ANY password and accounts are created on first login. For conformance tests only; never expose this gateway. ***',
      );
    }
    await Promise.all([this.redis.connect(), this.reader.connect()]);
    // One secret for the whole cluster, so SCRAM's made-up salts for unknown users are the
    // same on every gateway and do not reveal which accounts exist.
    await this.redis.set(this.keys.saslDecoySecret(), randomBytes(32).toString('base64'), 'NX');
    this.decoySecret = Buffer.from((await this.redis.get(this.keys.saslDecoySecret()))!, 'base64');
    await this.consumer.start();
    await this.liveness.start();
    this.backpressure.start();
    if (this.deliveryPressure.enabled) {
      let elu = performance.eventLoopUtilization();
      this.deliveryPressureTimer = setInterval(() => {
        const next = performance.eventLoopUtilization();
        const busy = performance.eventLoopUtilization(next, elu).utilization;
        elu = next;
        const change = this.deliveryPressure.tick(Date.now(), busy);
        if (change) this.backpressure.setDeliveryHot(change);
      }, Math.max(5, Math.floor(this.config.limits.deliveryWaitIntervalMs / 4)));
      this.deliveryPressureTimer.unref();
    }
    const c2sPort = await this.listenTcp();
    const directTlsPort = await this.listenDirectTls();
    const wsPort = await this.listenWebSocket();
    await this.redis.hset(this.keys.gatewayInfo(this.id), {
      host: this.config.gateway.bindHost,
      c2sPort: String(c2sPort),
      wsPort: String(wsPort),
      directTlsPort: String(directTlsPort),
      pid: String(process.pid),
      started: String(Date.now()),
    });
    this.publisher.start();
    return { c2sPort, wsPort, directTlsPort };
  }

  /**
   * Reads the certificate files again (SIGHUP): handshakes from now on (STARTTLS, direct
   * TLS, wss://) use the new certificates; sessions already connected keep theirs and are
   * not dropped.
   * @returns false when no certificate is configured
   * @throws TlsCertificateError when a file cannot be read (the old certificates stay in use)
   */
  reloadTls(): boolean {
    if (!this.certificates) return false;
    this.certificates.reload();
    return true;
  }

  /**
   * Per-address caps (issue #10) for a new connection from `remote`: its ticket (released when
   * its session ends), or the reason it is refused, logged and counted in
   * `parley_limit_events_total{event="connection-refused"}`.
   */
  private admitConnection(remote: string | undefined): ReturnType<AddressLimits['admit']> {
    const ticket = this.addressLimits.admit(addressKey(remote));
    if (typeof ticket === 'string') {
      this.log.info({ remote, reason: ticket }, 'connection refused');
      this.metrics.limit('connection-refused');
    }
    return ticket;
  }

  /** The stream bounds every client transport starts with (before authentication), bytes and ms. */
  private streamLimits(): { maxElementBytes: number; maxDepth: number; idleTimeoutMs: number; maxSendBufferBytes: number } {
    const { limits, gateway } = this.config;
    return { maxElementBytes: limits.maxPreAuthBytes, maxDepth: limits.maxDepth, idleTimeoutMs: gateway.idleTimeoutMs, maxSendBufferBytes: limits.maxSendBufferBytes };
  }

  private listenTcp(): Promise<number> {
    const server = createTcpServer((socket) => {
      if (this.stopping) return socket.destroy();
      // Refused at once with a policy-violation stream error.
      const ticket = this.admitConnection(socket.remoteAddress);
      if (typeof ticket === 'string') return refuseTcp(socket, this.config.hosts[0]!, ticket);
      const transport = new TcpTransport(socket, { ...this.streamLimits(), ...(this.certificates ? { tls: this.certificates } : {}) });
      this.addSession(new ClientSession(transport, this.sessionDeps()), ticket);
    });
    this.tcp = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.gateway.c2sPort, this.config.gateway.bindHost, this.config.gateway.listenBacklog, () => resolve((server.address() as AddressInfo).port));
    });
  }

  /**
   * XEP-0368 direct TLS: TLS from the first byte (certificate by SNI), then the same RFC 6120
   * stream as c2s, already encrypted (no STARTTLS offered; PLAIN allowed). Same per-address
   * caps as c2s. Resolves with the port, or -1 when disabled or without a certificate.
   */
  private listenDirectTls(): Promise<number> {
    const certs = this.certificates;
    if (this.config.gateway.directTlsPort < 0 || !certs) return Promise.resolve(-1);
    const server = createTcpServer((socket) => {
      if (this.stopping) return socket.destroy();
      const ticket = this.admitConnection(socket.remoteAddress);
      // Before TLS there is no stream to carry a stream error: the connection is just closed.
      if (typeof ticket === 'string') return socket.destroy();
      // A handshake that fails (wrong protocol, no common cipher) closes the socket, which
      // ends the session through the transport's close handler.
      const secure = new TLSSocket(socket, certs.socketOptions());
      const transport = new TcpTransport(secure, { ...this.streamLimits(), directTls: true });
      this.addSession(new ClientSession(transport, this.sessionDeps()), ticket);
    });
    this.directTls = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.gateway.directTlsPort, this.config.gateway.bindHost, this.config.gateway.listenBacklog, () => resolve((server.address() as AddressInfo).port));
    });
  }

  private listenWebSocket(): Promise<number> {
    if (this.config.gateway.wsPort < 0) return Promise.resolve(-1);
    // XEP-0156 host-meta (transport/host-meta.ts); anything else on plain HTTP: 426.
    const hostMeta = hostMetaHandler({
      hosts: this.config.hosts,
      publicUrl: this.config.gateway.wsPublicUrl,
      secure: this.config.tls.wss || this.config.tls.behindTlsProxy,
      wsPath: this.config.gateway.wsPath,
      port: () => (this.http?.address() as AddressInfo | null)?.port ?? this.config.gateway.wsPort,
    });
    const notWs = (req: IncomingMessage, res: ServerResponse): void => {
      if (hostMeta(req, res)) return;
      res.writeHead(426, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'upgrade-required', message: 'XMPP over WebSocket (RFC 7395) only' }));
    };
    // tls.wss: wss:// with the c2s certificate (RFC 7395 §3.8: WebSocket has no STARTTLS).
    // The schema refuses tls.wss without a certificate. SNI picks per-host certificates; the
    // default pair is swapped on reload (https servers keep their own default context).
    const certs = this.config.tls.wss ? this.certificates : undefined;
    const wss = certs !== undefined;
    let http: HttpServer;
    if (certs) {
      const https = createHttpsServer({ ...certs.defaultPem, SNICallback: certs.sniCallback }, notWs);
      certs.onReload((pem) => https.setSecureContext(pem));
      http = https;
    } else {
      http = createHttpServer(notWs);
    }
    const wsServer = new WebSocketServer({
      server: http,
      path: this.config.gateway.wsPath,
      maxPayload: this.config.limits.maxStanzaBytes,
      perMessageDeflate: false,
      // RFC 7395 §3.1: the subprotocol is "xmpp"; a client that does not offer it is refused.
      handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
      verifyClient: (info, cb) => {
        const offered = String(info.req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
        if (!offered.includes('xmpp')) return cb(false, 400, 'the "xmpp" subprotocol is required (RFC 7395 §3.1)');
        // Per-address caps (issue #10): refused before the upgrade with 503.
        const refused = this.addressLimits.refusal(addressKey(info.req.socket.remoteAddress));
        if (refused !== undefined) {
          this.log.info({ remote: info.req.socket.remoteAddress, reason: refused }, 'connection refused');
          this.metrics.limit('connection-refused');
          return cb(false, 503, refused, { 'retry-after': '10' });
        }
        cb(true);
      },
    });
    wsServer.on('connection', (ws, req) => {
      if (this.stopping) return ws.terminate();
      const ticket = this.admitConnection(req.socket.remoteAddress);
      // Over the cap since verifyClient (another upgrade finished first): 1008 policy violation.
      if (typeof ticket === 'string') return ws.close(1008, 'too many connections');
      const transport = new WebSocketTransport(ws, `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`, {
        ...this.streamLimits(),
        socket: req.socket,
        // tls.behindTlsProxy: a TLS-terminating proxy on a private network is in front.
        secure: wss || this.config.tls.behindTlsProxy,
        // Channel binding only where the TLS is ours (wss://), never the proxy's.
        ...(wss && req.socket instanceof TLSSocket ? { tlsSocket: req.socket } : {}),
      });
      this.addSession(new ClientSession(transport, this.sessionDeps()), ticket);
    });
    this.http = http;
    this.wss = wsServer;
    return new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.config.gateway.wsPort, this.config.gateway.bindHost, this.config.gateway.listenBacklog, () => resolve((http.address() as AddressInfo).port));
    });
  }

  private addSession(session: ClientSession, ticket: AddressTicket): void {
    this.sessions.add(session);
    this.tickets.set(session, ticket);
  }

  private deps: SessionDeps | undefined;

  private sessionDeps(): SessionDeps {
    this.deps ??= {
      config: this.config,
      gatewayId: this.id,
      // One backend per virtual host: a session authenticates against its stream's `to` host.
      sasl: saslByHost(this.config.hosts, this.accounts, {
        open: this.config.auth.backend === OPEN_AUTH_BACKEND,
        clusterSecret: this.decoySecret!,
        decoyIterations: this.config.auth.scramIterations,
      }),
      router: this.router,
      registry: this.registry,
      offline: this.offline,
      local: this.local,
      log: this.log,
      now: () => Date.now(),
      onEnded: (s: ClientSession) => {
        this.sessions.delete(s);
        this.tickets.get(s)?.release();
        this.tickets.delete(s);
      },
      onAuthenticated: (s: ClientSession) => this.tickets.get(s)?.authenticated(),
      authThrottle: this.authThrottle,
      metrics: this.metrics,
      accountServices: this.accountServices,
      presence: this.presence,
      pep: this.pep,
      // XEP-0198 §5: this gateway's resumable sessions by SM-ID, and resumptions of other gateways' sessions.
      resumable: new Map(),
      smTakeover: this.smTakeover,
      smStore: this.smStore,
      smOrphans: this.smOrphans,
      // The reap of a dead holder: deadAfterMs, the scan (a heartbeat) and its second sweep (two more).
      smOrphanWaitMs: this.config.gateway.deadAfterMs + 4 * this.config.gateway.heartbeatMs + 5000,
    };
    return this.deps;
  }

  /**
   * After this gateway was reaped while alive (e.g. a SIGSTOP longer than deadAfterMs), its
   * sessions are gone from the registry and from every room: they are closed with the
   * stream error `reset` (RFC 6120 §4.9.3.16), so that clients reconnect and rejoin, rather
   * than being left connected but half-registered. Resolves once they ended (or after 5 s).
   */
  private async closeSessionsAfterReap(): Promise<void> {
    const bound = [...this.local.entries()];
    for (const [, session] of bound) session.kick('reset', 'this server lost track of the session; please reconnect');
    const deadline = Date.now() + 5000;
    while (bound.some(([jid, s]) => this.local.get(jid) === s) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  }

  /** After registering again following a reap: a fresh delivery stream and info hash (the reaper removed both). */
  private async registeredAgain(): Promise<void> {
    await this.consumer.restartGroup();
    const portOf = (server: { address(): string | AddressInfo | null } | undefined) => {
      const a = server?.address();
      return a && typeof a === 'object' ? String(a.port) : '-1';
    };
    await this.redis.hset(this.keys.gatewayInfo(this.id), {
      host: this.config.gateway.bindHost,
      c2sPort: portOf(this.tcp),
      wsPort: portOf(this.http),
      pid: String(process.pid),
      started: String(Date.now()),
    });
  }

  /**
   * Stops accepting, ends every session with `system-shutdown` (RFC 6120 §4.9.3.20),
   * removes this gateway from Redis and disconnects.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.liveness.stop();
    if (this.deliveryPressureTimer) clearInterval(this.deliveryPressureTimer);
    this.backpressure.stop();
    this.tcp?.close();
    this.directTls?.close();
    this.wss?.close();
    this.http?.close();
    for (const session of this.sessions) session.kick('system-shutdown');
    const deadline = Date.now() + 3000;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    await this.consumer.stop();
    await this.publisher.stop();
    await this.redis
      .multi()
      .zrem(this.keys.gateways(), this.id)
      .del(this.keys.gatewayDelivery(this.id), this.keys.gatewayInfo(this.id), this.keys.gatewaySessions(this.id))
      // The token is in the slot of the gateways set (keys.ts), not this gateway's: its own DEL.
      .del(this.keys.gatewayToken(this.id))
      .exec()
      .catch(() => undefined);
    this.reader.disconnect();
    await this.redis.quit().catch(() => undefined);
  }
}

