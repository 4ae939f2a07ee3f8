// XEP-0045 §8.1 (Modifying the Room Subject): a groupchat message with <subject/> and no
// <body/> or <thread/>; "By default, only users with a role of "moderator" SHOULD be
// allowed to change the subject" (muc#roomconfig_changesubject opens it to occupants
// with voice); "If someone without appropriate privileges attempts to change the room
// subject, the service MUST return a message of type "error" specifying a &forbidden;
// error"; "The MUC service MUST reflect the message to all other occupants with a 'from'
// address equal to ... the occupant JID". §7.2.15 (Room Subject): after the history the
// room "SHALL send the current room subject ... If there is no subject set, the room MUST
// return an empty <subject/> element"; the subject "SHOULD be stamped with XEP-0203".
import { Element } from 'ltx';
import { storageHints } from '@parley/stanza';
import { NS } from '@parley/xml';
import { copyElement } from '../copy-element.js';
import type { FormField } from '../data-form.js';
import { REFUSALS } from '../errors.js';
import type { Occupant, OccupantSession } from '../room-state.js';
import { formatStamp } from '../stamp.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { booleanField, readBoolean } from './boolean-field.js';
import type { Feature } from './feature.js';
import { archiveMessage } from './mam.js';
import { addOccupantId, isOccupantId } from './occupant-id.js';
import { addStanzaId, isForgedStanzaId } from './stanza-id.js';

const FIELD = 'muc#roomconfig_changesubject';

/** Owns the subject and muc#roomconfig_changesubject. */
export const subject: Feature = {
  name: 'subject',
  configFields(room) {
    return [booleanField(FIELD, 'Allow Occupants to Change Subject?', room.config.changeSubject)];
  },
  readConfig(form, next) {
    return readBoolean(form, FIELD, (v) => (next.changeSubject = v));
  },
  roomInfoFields(room): FormField[] {
    return [
      { var: 'muc#roominfo_subject', label: 'Current Discussion Topic', values: [room.subject?.text ?? ''] },
      // §16.5.4: the registered muc#roominfo name (Prosody 0.12 sends muc#roomconfig_changesubject).
      { var: 'muc#roominfo_subjectmod', type: 'boolean', label: 'Subject can be modified', values: [room.config.changeSubject ? '1' : '0'] },
    ];
  },
};

/** §8.1: "only a message that contains a <subject/> but no <body/> element shall be considered a subject change". */
export function isSubjectChange(message: Element): boolean {
  return message.getChild('subject') !== undefined && message.getChild('body') === undefined && message.getChild('thread') === undefined;
}

/** Changes the subject for `occupant` (checked here) and reflects the message to everyone. */
export function changeSubject(t: Turn, req: StanzaRequest, occupant: Occupant): void {
  const allowed = occupant.role === 'moderator' || (t.room.config.changeSubject && occupant.role === 'participant');
  if (!allowed) return t.refuse(req, REFUSALS.subjectForbidden);
  const text = req.stanza.getChildText('subject') ?? '';
  const message = new Element('message', { xmlns: NS.CLIENT, from: t.occupantJid(occupant.nick), type: 'groupchat' });
  if (typeof req.stanza.attrs.id === 'string') message.attrs.id = req.stanza.attrs.id;
  // As any groupchat message (groupchat.ts): XEP-0421 and XEP-0359 ids of the room's own.
  for (const child of req.stanza.getChildElements()) {
    if (isOccupantId(child) || isForgedStanzaId(child, t.roomJid)) continue;
    message.cnode(copyElement(child));
  }
  addOccupantId(message, occupant.occupantId);
  const stanzaId = addStanzaId(message, t.roomJid, t.ctx);
  const sessions: OccupantSession[] = [];
  for (const other of t.room.occupants.values()) sessions.push(...other.sessions);
  t.broadcast(sessions, message);
  // XEP-0313 §6.2.2: subject changes "SHOULD be stored" too (Prosody 0.12 does not), unless
  // they carry a XEP-0334 <no-store/> or <no-permanent-store/> hint.
  const hints = storageHints(req.stanza);
  if (!hints.noStore && !hints.noPermanentStore) archiveMessage(t, message, stanzaId, occupant);
  // Runs on the room in place (dispatch.ts): the state changes last, after nothing can refuse.
  t.room.subject = text === '' ? null : { text, nick: occupant.nick, at: t.ctx.now, ...(occupant.occupantId === undefined ? {} : { occupantId: occupant.occupantId }) };
  t.persist();
}

/** §7.2.15: the current subject (or an empty one) for a joining session. */
export function sendSubject(t: Turn, session: OccupantSession): void {
  const s = t.room.subject;
  const from = s?.nick === undefined ? t.roomJid : t.occupantJid(s.nick);
  const message = new Element('message', { xmlns: NS.CLIENT, from, type: 'groupchat' });
  message.c('subject').t(s?.text ?? '');
  if (s?.at !== undefined) message.c('delay', { xmlns: NS.DELAY, from: t.roomJid, stamp: formatStamp(s.at) });
  if (s?.nick !== undefined) addOccupantId(message, s.occupantId);
  t.sendTo(session, message);
}
