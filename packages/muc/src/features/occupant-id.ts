// XEP-0421 (Anonymous unique occupant identifiers for MUCs) 1.0.1: every presence and
// every message the room sends from an occupant JID carries
// `<occupant-id xmlns='urn:xmpp:occupant-id:0' id='…'/>` (§4 "MUST be attached to every
// message and every presence sent by a MUC ... messages sent as part of the discussion
// history"), one per stanza: an occupant-id a client put in its own stanza is removed
// before the room reflects it (§4 "MUST replace such element"). The room advertises
// `urn:xmpp:occupant-id:0` in its disco#info (§3), and so does the service (service-step.ts):
// ids are on in every room (§4 "SHOULD additionally specify ... on the MUC service").
//
// The id (§5): stable for a real bare JID in one room (rejoins, nick changes), unique, and
// pseudonymous: base64 of HMAC-SHA-256 keyed with a secret of the room's own
// (`RoomState.occupantIdKey`, fresh randomness from `RoomContext.newId` when the room is
// created, persisted with the room) over the bare JID — §5.1's first construction. Rooms
// stored before the key existed get one on their next turn (`ensureOccupantIds`). The id
// of each occupant is computed once, on join, and kept on the occupant
// (`Occupant.occupantId`); absent members (probes, offline members) get it computed.
// Prosody 0.12 does the same (a per-room salt, HMAC-SHA-256, base64), so ids have the same
// shape (44 characters), not the same values.
import { createHmac } from 'node:crypto';
import { Element } from 'ltx';
import type { RoomContext } from '../room-input.js';
import type { RoomState } from '../room-state.js';
import type { Feature } from './feature.js';
import { newId } from './stanza-id.js';

/** XEP-0421 §3: the namespace and disco#info feature. */
export const OCCUPANT_ID_NS = 'urn:xmpp:occupant-id:0';

/** Advertises XEP-0421 on every room (§3). */
export const occupantIds: Feature = {
  name: 'occupant-id',
  discoFeatures() {
    return [OCCUPANT_ID_NS];
  },
};

/**
 * The XEP-0421 occupant id of `bareJid` in `room` (44 characters of base64, §5.1 at most
 * 128); undefined only for a room without `occupantIdKey` (see {@link ensureOccupantIds}).
 */
export function occupantIdOf(room: RoomState, bareJid: string): string | undefined {
  if (room.occupantIdKey === undefined) return undefined;
  return createHmac('sha256', room.occupantIdKey).update(bareJid, 'utf8').digest('base64');
}

/** A fresh occupant-id key (two {@link newId} values: at least 244 random bits from the worker). */
export function newOccupantIdKey(ctx: RoomContext): string {
  return `${newId(ctx)}${newId(ctx)}`;
}

/**
 * Gives a room stored before XEP-0421 support its key and every occupant its id, in place.
 * @returns true when it changed the room (the caller must persist it).
 */
export function ensureOccupantIds(room: RoomState, ctx: RoomContext): boolean {
  let changed = false;
  if (room.occupantIdKey === undefined) {
    room.occupantIdKey = newOccupantIdKey(ctx);
    changed = true;
  }
  for (const occupant of room.occupants.values()) {
    if (occupant.occupantId !== undefined) continue;
    occupant.occupantId = occupantIdOf(room, occupant.bareJid);
    changed = true;
  }
  return changed;
}

/** Appends `<occupant-id/>` with `id` to `stanza` (nothing when `id` is undefined). */
export function addOccupantId(stanza: Element, id: string | undefined): Element {
  if (id !== undefined) stanza.cnode(new Element('occupant-id', { xmlns: OCCUPANT_ID_NS, id }));
  return stanza;
}

/** Whether `child` is an `<occupant-id/>` (which the room never reflects, §4). */
export function isOccupantId(child: Element): boolean {
  return child.name === 'occupant-id' && child.getNS() === OCCUPANT_ID_NS;
}

