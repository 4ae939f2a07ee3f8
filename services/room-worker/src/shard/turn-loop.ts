/*
 * The turn loop of a room worker (issue #15 item 5: turn execution apart from placement,
 * membership/placement.ts): reads the held shards' input streams ahead, loads (activates)
 * newly held shards, and runs turns over them: apply in memory (shard-actor.ts, the room
 * core's `step`) → write the deliveries to the gateways' streams → commit each shard's
 * state under its lease (shard-store.ts), with the next turn prepared while a turn's
 * pipeline is in flight. Fairness between rooms: fair-schedule.ts. See ../../README.md.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'ioredis';
import type { Logger } from 'pino';
import { isCluster } from '@parley/service-runtime';
import { compareStreamIds, encodeEnvelope, encodeRoomInput, type KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import { roomSummary, type RoomContext } from '@parley/muc';
import { planEnvelopes, type PlannedEnvelope } from '../delivery/plan-envelopes.js';
import { resolveRecipients } from '../delivery/resolve-recipients.js';
import type { HeldShard, ShardPlacement } from '../membership/placement.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { ScriptedPipeline, ScriptedRedis } from '../redis-scripts.js';
import type { CommandReply } from './command-input.js';
import type { OverloadSignals } from './overload-signals.js';
import { pickFairAcross, QUIET_TURN_MAX, quietEntries, quietPicks } from './fair-schedule.js';
import { ShardActor, type PendingEntry, type StreamEntry, type TurnResult } from './shard-actor.js';
import { answerArchiveQueries, resolveArchiveRetractions } from './archive-store.js';
import { commitArgs, loadShard } from './shard-store.js';
import { hopTracing } from '@parley/bus';
import { WorkerHopTrace } from './hop-trace.js';
import { xreadCommand } from './xread-command.js';

/** How long one XREAD waits for entries, ms (also bounds how long a stop or a handover waits). */
const BLOCK_MS = 200;
/**
 * Redis Cluster read path (see {@link TurnLoop} `clusterRead`): each shard stream is its own
 * hash slot, so one XREAD cannot cover them and a blocking XREAD per shard would hold a
 * connection each. The shards are polled instead (one non-blocking XREAD per shard, sent as
 * one pipeline per node), and a worker with nothing to do waits between empty polls 1 ms,
 * doubling up to this many ms (the added latency of a message while traffic flows is at most
 * this); after {@link CLUSTER_DEEP_IDLE_AFTER_MS} without any entry, {@link CLUSTER_DEEP_IDLE_POLL_MS}.
 * Measured with 16 shards (ioredis costs ~50 µs of CPU per polled shard): ~100 polls/s, ~16% of
 * a core, at 8 ms; a third of that at 32 ms (docs/deploy.md "Redis Cluster").
 */
const CLUSTER_IDLE_POLL_MAX_MS = 8;
/** The pause between empty polls once a worker has read nothing for {@link CLUSTER_DEEP_IDLE_AFTER_MS}, ms. */
const CLUSTER_DEEP_IDLE_POLL_MS = 32;
const CLUSTER_DEEP_IDLE_AFTER_MS = 1000;
/** How long the public room list given to the service is reused, ms. */
const DIRECTORY_CACHE_MS = 1000;
/** How long a command's reply list lives after a result is pushed, ms. */
const COMMAND_REPLY_TTL_MS = 60_000;

/** A held shard with entries pending for a turn. */
interface ShardEntries {
  h: HeldShard;
}

/** A shard's entries applied in memory, waiting for delivery and commit. */
interface AppliedShard {
  h: HeldShard;
  actor: ShardActor;
  result: TurnResult;
  envelopes: PlannedEnvelope[];
  /**
   * Entries of this turn from lanes with nothing else pending (rooms that are not behind):
   * their deliveries go out ahead of the turn's others (see {@link queueTurn}).
   */
  quiet: ReadonlySet<string>;
  /** The lanes this turn took entries of (`BARRIER` included). */
  lanes: ReadonlySet<number>;
}

/** A room listed by the service (XEP-0045 §6.3, disco#items on the service). */
interface PublicRoom {
  jid: string;
  name: string;
  occupants: number;
}

export interface TurnLoopDeps {
  config: Config;
  /** Commands and scripts (auto-pipelined). */
  redis: ScriptedRedis;
  /** The connection the blocking XREAD holds (a relaying turn's writes go out ahead of it). */
  reader: ScriptedRedis;
  keys: KeySpace;
  placement: ShardPlacement;
  metrics: WorkerMetrics;
  signals: OverloadSignals;
  /** The cluster's key for forwarded IQ ids (read at start). */
  forwardKey: () => string | undefined;
  running: () => boolean;
  log: Logger;
}

/**
 * One sequential loop over the shards {@link ShardPlacement} holds: between turns it releases
 * handed-over shards and loads new ones ({@link activate}); each turn applies, delivers and
 * commits (see {@link turn}). A turn that only relays is not awaited on its own: its writes go
 * out in the pipeline of the next read.
 */
export class TurnLoop {
  private readonly p: ShardPlacement;
  private readonly log: Logger;
  private directory: { at: number; rooms: PublicRoom[] } | undefined;

  /** debug.hopTrace (issue #15 item 1): the stamps of traced entries; used only when `hopTracing.on`. */
  private readonly hop: WorkerHopTrace;

  constructor(private readonly d: TurnLoopDeps) {
    this.p = d.placement;
    this.log = d.log;
    this.hop = new WorkerHopTrace(d.log);
  }

  /**
   * Runs turns until the worker stops (`running()` false), then sends the last deferred turn.
   * Errors of a turn are logged and the loop goes on after 500 ms.
   */
  async run(): Promise<void> {
    // A turn that only relays (no room written, no command answered) is not awaited on its
    // own: its deliveries and commits go out in the same pipeline as the next XREAD, which
    // saves a round trip per turn; Redis runs them before the XREAD blocks.
    let deferred: AppliedShard[] = [];
    while (this.d.running()) {
      try {
        if (deferred.length && this.needsHousekeeping()) {
          await this.sendTurn(deferred);
          deferred = [];
        }
        if (this.needsHousekeeping()) await this.housekeeping();
        // Read ahead of the turns (up to `readAhead` entries pending per shard), so that the
        // fair schedule sees the quiet rooms' entries behind a flooded room's backlog; block
        // only when nothing is pending. One pass over the held shards: the loaded ones, those
        // with room to read ahead, and whether any has entries pending.
        const readAhead = this.d.config.roomWorker.readAhead;
        const active: HeldShard[] = [];
        const readable: HeldShard[] = [];
        let waiting = false;
        for (const h of this.p.held.values()) {
          if (!h.actor || h.lost) continue;
          active.push(h);
          if (h.actor.pending.length < readAhead) readable.push(h);
          if (h.actor.pending.length > 0) waiting = true;
        }
        if (!active.length) {
          if (deferred.length) await this.sendTurn(deferred);
          deferred = [];
          await sleep(BLOCK_MS / 4);
          continue;
        }
        let reply: Array<[string, StreamEntry[]]> | null;
        /** The next turn, prepared while the previous one's pipeline was in flight. */
        let prepared: AppliedShard[] | undefined;
        if (!readable.length) {
          if (deferred.length) await this.sendTurn(deferred);
          deferred = [];
          reply = null;
        } else if (this.clustered) {
          // Redis Cluster: the turn's commits and deliveries first, then one XREAD per shard.
          if (deferred.length) await this.sendTurn(deferred);
          deferred = [];
          reply = await this.clusterRead(readable, readAhead, waiting);
        } else if (deferred.length) {
          const pipeline = this.d.reader.pipeline() as ScriptedPipeline;
          const sent = this.queueTurn(deferred, pipeline);
          pipeline.sendCommand(this.xread(readable, readAhead, waiting));
          const turn = deferred;
          deferred = [];
          const inflight = this.execTurn(turn, pipeline);
          // While Redis runs that pipeline, the next turn is prepared from the entries already
          // read ahead (under load there are some): a turn then costs the longer of its compute
          // and its round trip, not their sum, and every waiting entry pays one turn less.
          // Its outputs go out only after the pipeline's replies (in order); a shard whose
          // commit failed is loaded again, and its part of the prepared turn is dropped.
          if (waiting) prepared = await this.prepareTurn(this.pendingBatch(active));
          const replies = await inflight;
          if (!replies) {
            // The pipeline failed (its shards load again): so do the prepared turn's, whose
            // entries were applied in memory only.
            for (const a of prepared ?? []) this.turnFailed(a.h, a.actor, new Error('the turn before this one was not sent'));
            continue;
          }
          await this.finishTurn(turn, replies, sent);
          const [err, r] = replies[replies.length - 1] ?? [new Error('no reply to XREAD'), null];
          if (err) throw err;
          reply = r as typeof reply;
        } else {
          reply = (await this.d.reader.sendCommand(this.xread(readable, readAhead, waiting))) as typeof reply;
        }
        for (const [stream, entries] of reply ?? []) {
          if (hopTracing.on) this.hop.read(entries);
          const shard = this.shardOfStream.get(stream);
          const h = readable.find((r) => r.shard === shard);
          if (h && h.actor && !h.lost && entries.length) h.actor.enqueue(entries);
        }
        let live: AppliedShard[];
        if (prepared) {
          live = prepared.filter((a) => a.h.actor === a.actor && this.p.leaseValid(a.h));
          // The entries that pipeline just read for rooms with nothing else pending (rooms
          // that are not behind) join this turn rather than wait for the next one: a second
          // apply of their shards, committed after the prepared one (commit numbers in
          // sequence, see commit-shard-n.lua), its lanes disjoint from the prepared turn's.
          const busy = new Map<HeldShard, ReadonlySet<number>>();
          for (const a of live) busy.set(a.h, a.lanes);
          const quiet = await this.prepareTurn(this.pendingBatch(active), (pending, i, h) => quietPicks(pending, busy.get(h), QUIET_TURN_MAX));
          live.push(...quiet);
        } else {
          const batch = this.pendingBatch(active);
          if (!batch.length) continue;
          live = await this.prepareTurn(batch);
        }
        if (!live.length) continue;
        if (live.some((a) => a.result.roomWrites.size > 0 || a.result.replies.length > 0)) {
          await this.sendTurn(live);
        } else {
          // Read on from where this turn ends; if its commit fails, the shard is loaded again.
          for (const a of live) a.actor.cursor = a.result.cursor;
          deferred = live;
        }
      } catch (err) {
        if (!this.d.running()) break;
        this.log.error({ err }, 'turn loop failed');
        await sleep(500);
      }
    }
    if (deferred.length) await this.sendTurn(deferred).catch((err: unknown) => this.log.warn({ err }, 'last turn not committed'));
  }

  /** The shards among `active` with entries pending, for a turn. */
  private pendingBatch(active: readonly HeldShard[]): ShardEntries[] {
    const batch: ShardEntries[] = [];
    for (const h of active) if (h.actor && !h.lost && h.actor.pending.length > 0) batch.push({ h });
    return batch;
  }

  /**
   * The loop's XREAD of `readable`'s shard streams, each from its actor's read cursor:
   * `COUNT <readAhead> [BLOCK <BLOCK_MS>] STREAMS <key>… <cursor>…` (xread-command.ts). With
   * entries pending (`poll`) the read must not wait: no BLOCK.
   */
  private xread(readable: readonly HeldShard[], readAhead: number, poll: boolean): Command {
    const keys: string[] = [];
    const cursors: string[] = [];
    for (const h of readable) {
      keys.push(this.streamKey(h.shard));
      cursors.push(h.actor!.readCursor);
    }
    return xreadCommand(readAhead, poll ? undefined : BLOCK_MS, keys, cursors);
  }

  /** Shard stream keys by shard, made once: the loop names every held shard's stream at each read. */
  private readonly streamKeys = new Map<number, string>();
  /** The reverse of {@link streamKeys}: shard by stream key, for the XREAD's replies. */
  private readonly shardOfStream = new Map<string, number>();

  private streamKey(shard: number): string {
    let key = this.streamKeys.get(shard);
    if (key === undefined) {
      this.streamKeys.set(shard, (key = this.d.keys.shardStream(shard)));
      this.shardOfStream.set(key, shard);
    }
    return key;
  }

  /** The reader is an ioredis Cluster (`redis.cluster`): the turn loop reads with {@link clusterRead}. */
  private get clustered(): boolean {
    return isCluster(this.d.reader);
  }

  /** Empty cluster polls in a row, for the idle back-off of {@link clusterRead}. */
  private idlePolls = 0;
  /** When {@link clusterRead} last read an entry (local ms). */
  private lastReadAt = 0;

  /**
   * One non-blocking `XREAD COUNT readAhead STREAMS <shard stream> <cursor>` per shard (each
   * shard stream is its own hash slot), pipelined per slot by the cluster client (see
   * @parley/service-runtime `clusterClient`), replies in the shape of a multi-stream XREAD.
   * When nothing was read and nothing is pending, waits 1, 2, 4 … up to
   * {@link CLUSTER_IDLE_POLL_MAX_MS} ms first (reset by any entry), or
   * {@link CLUSTER_DEEP_IDLE_POLL_MS} ms after a second without entries.
   * @throws the first XREAD error (the turn loop logs it and retries)
   */
  private async clusterRead(readable: readonly HeldShard[], readAhead: number, waiting: boolean): Promise<Array<[string, StreamEntry[]]> | null> {
    const pipeline = this.d.reader.pipeline();
    for (const h of readable) pipeline.xread('COUNT', readAhead, 'STREAMS', this.streamKey(h.shard), h.actor!.readCursor);
    const replies = (await pipeline.exec()) ?? [];
    const out: Array<[string, StreamEntry[]]> = [];
    for (const [err, r] of replies) {
      if (err) throw err;
      for (const one of (r as Array<[string, StreamEntry[]]> | null) ?? []) out.push(one);
    }
    if (out.length > 0 || waiting) {
      this.idlePolls = 0;
      if (out.length > 0) this.lastReadAt = Date.now();
      return out;
    }
    const deep = Date.now() - this.lastReadAt > CLUSTER_DEEP_IDLE_AFTER_MS;
    await sleep(deep ? CLUSTER_DEEP_IDLE_POLL_MS : Math.min(CLUSTER_IDLE_POLL_MAX_MS, 2 ** this.idlePolls));
    this.idlePolls = Math.min(this.idlePolls + 1, 8);
    return null;
  }

  /** True when {@link housekeeping} has work: a shard to release or to load. */
  private needsHousekeeping(): boolean {
    for (const h of this.p.held.values()) if (h.handover || (!h.actor && !h.lost)) return true;
    return false;
  }

  /** Releases handed-over shards and loads newly acquired (or failed) ones, between turns. */
  private async housekeeping(): Promise<void> {
    // A copy: releasing deletes from `held`, and loading awaits.
    for (const h of [...this.p.held.values()]) {
      if (!this.d.running()) return;
      if (h.handover) await this.p.release(h);
      else if (!h.actor && !h.lost) await this.activate(h);
    }
  }

  /**
   * Loads a shard, queues the removal of occupants on gateways that are not live, and
   * applies every entry after the cursor before the shard joins the XREAD loop.
   */
  private async activate(h: HeldShard): Promise<void> {
    const started = Date.now();
    try {
      const { rooms, cursor, laneMarks, commits, committed, legacy } = await loadShard(this.d.redis, this.d.keys, h.shard, h.log);
      if (h.lost) return;
      const actor = new ShardActor(h.shard, rooms, cursor, { lanes: this.d.config.roomWorker.lanes, laneMarks, commits, committed, legacy });
      // Persistent rooms outlive their occupants' gateways. A `gateway-down` entry per dead
      // gateway removes them: a real stream entry, so that what it produces carries a mark
      // that no earlier output of this shard has (a made-up input would have none).
      const dead = new Set<string>();
      for (const room of rooms.values()) {
        for (const occupant of room.occupants.values()) {
          for (const s of occupant.sessions) if (!this.p.liveGateways.has(s.gatewayId)) dead.add(s.gatewayId);
        }
      }
      if (dead.size) {
        const pipeline = this.d.redis.pipeline();
        for (const gateway of [...dead].sort()) pipeline.xadd(this.d.keys.shardStream(h.shard), '*', ...encodeRoomInput({ kind: 'gateway-down', gateway }));
        await pipeline.exec();
        h.log.info({ gateways: [...dead] }, 'removing occupants of gateways that are gone');
      }
      h.actor = actor;
      let replayed = 0;
      // The backlog, read ahead and applied with the same fair schedule as later turns.
      const readAhead = this.d.config.roomWorker.readAhead;
      let drained = false;
      while (!h.lost && h.actor === actor) {
        if (!drained && actor.pending.length < readAhead) {
          const entries = (await this.d.redis.xrange(this.d.keys.shardStream(h.shard), `(${actor.readCursor}`, '+', 'COUNT', readAhead)) as StreamEntry[];
          if (h.lost || h.actor !== actor) break;
          drained = entries.length < readAhead;
          // Entries a lane's mark covers were applied and committed already: enqueue skips them.
          actor.enqueue(entries);
          replayed += entries.length;
        }
        if (!actor.pending.length) break;
        await this.turn([{ h }]);
      }
      if (h.actor !== actor) return; // lost, or a turn failed and the shard will be loaded again
      h.log.info({ loadMs: Date.now() - started, replayed, rooms: rooms.size, token: h.token, cursor: actor.cursor }, 'shard acquired');
      await this.publishSummaries([...rooms.keys()], actor).catch((err: unknown) => h.log.warn({ err }, 'room directory update failed'));
    } catch (err) {
      h.actor = undefined;
      h.log.error({ err }, 'loading the shard failed; will retry');
      await sleep(200);
    }
  }

  /**
   * One turn of the shards one XREAD returned entries for: (a) apply each shard's entries in
   * memory, (b) write the stanzas they produced to the gateways' delivery streams, marked,
   * in one pipeline for all the shards, (c) commit each shard's state, history, cursor and
   * trim atomically under its lease (the commits are sent together: auto-pipelined), (d)
   * update the room directory (best effort). So a turn costs a fixed number of round trips
   * however many shards it touches. Any failure of a shard before its commit discards its
   * in-memory rooms: the shard is loaded again and the entries applied again, with the same
   * marks; a failed delivery pipeline does that for every shard of the turn. Each shard still
   * delivers before it commits.
   */
  private async turn(batch: readonly ShardEntries[]): Promise<void> {
    const live = await this.prepareTurn(batch);
    if (live.length) await this.sendTurn(live);
  }

  /** Steps (a) and the planning of (b): applies and plans every shard of the batch; the shards whose turn can go on. */
  private async prepareTurn(batch: readonly ShardEntries[], pick?: (pending: readonly PendingEntry[], index: number, h: HeldShard) => number[]): Promise<AppliedShard[]> {
    const applied: AppliedShard[] = [];
    this.d.signals.publish(this.p.held.values());
    await this.p.confirmLeases(batch.map(({ h }) => h));
    let publicRooms: PublicRoom[] = [];
    // The turn's entries: at most batchSize in all, round robin over every lane of every
    // shard (fair-schedule.ts), so that a turn, which every waiting entry pays, stays short.
    const picks = pick
      ? batch.map(({ h }, i) => pick(h.actor?.pending ?? [], i, h))
      : pickFairAcross(batch.map(({ h }) => h.actor?.pending ?? []), this.d.config.roomWorker.batchSize);
    const turns = batch.map(({ h }, i) => {
      const pending = h.actor?.pending ?? [];
      const quiet = quietEntries(pending, picks[i]!);
      const lanes = new Set(picks[i]!.map((k) => pending[k]!.lane));
      return { h, quiet, lanes, entries: h.actor ? h.actor.take(picks[i]!) : [] };
    });
    const now = Date.now();
    for (const { h, entries } of turns) {
      if (entries.length) h.takenAt = now;
      for (const e of entries) this.d.metrics.waited(now - Number(e.id.slice(0, e.id.indexOf('-'))));
    }
    try {
      if (turns.some(({ entries }) => entries.some((e) => e.input?.kind === 'stanza' && e.input.room === this.d.config.mucDomain))) publicRooms = await this.publicRooms();
    } catch (err) {
      for (const { h } of batch) this.turnFailed(h, h.actor, err);
      return [];
    }
    const ctx = this.context();
    // Every shard applies at least one entry, the turn's later shards only while the turn has
    // produced fewer than maxOutputsPerTurn stanzas: a turn of joins to a big room stays short.
    let outputs = 0;
    const maxOutputs = this.d.config.roomWorker.maxOutputsPerTurn;
    for (const { h, entries, quiet, lanes } of turns) {
      const actor = h.actor;
      if (!actor || !entries.length || !this.p.leaseValid(h)) continue;
      try {
        const result = actor.apply(entries, { ctx, publicRooms, log: h.log, countInput: (kind) => this.d.metrics.input(kind), maxOutputs: Math.max(0, maxOutputs - outputs), ...(this.d.forwardKey() === undefined ? {} : { idKey: this.d.forwardKey() }) });
        outputs += result.outputs.length;
        if (hopTracing.on) this.hop.applied(entries);
        applied.push({ h, actor, result, envelopes: [], quiet, lanes });
      } catch (err) {
        this.turnFailed(h, actor, err);
      }
    }
    const planned = await Promise.all(
      applied.map(async (a) => {
        try {
          // XEP-0425 retractions only the archive can confirm, resolved among the turn's outputs.
          if (a.result.archiveRetractions?.length) {
            const maxAge = ctx.archiveMaxAgeMs ?? 0;
            await resolveArchiveRetractions(this.d.redis, this.d.keys, a.h.shard, a.result, { maxEntries: ctx.archiveMaxMessages ?? 0, minAt: maxAge > 0 ? ctx.now - maxAge : 0 }, a.h.log);
          }
          // XEP-0313 queries of the turn, answered among its outputs (archive-store.ts).
          if (a.result.archiveQueries?.length) {
            await answerArchiveQueries(this.d.redis, this.d.keys, a.h.shard, a.result, a.actor.rooms, { now: ctx.now, maxAgeMs: ctx.archiveMaxAgeMs ?? 0 }, a.h.log);
          }
          const deliveries = await resolveRecipients(this.d.redis, this.d.keys, a.result.outputs, this.p.liveGateways, a.h.log);
          a.envelopes = planEnvelopes(a.h.shard, deliveries);
          return a;
        } catch (err) {
          this.turnFailed(a.h, a.actor, err);
          return undefined;
        }
      }),
    );
    return planned.filter((a): a is AppliedShard => a !== undefined && this.p.leaseValid(a.h));
  }

  /** Steps (b)–(d) for prepared shards, in one round trip of their own. */
  private async sendTurn(live: AppliedShard[]): Promise<void> {
    const pipeline = this.d.redis.pipeline() as ScriptedPipeline;
    const sent = this.queueTurn(live, pipeline);
    const replies = await this.execTurn(live, pipeline);
    if (replies) await this.finishTurn(live, replies, sent);
  }

  /**
   * Queues every shard's deliveries, then every shard's fenced commit: Redis runs a
   * connection's commands in order, so a commit never lands before its deliveries; if the
   * connection fails midway, the shards reload and replay, and the gateways' marks drop
   * what was delivered already.
   * @returns the number of delivery commands queued (they come first in the replies)
   */
  private queueTurn(live: readonly AppliedShard[], pipeline: ScriptedPipeline): number {
    let deliveries = 0;
    // Rooms that are not behind first: under overload a turn carries a few thousand
    // deliveries, and a gateway writes them in stream order, so a quiet room's message would
    // otherwise wait behind the busy rooms' share of the turn a second time at the gateway
    // (issue #10 item 6). Each envelope's mark names its own lane, and a quiet entry is the
    // only one of its lane in the turn, so every lane's deliveries stay in order.
    for (const pass of [true, false]) {
      for (const a of live) {
        for (const { gatewayId, envelope, entry } of a.envelopes) {
          if (a.quiet.has(entry) !== pass) continue;
          pipeline.xadd(this.d.keys.gatewayDelivery(gatewayId), '*', ...encodeEnvelope(hopTracing.on ? this.hop.envelope(envelope, entry) : envelope));
          deliveries += 1;
        }
      }
    }
    if (hopTracing.on) for (const a of live) this.hop.done(a.envelopes.map((e) => e.entry));
    for (const a of live) {
      const [numKeys, ...rest] = commitArgs(this.d.keys, a.h.shard, a.h.leaseValue, a.result);
      pipeline.commitShard(numKeys as number, ...rest);
    }
    return deliveries;
  }

  /** Runs a turn's pipeline; undefined (every shard of the turn failed) when it could not be sent. */
  private async execTurn(live: readonly AppliedShard[], pipeline: ScriptedPipeline): Promise<Array<[Error | null, unknown]> | undefined> {
    try {
      const traced = hopTracing.on ? this.hop.takeQueued() : undefined;
      const replies = (await pipeline.exec()) ?? [];
      if (traced !== undefined) this.hop.acked(traced);
      return replies;
    } catch (err) {
      for (const a of live) this.turnFailed(a.h, a.actor, err);
      return undefined;
    }
  }

  /** Reads a turn's replies: delivery errors (logged), then each shard's commit. */
  private async finishTurn(live: readonly AppliedShard[], replies: Array<[Error | null, unknown]>, deliveries: number): Promise<void> {
    let failedDelivery: Error | null = null;
    for (let i = 0; i < deliveries && !failedDelivery; i++) failedDelivery = replies[i]?.[0] ?? null;
    if (failedDelivery) {
      // Not reachable short of a broken Redis (XADD with `*` to our own stream keys): the
      // commits ran all the same, so what failed is lost; say so loudly.
      for (const a of live) a.h.log.error({ err: failedDelivery }, 'a delivery of a committed turn failed');
    }
    await Promise.all(live.map((a, i) => this.committed(a, replies[deliveries + i] ?? [new Error('no reply to the commit'), null])));
  }

  /** Handles one shard's commit reply, then pushes its command results and directory entries. */
  private async committed({ h, actor, result, envelopes }: AppliedShard, [err, reply]: [Error | null, unknown]): Promise<void> {
    try {
      if (err) throw err;
      if (reply === 'fenced') {
        this.p.lose(h, 'fenced at commit');
        return;
      }
      // The commit before it in the same pipeline failed: nothing was written, load again.
      if (reply === 'gap') throw new Error('a commit of this shard before this one is missing');
      // A later turn may have been prepared (and its cursor taken) while this one was in flight.
      if (compareStreamIds(result.cursor, actor.cursor) > 0) actor.cursor = result.cursor;
      this.d.metrics.turn();
      h.log.debug({ entries: result.applied, envelopes: envelopes.length, cursor: result.cursor }, 'turn committed');
      if (result.replies.length) await this.pushReplies(result.replies).catch((e: unknown) => h.log.warn({ err: e }, 'pushing command results failed'));
      await this.publishSummaries([...result.roomWrites.keys()], actor).catch((e: unknown) => h.log.warn({ err: e }, 'room directory update failed'));
    } catch (e) {
      this.turnFailed(h, actor, e);
    }
  }

  /** A shard's turn failed before its commit: reload it from the committed state. */
  private turnFailed(h: HeldShard, actor: ShardActor | undefined, err: unknown): void {
    if (h.actor === actor) h.actor = undefined;
    if (!h.lost) h.log.error({ err }, 'turn failed; the shard will be loaded again');
  }

  private context(): RoomContext {
    return {
      now: Date.now(),
      serviceJid: this.d.config.mucDomain,
      serviceAdmins: this.d.config.muc.admins,
      defaults: { historyLength: this.d.config.muc.historyLength, archiving: this.d.config.muc.archive.defaultEnabled },
      ...(this.d.forwardKey() === undefined ? {} : { forwardKey: this.d.forwardKey() }),
      forwardTtlMs: this.d.config.muc.iqForwardTtlMs,
      // XEP-0317 hats per user; XEP-0045 §7.13 voice requests per occupant (features/hats.ts, voice-request.ts).
      maxHatsPerUser: this.d.config.muc.maxHatsPerUser,
      voiceRequestIntervalMs: this.d.config.muc.voiceRequestIntervalMs,
      archiveMaxResults: this.d.config.muc.archive.maxQueryResults,
      archiveMaxMessages: this.d.config.muc.archive.maxMessages,
      archiveMaxAgeMs: this.d.config.muc.archive.maxAgeDays * 86_400_000,
      // XEP-0359 stanza ids, XEP-0307 unique names, XEP-0421 room keys (@parley/muc).
      newId: randomUUID,
    };
  }

  /**
   * Pushes each command result (JSON `CommandResult`) onto its reply list, after the turn that
   * produced it has committed: `RPUSH` + `PEXPIRE` 60 s, one pipeline, best effort. A turn
   * applied again after a failover pushes its results again; callers take the first.
   */
  private async pushReplies(replies: readonly CommandReply[]): Promise<void> {
    const pipeline = this.d.redis.pipeline();
    for (const { replyTo, result } of replies) pipeline.rpush(replyTo, JSON.stringify(result)).pexpire(replyTo, COMMAND_REPLY_TTL_MS);
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
  }

  /** Writes (or removes) the directory summaries of `rooms` after a commit. */
  private async publishSummaries(rooms: string[], actor: ShardActor): Promise<void> {
    if (!rooms.length) return;
    const pipeline = this.d.redis.pipeline();
    for (const jid of rooms) {
      const room = actor.rooms.get(jid);
      if (room) pipeline.hset(this.d.keys.roomDirectory(), jid, JSON.stringify(roomSummary(room)));
      else pipeline.hdel(this.d.keys.roomDirectory(), jid);
    }
    await pipeline.exec();
    this.directory = undefined;
  }

  /** Public rooms of the whole service, from the directory, cached for a second. */
  private async publicRooms(): Promise<PublicRoom[]> {
    if (this.directory && Date.now() - this.directory.at < DIRECTORY_CACHE_MS) return this.directory.rooms;
    const all = await this.d.redis.hgetall(this.d.keys.roomDirectory());
    const rooms: PublicRoom[] = [];
    for (const raw of Object.values(all)) {
      try {
        const s = JSON.parse(raw) as ReturnType<typeof roomSummary>;
        if (s.public) rooms.push({ jid: s.jid, name: s.name, occupants: s.occupants });
      } catch {
        // an unreadable summary is left out of the listing
      }
    }
    rooms.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
    this.directory = { at: Date.now(), rooms };
    return rooms;
  }
}
