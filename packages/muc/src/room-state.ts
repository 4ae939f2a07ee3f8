// XEP-0045 §5 (roles and affiliations) and §7.2.13 (discussion history): the persistent
// shape of one room. Plain data (no classes or Elements); the two collections keyed by
// what users send (nicks, JIDs) are Maps, so that no key (`__proto__`, `constructor`, ...)
// ever reaches an object's prototype. room-json.ts turns a room into JSON for Redis and
// back: `roomFromJson(JSON.parse(JSON.stringify(roomToJson(room))))` is the same room.
import type { RoomConfig } from './room-config.js';

/** XEP-0045 §5.2: long-lived, per bare JID. `none` is the absence of an affiliation. */
export type Affiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';

/** XEP-0045 §5.1: per visit, per nick. `none` means "not in the room". */
export type Role = 'moderator' | 'participant' | 'visitor' | 'none';

/** A stored affiliation (XEP-0045 §9, §10). `none` is never stored: the entry is deleted instead. */
export interface AffiliationRecord {
  affiliation: Exclude<Affiliation, 'none'>;
  /** Registered (reserved) room nickname, XEP-0045 §7.10 / §9.3, enforced (RFC 8266). */
  nick?: string;
  /** Reason given when the affiliation was set (e.g. why a user was banned, §9.1). */
  reason?: string;
}

/**
 * One connected resource behind an occupant. XEP-0045 §7.2.8: the same bare JID may hold
 * the same nick from several resources ("multi-session nick").
 */
export interface OccupantSession {
  /** The user's full JID, e.g. `juliet@capulet.lit/balcony`. */
  fullJid: string;
  /** Gateway and session that own `fullJid` (used to route stanzas to it). */
  gatewayId: string;
  sessionId: string;
  /** The last available presence this session sent to the room, serialised as received. */
  presence: string;
  /** When the session joined, ms since epoch. */
  joined: number;
}

/**
 * An occupant: one nick in the room. `sessions[0]` is the primary session, whose presence
 * is the one shown to other occupants (the session that most recently sent presence).
 */
export interface Occupant {
  /** The nick as shown (in the occupant JID): enforced by the RFC 8266 Nickname profile. */
  nick: string;
  bareJid: string;
  /** Never `none` while stored: an occupant without a role has left. */
  role: Role;
  /** At least one. */
  sessions: OccupantSession[];
  /**
   * XEP-0421 occupant id of `bareJid` in this room (features/occupant-id.ts), set on join;
   * absent only in rooms stored before XEP-0421 support, until their next turn.
   */
  occupantId?: string;
  /**
   * When this occupant's last voice request was relayed, ms since epoch (XEP-0045 §7.13;
   * features/voice-request.ts allows one per `RoomContext.voiceRequestIntervalMs`).
   */
  lastVoiceRequest?: number;
}

/**
 * A hat the room assigned to a user (XEP-0317 §2: "a title and a URI", v0.3: an optional
 * XEP-0392 hue angle). Bounded by features/hats.ts (`checkHats`).
 */
export interface Hat {
  /** Identifies the hat (one URI is one hat); at most `HAT_URI_MAX_BYTES` UTF-8 bytes. */
  uri: string;
  /** Human-readable title; at most `HAT_TITLE_MAX_BYTES` UTF-8 bytes. */
  title: string;
  /** Hue angle in degrees, 0 ≤ hue < 360 (XEP-0392 §5.1). */
  hue?: number;
}

/** A discussion history entry (XEP-0045 §7.2.13). */
export interface HistoryEntry {
  /** The groupchat message as broadcast (`from` = room/nick, no `to`), serialised. */
  xml: string;
  nick: string;
  /** When the room received it, ms since epoch. */
  at: number;
}

/** The room's subject (XEP-0045 §8.1); `nick` is who set it, `at` when (ms since epoch). */
export interface RoomSubject {
  text: string;
  nick?: string;
  at?: number;
  /** XEP-0421 occupant id of whoever set it (shown again at join, §7.2.15). */
  occupantId?: string;
}

/** Everything the room core knows about one room. */
export interface RoomState {
  /** Bare room JID, e.g. `room@conference.localhost`. */
  jid: string;
  config: RoomConfig;
  /** XEP-0045 §10.1.2: a created room is locked until its owner configures it. */
  locked: boolean;
  /** By bare JID (normalised, RFC 7622). */
  affiliations: Map<string, AffiliationRecord>;
  /**
   * By the comparison form of the nick (RFC 8266 §2.4, `nicknameKey` of `@parley/jid`:
   * `alice` for `Alice` and `ａｌｉｃｅ`), in join order; `Occupant.nick` is the form shown.
   */
  occupants: Map<string, Occupant>;
  subject: RoomSubject | null;
  /** Oldest first, at most `config.historyLength` entries. */
  history: HistoryEntry[];
  /** When the room was created, ms since epoch. */
  created: number;
  /**
   * XEP-0421 §5.1: the room's secret HMAC key for occupant ids (features/occupant-id.ts),
   * random, made when the room is created; never sent to anyone. Absent only in rooms
   * stored before XEP-0421 support, until their next turn (`ensureOccupantIds`).
   */
  occupantIdKey?: string;
  /**
   * XEP-0317 hats, by bare JID of an affiliated user (features/hats.ts), each list in the
   * order assigned. Absent in rooms that never had hats (and rooms stored before them).
   */
  hats?: Map<string, Hat[]>;
}
