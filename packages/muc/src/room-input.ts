// What a room turn consumes: one input and the context it runs in (time, service, admins).
// The room worker builds these; the core never reads clocks or random sources itself.
import type { Element } from 'ltx';
import type { RoomCommand } from './room-command.js';
import type { RoomConfig } from './room-config.js';

/** Where a stanza came from: the gateway and client session that sent it. */
export interface StanzaOrigin {
  gatewayId: string;
  sessionId: string;
}

/** One input to {@link step}. */
export type RoomInput =
  /**
   * A stanza addressed to the room's bare JID or to room/nick. `stanza.attrs.from` is the
   * sender's full JID, set and verified by the gateway.
   */
  | { kind: 'stanza'; stanza: Element; origin: StanzaOrigin }
  /** The session is gone: it leaves every nick it had, like unavailable presence. */
  | { kind: 'session-ended'; fullJid: string; sessionId: string }
  /** Every session on that gateway is gone. */
  | { kind: 'gateway-down'; gatewayId: string }
  /**
   * The session (full JID, session id) is now held by gateway `gatewayId` (a XEP-0198 §5
   * resumption on another gateway): stanzas for it go there from now on; nothing is sent.
   */
  | { kind: 'session-moved'; fullJid: string; sessionId: string; gatewayId: string }
  /**
   * An administrative command (issue #4, the admin API). `command` comes from JSON and is
   * validated by the core (a malformed one is refused with `bad-request`); `commandId`
   * names the command-result effect that answers it.
   */
  | { kind: 'command'; command: RoomCommand; commandId: string };

/** The environment of one turn. */
export interface RoomContext {
  /** Current time, ms since epoch. */
  now: number;
  /** The MUC service's JID, e.g. `conference.localhost`. */
  serviceJid: string;
  /** Bare JIDs treated as owners of every room. */
  serviceAdmins: readonly string[];
  /** Deployment defaults for new rooms. */
  defaults?: Partial<RoomConfig>;
  /**
   * Key of the HMAC-SHA-256 that makes the ids of IQs forwarded to occupants (XEP-0045
   * §17.4 rule 3, features/iq-forward.ts) unforgeable; shared by every room worker of the
   * cluster (a result may come back to another worker after a failover). Without it, IQs
   * to occupant JIDs are refused with `service-unavailable` (only self-pings are answered).
   */
  forwardKey?: string;
  /** How long a forwarded IQ's answer is accepted, ms (default 300000). */
  forwardTtlMs?: number;
  /** XEP-0317: most hats one user may wear in a room (features/hats.ts; default 16). */
  maxHatsPerUser?: number;
  /**
   * XEP-0045 §7.13: least time between two voice requests of one occupant that are
   * relayed, ms (features/voice-request.ts; default 60000, 0 turns the limit off).
   */
  voiceRequestIntervalMs?: number;
  /**
   * XEP-0313: results per archive query page by default and at most (`<max/>` is capped to
   * it; features/mam.ts; default 50, as Prosody's max_archive_query_results).
   */
  archiveMaxResults?: number;
  /**
   * XEP-0313 §2.2 (retention): most messages a room's archive keeps (the oldest go first)
   * and their greatest age, ms (older ones are left out of results and trimmed at the next
   * commit). Read by the room worker; 0 or undefined: no bound of that kind.
   */
  archiveMaxMessages?: number;
  archiveMaxAgeMs?: number;
  /**
   * A fresh, unique and unpredictable id on every call (the room worker:
   * `crypto.randomUUID()`, 122 random bits): XEP-0359 stanza ids, XEP-0307 unique room
   * names, and (two of them) the XEP-0421 key of a new room. The core's only source of
   * randomness. Without it, ids are unique in the process but predictable (tests only).
   */
  newId?: () => string;
}
