import { encodeEnvelope, encodeRoomInput, shardForRoom, type KeySpace, type SessionRecord } from '@parley/bus';
import type { Redis } from 'ioredis';

/** How long a resuming stream waits for the gateway holding the session to hand it over, ms. */
export const TAKEOVER_WAIT_MS = 3000;
/** How often it looks for the answer, ms. */
const POLL_MS = 20;
/** Largest handed-over state accepted, bytes (`sm.maxUnacked` stanzas of at most 256 KiB each fit far below). */
const MAX_STATE_BYTES = 256 * 1024 * 1024;

/**
 * The cross-gateway part of a XEP-0198 §5 resumption: asks the gateway that holds a session
 * to hand it over (an `sm-takeover` envelope on its delivery stream; it answers on a list in
 * the account's slot), and tells the rooms of a moved session where it is now.
 */
export class SmTakeover {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
    private readonly gatewayId: string,
    private readonly shards: number,
  ) {}

  /**
   * Asks `record.gateway` for the session of `fullJid` named by `smId`.
   * @returns the state as the holding session's `takeOver` wrote it (JSON text; `{}` when
   *   that gateway had no such session), or undefined when no answer came within
   *   {@link TAKEOVER_WAIT_MS} (that gateway is dead or stuck) or it was too large
   */
  async request(bareJid: string, fullJid: string, record: SessionRecord, smId: string, nonce: string): Promise<string | undefined> {
    const reply = this.keys.smTakeover(bareJid, nonce);
    await this.redis.xadd(
      this.keys.gatewayDelivery(record.gateway),
      '*',
      ...encodeEnvelope({ kind: 'sm-takeover', to: fullJid, sessionId: record.sessionId, smId, gateway: this.gatewayId, reply }),
    );
    const deadline = Date.now() + TAKEOVER_WAIT_MS;
    while (Date.now() < deadline) {
      const answer = await this.redis.lpop(reply);
      if (answer !== null) {
        await this.redis.del(reply);
        return answer.length > MAX_STATE_BYTES ? undefined : answer;
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return undefined;
  }

  /** Tells each room the session was in that it is now on this gateway (room input `session-moved`). */
  async moved(fullJid: string, sessionId: string, rooms: Iterable<string>): Promise<void> {
    await Promise.all(
      [...rooms].map((room) =>
        this.redis.xadd(this.keys.shardStream(shardForRoom(room, this.shards)), '*', ...encodeRoomInput({ kind: 'session-moved', room, jid: fullJid, sessionId, gateway: this.gatewayId })),
      ),
    );
  }
}
