// XEP-0045 §10.1.1: the service must "add the owner to the room but not allow anyone else
// to enter the room (effectively "locking" the room)"; §7.2.10: "If a user attempts to
// enter a room while it is "locked" ... the service MUST refuse entry and return an
// &notfound; error". The room is unlocked when its owner submits a configuration (an
// empty submission makes an instant room, §10.1.2) and destroyed if the owner cancels
// (§10.1.3: "If the room owner cancels the initial configuration, the service MUST
// destroy the room"). Owners (e.g. the creator's other resources) may still enter.
import { REFUSALS } from '../errors.js';
import type { Turn } from '../turn.js';
import type { Feature } from './feature.js';

/** Refuses entry to a locked room (except to owners). */
export const lock: Feature = {
  name: 'lock',
  preJoin(t, join) {
    return t.room.locked && !join.req.created && join.affiliation !== 'owner' ? REFUSALS.locked : undefined;
  },
};

/** Unlocks the room (first configuration accepted). */
export function unlock(t: Turn): void {
  if (!t.room.locked) return;
  t.room.locked = false;
  t.persist();
  t.log('info', 'room unlocked');
}
