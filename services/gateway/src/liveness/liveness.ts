import { randomBytes } from 'node:crypto';
import { Element } from 'ltx';
import type { Logger } from 'pino';
import { decodeEnvelope, redisTimeMs, type KeySpace, type SessionRecord } from '@parley/bus';
import type { RedisClusterConfig, RedisSentinelConfig } from '@parley/config';
import { SupervisedThread } from '@parley/service-runtime';
import { NS, parseOwnElement } from '@parley/xml';
import type { Router } from '../routing/router.js';
import type { ScriptedRedis } from '../routing/scripts.js';
import type { SessionRegistry } from '../routing/session-registry.js';
import { SharedStanza } from '../routing/shared-stanza.js';
import type { OrphanSink, SmOrphans } from '../sm/sm-orphans.js';
import type { FromHeartbeat, HeartbeatWorkerData, ToHeartbeat } from './heartbeat-worker.js';

/** How long a reaper holds a dead gateway's lock without renewing it, ms (renewed per batch of the reap, released when it ends). */
const REAPER_LOCK_MS = 30_000;
/** Unfinished reaps looked at per scan (members of the `gateways:reaping` set). */
const RESUME_BATCH = 16;
/** Entries of a dead gateway's delivery stream re-routed per XRANGE. */
const REROUTE_BATCH = 256;

export interface LivenessDeps {
  gatewayId: string;
  redis: ScriptedRedis;
  /** The Redis URL, for the heartbeat thread's own connection. */
  redisUrl: string;
  /** `redis.sentinel` (wins over `redisUrl` when set), for the same connection. */
  redisSentinel?: RedisSentinelConfig | undefined;
  /** `redis.cluster` (wins over `redisUrl` when set), for the same connection. */
  redisCluster?: RedisClusterConfig | undefined;
  keys: KeySpace;
  registry: SessionRegistry;
  router: Router;
  log: Logger;
  heartbeatMs: number;
  deadAfterMs: number;
  /**
   * Called when this gateway learns that it was taken for dead and reaped (e.g. after a long
   * SIGSTOP): its sessions are no longer in the registry nor in any room, so they must be
   * closed with a stream error (RFC 6120 §4.9.3.16 `reset`) and the clients reconnect.
   */
  onReaped: () => Promise<void>;
  /** Called after this gateway registered again following a reap (e.g. to rewrite its info hash). */
  onRegisteredAgain?: () => Promise<void>;
  /** Sends a dead session's unavailable presence to its contacts and directed-presence targets (RFC 6121 §4.5.2, §4.6.3). */
  presence?: { sessionGone(full: string, record: SessionRecord): Promise<void> };
  /**
   * XEP-0012 §3 last activity: records (bare JID, ms since epoch, status text) for an
   * account whose last session died with its gateway (`LastActivityStore.record`).
   */
  lastActivity?: { record(bareJid: string, at: number, status: string): Promise<void> };
  /**
   * XEP-0198 sessions that outlive their gateway (issue #13): the reaper adopts a dead
   * gateway's resumable sessions instead of removing them, and every heartbeat sweeps the
   * orphans whose window is over. Absent: resumable sessions die with their gateway.
   */
  orphans?: SmOrphans;
}

/** The `<status/>` text of a session's last available presence (as kept in its record), or ''. */
export function lastStatus(record: SessionRecord): string {
  if (!record.presence) return '';
  try {
    return parseOwnElement(record.presence, NS.CLIENT).getChildText('status') ?? '';
  } catch {
    return '';
  }
}

/** Counts of one reap, for logs and tests. */
export interface ReapReport {
  sessions: number;
  rerouted: number;
  droppedRoomDeliveries: number;
  /** Resumable sessions kept as orphans (XEP-0198), and delivery entries queued for them. */
  orphans: number;
  queuedForOrphans: number;
  ms: number;
  /** True when this gateway finished the reap of a reaper that died. */
  resumed: boolean;
}

/**
 * Gateway liveness and the reaping of dead gateways.
 *
 * - Heartbeat: a worker thread with its own Redis connection runs lua/heartbeat-3.lua every
 *   `heartbeatMs`, which sets this gateway's score in the `gateways` sorted set to the Redis
 *   server time (`TIME`, ms) only while the gateway's registration token is still in place.
 *   A busy main thread does not delay it; a main thread silent for longer than
 *   `max(30 s, 4 × deadAfterMs)` (hung, not busy) stops it so that the gateway is reaped.
 * - Death: a gateway whose score is older than `deadAfterMs` by the Redis clock is dead.
 *   A survivor claims it with lua/reap-claim-5.lua, atomically with that check: it deletes
 *   the dead gateway's token (fencing: a paused gateway's next heartbeat sees this), takes
 *   it out of the sorted set, takes the reaper lock (`REAPER_LOCK_MS`, renewed per batch)
 *   and adds the id to the `gateways:reaping` set. The reap then starts by setting the
 *   delivery stream aside (lua/reap-set-aside-2.lua, in the dead gateway's slot: a separate,
 *   idempotent step so that each script stays in one Redis Cluster hash slot).
 * - Reaper death: the id leaves that set only when the reap ends. On each scan a gateway
 *   takes over the ids in it whose lock expired (lua/reap-resume-4.lua, atomically, so one
 *   survivor only) and redoes the reap; every step is safe to repeat. When the dead gateway
 *   registered again meanwhile, only its set-aside stream is re-routed.
 * - Outages: when no gateway at all has beaten for `3 × heartbeatMs` (Redis was down, by
 *   its own clock), the heartbeat script pauses reaping cluster-wide for `deadAfterMs`; a
 *   gateway whose own connection to Redis dropped also pauses its reaping for `deadAfterMs`
 *   after it is back. So an outage of Redis reaps nobody.
 * - Reaping: the dead gateway's sessions leave the registry, every room shard gets a
 *   `gateway-down` input (XEP-0045 §7.14), the users' other resources get unavailable
 *   presence (RFC 6121 §4.5.2), and every entry left in its delivery stream (what it had not
 *   handed to a socket: it trims what it handled) is routed again as addressed to a gone
 *   resource (RFC 6121 §8.5.3.2: messages to other resources or offline storage, IQs
 *   bounced with `service-unavailable`); room deliveries are dropped, since the room removes
 *   those occupants too. Except XEP-0198 resumable sessions (issue #13, sm/sm-orphans.ts):
 *   adopted by the reaper as orphans (record kept, detached; rooms told `session-moved`
 *   before `gateway-down`), the entries for them queued in stream order, claimable by a
 *   resumption on any gateway, ended by any gateway's sweep (every heartbeat) at their deadline.
 * - Reaped but alive: the gateway closes its sessions with `reset`, waits for its reaper to
 *   finish, and registers again under a new token.
 */
export class Liveness {
  private timer: NodeJS.Timeout | undefined;
  private thread: SupervisedThread<ToHeartbeat, FromHeartbeat> | undefined;
  private scanning = false;
  private recovering = false;
  private stopped = false;
  private token = '';
  /** Local (monotonic enough) time before which this gateway reaps nobody, ms since epoch. */
  private pauseUntil = 0;
  private redisWasDown = false;
  private lastError = 0;
  /** Local time of the last heartbeat the thread reported, ms since epoch. */
  private lastWorkerBeat = 0;
  private fallbackBusy = false;

  constructor(private readonly d: LivenessDeps) {}

  async start(): Promise<void> {
    this.token = randomBytes(12).toString('base64url');
    await this.d.redis.registerGateway(this.d.keys.gateways(), this.d.keys.gatewayToken(this.d.gatewayId), this.d.gatewayId, this.token);
    this.d.redis.on('close', () => { this.redisWasDown = true; });
    this.d.redis.on('ready', () => {
      if (!this.redisWasDown) return;
      this.redisWasDown = false;
      this.pauseReaping('this gateway reconnected to Redis');
    });
    this.startWorker();
    this.lastWorkerBeat = Date.now();
    this.timer = setInterval(() => {
      this.post({ kind: 'alive' });
      void this.fallbackBeat();
      void this.scan();
      void this.sweepOrphans();
    }, this.d.heartbeatMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.thread?.stop({ kind: 'stop' });
    this.thread = undefined;
  }

  private post(m: ToHeartbeat): void {
    this.thread?.post(m);
  }

  private startWorker(): void {
    const ts = import.meta.url.endsWith('.ts');
    const data: HeartbeatWorkerData = {
      redisUrl: this.d.redisUrl,
      redisSentinel: this.d.redisSentinel,
      redisCluster: this.d.redisCluster,
      keyPrefix: this.d.keys.prefix,
      gatewayId: this.d.gatewayId,
      token: this.token,
      heartbeatMs: this.d.heartbeatMs,
      deadAfterMs: this.d.deadAfterMs,
      stallMs: Math.max(30_000, 4 * this.d.deadAfterMs),
    };
    this.thread = new SupervisedThread({
      name: 'heartbeat thread',
      url: new URL(ts ? '../../dist/liveness/heartbeat-worker.js' : './heartbeat-worker.js', import.meta.url),
      workerData: data,
      log: this.d.log,
      onMessage: (m) => this.onWorkerMessage(m),
      // A restarted thread starts from the token at its creation: give it the current one.
      onStart: () => this.post({ kind: 'token', token: this.token }),
    });
    this.thread.start();
  }

  private onWorkerMessage(m: FromHeartbeat): void {
    switch (m.kind) {
      case 'beat':
        this.lastWorkerBeat = Date.now();
        return;
      case 'recovered':
        return this.pauseReaping('the heartbeat connection to Redis is back');
      case 'reaped':
        void this.recover();
        return;
      case 'stalled':
        if (Date.now() - this.lastError > 5000) {
          this.lastError = Date.now();
          this.d.log.error({ silentMs: m.silentMs }, 'main thread unresponsive: heartbeat suspended');
        }
        return;
      case 'error':
        if (Date.now() - this.lastError > 5000) {
          this.lastError = Date.now();
          this.d.log.warn({ reason: m.message }, 'heartbeat failed');
        }
        return;
    }
  }

  /**
   * The main thread beats itself when the thread has not reported a beat for two periods
   * (it is still starting on a loaded machine, or it died and is being restarted).
   */
  private async fallbackBeat(): Promise<void> {
    if (this.fallbackBusy || this.recovering || Date.now() - this.lastWorkerBeat < 2 * this.d.heartbeatMs || this.d.redis.status !== 'ready') return;
    this.fallbackBusy = true;
    try {
      const k = this.d.keys;
      const [status] = await this.d.redis.heartbeat(
        k.gateways(), k.gatewayToken(this.d.gatewayId), k.livenessState(), this.d.gatewayId, this.token, 3 * this.d.heartbeatMs, this.d.deadAfterMs,
      );
      if (status !== 1) void this.recover();
    } catch {
      // the thread reports heartbeat errors
    } finally {
      this.fallbackBusy = false;
    }
  }

  private sweeping = false;

  /** XEP-0198: ends the orphaned sessions whose resumption window is over (see SmOrphans.sweep). */
  private async sweepOrphans(): Promise<void> {
    if (!this.d.orphans || this.sweeping || this.stopped || this.d.redis.status !== 'ready') return;
    this.sweeping = true;
    try {
      await this.d.orphans.sweep();
    } catch (err) {
      this.d.log.warn({ err }, 'sweeping orphaned XEP-0198 sessions failed');
    } finally {
      this.sweeping = false;
    }
  }

  private pauseReaping(reason: string): void {
    this.pauseUntil = Date.now() + this.d.deadAfterMs;
    this.d.log.warn({ reason, pauseMs: this.d.deadAfterMs }, 'reaping paused after a Redis outage');
  }

  /** Looks for gateways whose heartbeat is older than deadAfterMs (Redis clock) and reaps them. */
  private async scan(): Promise<void> {
    if (this.scanning || this.stopped || Date.now() < this.pauseUntil || this.d.redis.status !== 'ready') return;
    this.scanning = true;
    try {
      const now = redisTimeMs(await this.d.redis.time());
      const candidates = await this.d.redis.zrangebyscore(this.d.keys.gateways(), '-inf', `(${now - this.d.deadAfterMs}`);
      for (const id of candidates) {
        if (id === this.d.gatewayId || Date.now() < this.pauseUntil) continue;
        const k = this.d.keys;
        const [status] = await this.d.redis.reapClaim(
          k.gateways(), k.livenessState(), k.gatewayToken(id), k.reaperLock(id), k.reapingGateways(),
          id, this.d.deadAfterMs, this.d.gatewayId, REAPER_LOCK_MS,
        );
        if (status === 1) await this.reap(id);
      }
      await this.resumeInterrupted();
    } catch (err) {
      this.d.log.error({ err }, 'looking for dead gateways failed');
    } finally {
      this.scanning = false;
    }
  }

  /**
   * Takes over the reaps whose reaper died (the id is still in the `gateways:reaping` set
   * but its lock expired): the whole reap again when the dead gateway is still out of the
   * live set, only the set-aside stream when it registered again since.
   */
  private async resumeInterrupted(): Promise<void> {
    const k = this.d.keys;
    const ids = (await this.d.redis.srandmember(k.reapingGateways(), RESUME_BATCH)) as string[];
    for (const id of ids) {
      if (this.stopped || Date.now() < this.pauseUntil) return;
      const status = await this.d.redis.reapResume(k.reapingGateways(), k.reaperLock(id), k.gateways(), k.livenessState(), id, this.d.gatewayId, REAPER_LOCK_MS);
      if (status === 1) {
        await this.reap(id, true);
      } else if (status === 2) {
        const started = Date.now();
        const { rerouted, droppedRoomDeliveries, queued } = await this.rerouteOrphans(id, new Map());
        await this.releaseLock(id);
        const report = { sessions: 0, rerouted, droppedRoomDeliveries, orphans: 0, queuedForOrphans: queued, ms: Date.now() - started, resumed: true };
        this.d.log.warn({ deadGateway: id, ...report }, 'finished the interrupted reap of a gateway that registered again');
      }
    }
  }

  /** Renews this gateway's reaper lock on deadId; throws when it lost the lock (the reap must stop: another survivor may own it now). */
  private async holdLock(deadId: string): Promise<void> {
    const k = this.d.keys;
    if ((await this.d.redis.reapLock(k.reaperLock(deadId), k.reapingGateways(), this.d.gatewayId, REAPER_LOCK_MS, deadId)) !== 1) {
      throw new Error(`lost the reaper lock of gateway ${deadId}`);
    }
  }

  /** Ends a reap: removes deadId from the `gateways:reaping` set and releases the lock (no-op when the lock was lost). */
  private async releaseLock(deadId: string): Promise<void> {
    const k = this.d.keys;
    await this.d.redis.reapLock(k.reaperLock(deadId), k.reapingGateways(), this.d.gatewayId, 0, deadId);
  }

  /**
   * Cleans up after a claimed dead gateway (see the class comment). Every step is safe to
   * repeat, for a survivor that takes over after this reaper died (`resumed`).
   * @throws when the reaper lock was lost midway (the reap stops; whoever took it over finishes)
   */
  async reap(deadId: string, resumed = false): Promise<ReapReport> {
    const started = Date.now();
    const k = this.d.keys;
    // XEP-0198: resumable sessions are kept (adopted by this gateway, their rooms told
    // `session-moved` before the `gateway-down` below, so they keep the occupant).
    // The second step of the claim (lua/reap-claim-5.lua): every reap, a resumed one too,
    // sets the delivery stream aside first, so a reaper that died between the two is covered.
    await this.d.redis.reapSetAside(k.gatewayDelivery(deadId), k.gatewayReaping(deadId));
    const sinks = this.d.orphans ? await this.d.orphans.adopt(deadId, await this.d.redis.smembers(k.gatewaySessions(deadId))) : new Map<string, OrphanSink>();
    let removed: Array<[string, SessionRecord]> = [];
    let rerouted = 0;
    let droppedRoomDeliveries = 0;
    let queued = 0;
    try {
      removed = await this.d.registry.reapGateway(deadId);
      // XEP-0045 §7.14: its sessions leave every room (each shard's rooms remove the occupants of that gateway).
      await this.d.router.gatewayDown(deadId);
      for (const [full, record] of removed) {
        if (!record.available) continue;
        const bare = full.slice(0, full.indexOf('/'));
        // RFC 6121 §4.5.2: the user's other resources learn that this one went away.
        const unavailable = new Element('presence', { from: full, to: bare, type: 'unavailable' });
        await this.d.router.broadcastToOwnResources(bare, unavailable, full);
      }
      // RFC 6121 §4.5.2, §4.6.3: its contacts and directed-presence targets see it go offline.
      for (const [full, record] of removed) {
        try {
          await this.d.presence?.sessionGone(full, record);
        } catch (err) {
          this.d.log.warn({ err, full }, 'sending unavailable presence for a dead session failed');
        }
      }
      await this.recordLastActivity(removed, started);
      ({ rerouted, droppedRoomDeliveries, queued } = await this.rerouteOrphans(deadId, sinks));
      // Senders that looked the registry up before it was cleaned may still append to the dead
      // gateway's stream (a new one, with no reader): sweep it now and once more a little later.
      for (let sweep = 0; sweep < 2; sweep++) {
        if (sweep > 0) await new Promise((r) => setTimeout(r, 2 * this.d.heartbeatMs));
        await this.holdLock(deadId);
        const moved = await this.d.redis.rename(k.gatewayDelivery(deadId), k.gatewayReaping(deadId)).then(() => true, () => false);
        if (!moved) continue;
        const more = await this.rerouteOrphans(deadId, sinks);
        rerouted += more.rerouted;
        droppedRoomDeliveries += more.droppedRoomDeliveries;
        queued += more.queued;
      }
    } catch (err) {
      // A lost lock: whoever takes the reap over re-routes the rest; what the sinks hold goes to the queues now.
      if (this.d.orphans) await this.d.orphans.finishAdoption(sinks).catch(() => undefined);
      throw err;
    }
    // Everything the dead gateway had for its orphans is queued: what arrived here since follows, and they become claimable.
    if (this.d.orphans) await this.d.orphans.finishAdoption(sinks);
    await this.d.redis.del(k.gatewayInfo(deadId), k.gatewaySessions(deadId));
    await this.releaseLock(deadId);
    const report = { sessions: removed.length, rerouted, droppedRoomDeliveries, orphans: sinks.size, queuedForOrphans: queued, ms: Date.now() - started, resumed };
    this.d.log.warn({ deadGateway: deadId, ...report }, resumed ? 'finished the interrupted reap of a dead gateway' : 'removed the sessions of a dead gateway');
    return report;
  }

  /**
   * XEP-0012 §3: the accounts of the dead sessions that have no session left anywhere went
   * offline at the reap (`at`, ms since epoch; when the death was noticed, within
   * `deadAfterMs` of it), with the status of their last presence (the last one of the dead
   * sessions that had one). An account with another session keeps "online" (answered 0).
   */
  private async recordLastActivity(removed: ReadonlyArray<readonly [string, SessionRecord]>, at: number): Promise<void> {
    if (!this.d.lastActivity) return;
    const status = new Map<string, string>();
    for (const [full, record] of removed) {
      const bare = full.slice(0, full.indexOf('/'));
      const s = lastStatus(record);
      if (!status.has(bare) || s !== '') status.set(bare, s);
    }
    for (const [bare, text] of status) {
      try {
        if ((await this.d.registry.sessionsOf(bare)).length > 0) continue;
        await this.d.lastActivity.record(bare, at, text);
      } catch (err) {
        this.d.log.warn({ err, bare }, 'recording the last activity of a dead session failed');
      }
    }
  }

  /**
   * Routes every entry of a dead gateway's set-aside delivery stream (`gw:{g:<id>}:reaping`)
   * again, then deletes the stream: its sessions are gone, so each stanza is handled as
   * addressed to an unbound resource (RFC 6121 §8.5.3.2). Room deliveries (they carry a
   * mark) and kicks are dropped. Renews the reaper lock before each batch of
   * `REROUTE_BATCH` entries.
   * @throws when the reaper lock was lost (the stream is left for whoever took it over)
   */
  private async rerouteOrphans(deadId: string, sinks: ReadonlyMap<string, OrphanSink>): Promise<{ rerouted: number; droppedRoomDeliveries: number; queued: number }> {
    const stream = this.d.keys.gatewayReaping(deadId);
    let rerouted = 0;
    let droppedRoomDeliveries = 0;
    let queued = 0;
    /** The adopted session an entry is for (XEP-0198), if any. */
    const sinkOf = (to: string, sessionId: string) => {
      const sink = sinks.get(to);
      return sink && sink.sessionId === sessionId ? sink : undefined;
    };
    let from = '-';
    for (;;) {
      await this.holdLock(deadId);
      const entries = (await this.d.redis.xrange(stream, from, '+', 'COUNT', REROUTE_BATCH)) as Array<[string, string[]]>;
      for (const [id, fields] of entries) {
        const env = decodeEnvelope(fields);
        // A takeover request (XEP-0198) for a dead gateway's session goes unanswered: the resuming stream times out.
        if (!env || env.kind === 'kick' || env.kind === 'blocklist' || env.kind === 'sm-takeover') continue;
        // XEP-0198: what was on its way to a resumable session joins its queue, in stream order
        // (entries the dead gateway had queued itself are skipped by their id).
        try {
          if (env.kind === 'stanza' || env.kind === 'stanzas') {
            const sink = sinkOf(env.to, env.sessionId);
            if (sink) {
              await sink.appendEntry((env.kind === 'stanza' ? [env.xml] : env.xml).map((xml) => SharedStanza.fromText(xml).text(env.to, false)), id);
              queued += 1;
              continue;
            }
          } else if (env.kind === 'fanout') {
            const shared = SharedStanza.fromText(env.xml);
            for (const r of env.recipients) {
              const sink = sinkOf(r.to, r.sessionId);
              if (sink) {
                await sink.appendEntry([shared.text(r.to, false)], id);
                queued += 1;
              }
            }
          }
        } catch (err) {
          this.d.log.error({ err, id }, 'queueing an entry of a dead gateway for a resumable session failed');
        }
        if (env.kind === 'route' && env.mark === undefined) {
          // A server-made stanza handed to that gateway to route (the delete-user job's
          // subscription cancellations): routed here instead.
          try {
            await this.d.router.route(parseOwnElement(env.xml, NS.CLIENT));
            rerouted += 1;
          } catch (err) {
            this.d.log.error({ err, id }, 're-routing an entry of a dead gateway failed');
          }
          continue;
        }
        if (env.kind !== 'stanza' || env.mark !== undefined) {
          droppedRoomDeliveries += 1;
          continue;
        }
        try {
          const stanza = parseOwnElement(env.xml, NS.CLIENT);
          stanza.attrs.to = env.to;
          await this.d.router.route(stanza, 1);
          rerouted += 1;
        } catch (err) {
          this.d.log.error({ err, id }, 're-routing an entry of a dead gateway failed');
        }
      }
      if (entries.length < REROUTE_BATCH) break;
      from = `(${entries[entries.length - 1]![0]}`;
    }
    await this.holdLock(deadId);
    await this.d.redis.del(stream);
    return { rerouted, droppedRoomDeliveries, queued };
  }

  /** This gateway was reaped while alive: close its sessions, wait for the reaper, register again. */
  private async recover(): Promise<void> {
    if (this.recovering || this.stopped) return;
    this.recovering = true;
    try {
      this.d.log.warn('this gateway had been taken for dead and reaped; closing its sessions (reset) and registering again');
      await this.d.onReaped();
      const deadline = Date.now() + REAPER_LOCK_MS;
      while (Date.now() < deadline && (await this.d.redis.exists(this.d.keys.reaperLock(this.d.gatewayId)))) {
        await new Promise((r) => setTimeout(r, 100));
      }
      // Its sessions are closed: what its delivery stream still holds was for them. A reaper
      // that died between its claim and its set-aside (lua/reap-claim-5.lua) left it here; set
      // aside, the survivor that resumes the reap re-routes it (reap-resume status 2).
      await this.d.redis.reapSetAside(this.d.keys.gatewayDelivery(this.d.gatewayId), this.d.keys.gatewayReaping(this.d.gatewayId));
      this.token = randomBytes(12).toString('base64url');
      await this.d.redis.registerGateway(this.d.keys.gateways(), this.d.keys.gatewayToken(this.d.gatewayId), this.d.gatewayId, this.token);
      this.post({ kind: 'token', token: this.token });
      await this.d.onRegisteredAgain?.();
      this.d.log.warn('registered again after a reap');
    } catch (err) {
      this.d.log.error({ err }, 'recovering from a reap failed; will retry at the next heartbeat');
      this.post({ kind: 'token', token: this.token });
    } finally {
      this.recovering = false;
    }
  }
}
