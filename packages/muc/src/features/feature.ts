// The hook vocabulary shared by the feature files (after Prosody's muc-* events). Each
// feature implements the hooks it needs; features/index.ts lists them in the order the
// hooks run. Hooks are pure: they read the room and write only through the Turn.
import type { Element } from 'ltx';
import type { FormField, SubmittedForm } from '../data-form.js';
import type { Refusal } from '../errors.js';
import type { Nick } from '../nick.js';
import type { RoomConfig } from '../room-config.js';
import type { Affiliation, Occupant, Role, RoomState } from '../room-state.js';
import type { StanzaRequest, Turn } from '../turn.js';

/** A join being decided (XEP-0045 §7.2). */
export interface JoinAttempt {
  req: StanzaRequest;
  /** The requested nick, enforced and with its comparison key (RFC 8266). */
  nick: Nick;
  /** The joiner's effective affiliation. */
  affiliation: Affiliation;
  /** The occupant already holding `nick` (same bare JID: a further session), if any. */
  existing: Occupant | undefined;
  /** The `<x xmlns='http://jabber.org/protocol/muc'/>` of the join presence, if any. */
  mucX: Element | undefined;
}

/** Who performed an administrative action: full JID, and nick when an occupant. */
export interface Actor {
  jid: string;
  nick?: string;
}

/** One MUC feature: a slice of room behaviour and configuration. */
export interface Feature {
  readonly name: string;
  /** muc-occupant-pre-join: return a refusal to veto the join (first veto wins). */
  preJoin?(t: Turn, join: JoinAttempt): Refusal | undefined;
  /** muc-occupant-pre-change: veto a nick change (§7.6). */
  preNickChange?(t: Turn, occupant: Occupant, newNick: Nick): Refusal | undefined;
  /** muc-get-default-role (§5.1.2): first defined answer wins; `none` = may not enter. */
  defaultRole?(room: RoomState, affiliation: Affiliation): Role | undefined;
  /** muc-config-form (§10.2): this feature's fields, with current values. */
  configFields?(room: RoomState): FormField[];
  /**
   * muc-config-submitted: read this feature's fields from `form` into `next` (a copy of
   * the configuration being built). A refusal rejects the whole submission.
   */
  readConfig?(form: SubmittedForm, next: RoomConfig): Refusal | undefined;
  /**
   * After a submitted configuration was applied: act on the change (e.g. §10.2 status 322).
   * `actor` is undefined when the service changed the configuration (an admin command).
   */
  configApplied?(t: Turn, before: RoomConfig, actor: Actor | undefined): void;
  /** §10.2.1: status codes announcing the change (besides 104). */
  configStatusCodes?(before: RoomConfig, after: RoomConfig): string[];
  /** muc-disco#info (§6.4): feature vars. */
  discoFeatures?(room: RoomState): string[];
  /** muc#roominfo fields (§6.4, XEP-0128). */
  roomInfoFields?(room: RoomState): FormField[];
}
