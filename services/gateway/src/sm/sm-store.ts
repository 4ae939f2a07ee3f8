import type { KeySpace } from '@parley/bus';
import type { Logger } from 'pino';
import type { ScriptedRedis } from '../routing/scripts.js';

/** One queued stanza as kept in Redis (`KeySpace.smQueue`): serialised XML and when it was sent (ms since epoch). */
export interface StoredItem {
  x: string;
  t: number;
}

/** Parses a queue item; undefined when malformed. */
export function parseItem(raw: string): StoredItem | undefined {
  try {
    const v = JSON.parse(raw) as Partial<StoredItem>;
    return typeof v.x === 'string' && typeof v.t === 'number' ? { x: v.x, t: v.t } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Counts the XEP-0198 queue writes of this process (issued, and settled in Redis: replies on
 * one connection come in order). The delivery consumer trims its stream past an entry only
 * once every queue write issued while handling it has settled, so that an entry a session
 * got is, at every moment, either still in the stream (a reaper queues it again, unless the
 * hash's `did` says it is queued already) or in the session's queue in Redis: a SIGKILL
 * between the socket write and the Redis write loses nothing.
 */
export class WriteBarrier {
  issued = 0;
  settled = 0;
  private waiters: Array<{ gen: number; resolve: () => void }> = [];

  track(p: Promise<unknown>): void {
    this.issued += 1;
    const done = () => {
      this.settled += 1;
      if (this.waiters.length === 0) return;
      this.waiters = this.waiters.filter((w) => {
        if (w.gen > this.settled) return true;
        w.resolve();
        return false;
      });
    };
    p.then(done, done);
  }

  /** Resolves true once every write issued up to `gen` settled, false after `timeoutMs`. */
  async settledUpTo(gen: number, timeoutMs: number): Promise<boolean> {
    if (this.settled >= gen) return true;
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([
      new Promise<boolean>((resolve) => this.waiters.push({ gen, resolve: () => resolve(true) })),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return ok;
  }
}

/** This process's barrier (one gateway per process). */
export const smWrites = new WriteBarrier();

/** What a resumable session writes at `<enable/>` or after a resumption. */
export interface SmSnapshot {
  sessionId: string;
  resource: string;
  /** Stanzas handled from the client (mod 2^32). */
  inbound: number;
  /** The client's last `h`. */
  acked: number;
  windowSec: number;
  /** Unacknowledged stanzas, oldest first. */
  items: StoredItem[];
  rooms: Iterable<string>;
}

/**
 * The Redis copy of a XEP-0198 resumable session (issue #13): hash, queue and rooms in the
 * account's slot (`KeySpace.smState`/`smQueue`/`smRooms`), so that another gateway can resume
 * it after the gateway holding it died. The holding gateway's memory stays authoritative
 * while it lives; each write here is a single command sent without waiting for its reply
 * (the gateway's connection auto-pipelines, so a stanza's copy leaves in the same write as
 * its routing): `RPUSH` per stanza sent, `HINCRBY` per stanza handled, `LTRIM` + `HSET` per
 * `<a/>`. Failures are logged, never thrown (the session goes on; only a resumption after a
 * crash would miss that write).
 */
export class SmStore {
  constructor(
    private readonly redis: ScriptedRedis,
    private readonly keys: KeySpace,
    readonly gatewayId: string,
    private readonly log: Logger,
  ) {}

  private readonly failed = (err: unknown): void => {
    this.log.warn({ err }, 'writing XEP-0198 state to Redis failed');
  };

  /** Writes the whole state (at `<enable/>` and after a resumption); `detached` '' = connected. */
  write(bare: string, smId: string, s: SmSnapshot): void {
    const k = this.keys;
    const m = this.redis.multi();
    m.del(k.smQueue(bare, smId), k.smRooms(bare, smId));
    m.hset(k.smState(bare, smId), {
      sid: s.sessionId,
      res: s.resource,
      gw: this.gatewayId,
      h: String(s.inbound),
      acked: String(s.acked),
      win: String(s.windowSec),
      det: '',
    });
    m.hdel(k.smState(bare, smId), 'orphan', 'reaping');
    if (s.items.length > 0) m.rpush(k.smQueue(bare, smId), ...s.items.map((i) => JSON.stringify(i)));
    const rooms = [...s.rooms];
    if (rooms.length > 0) m.sadd(k.smRooms(bare, smId), ...rooms);
    m.exec().catch(this.failed);
  }

  /** One stanza sent (or queued while detached); `entryId`: the delivery stream entry it came from. */
  sent(bare: string, smId: string, item: StoredItem, entryId: string | undefined): void {
    let last: Promise<unknown> = this.redis.rpush(this.keys.smQueue(bare, smId), JSON.stringify(item));
    last.catch(this.failed);
    if (entryId !== undefined) {
      last = this.redis.hset(this.keys.smState(bare, smId), 'did', entryId);
      last.catch(this.failed);
    }
    smWrites.track(last);
  }

  /** One stanza handled from the client (XEP-0198 §4). */
  handled(bare: string, smId: string): void {
    this.redis.hincrby(this.keys.smState(bare, smId), 'h', 1).catch(this.failed);
  }

  /** The client acknowledged `n` more stanzas, up to `h` (XEP-0198 §4). */
  acked(bare: string, smId: string, n: number, h: number): void {
    if (n > 0) this.redis.ltrim(this.keys.smQueue(bare, smId), n, -1).catch(this.failed);
    this.redis.hset(this.keys.smState(bare, smId), 'acked', String(h)).catch(this.failed);
  }

  roomAdded(bare: string, smId: string, room: string): void {
    this.redis.sadd(this.keys.smRooms(bare, smId), room).catch(this.failed);
  }

  roomsCleared(bare: string, smId: string): void {
    this.redis.del(this.keys.smRooms(bare, smId)).catch(this.failed);
  }

  /** The connection dropped at `at` (ms since epoch). */
  detached(bare: string, smId: string, at: number): void {
    this.redis.hset(this.keys.smState(bare, smId), 'det', String(at)).catch(this.failed);
  }

  /** The gateway the Redis state names as the session's holder; undefined when there is none. */
  async holder(bare: string, smId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.keys.smState(bare, smId), 'gw')) ?? undefined;
  }

  /** The session ended: its state goes. */
  async delete(bare: string, smId: string): Promise<void> {
    await this.redis.del(this.keys.smState(bare, smId), this.keys.smQueue(bare, smId), this.keys.smRooms(bare, smId));
  }
}

/**
 * A Set that reports additions and clearing (a session's rooms, mirrored into
 * `KeySpace.smRooms` while the session is resumable).
 */
export class WatchedSet extends Set<string> {
  onAdd: ((value: string) => void) | undefined;
  onClear: (() => void) | undefined;

  override add(value: string): this {
    if (!this.has(value)) this.onAdd?.(value);
    return super.add(value);
  }

  override clear(): void {
    if (this.size > 0) this.onClear?.();
    super.clear();
  }
}
