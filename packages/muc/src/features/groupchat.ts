// XEP-0045 §7.4 (Sending a Message to All Occupants): "the service MUST change the 'from'
// attribute to the sender's occupant JID and reflect the message out to the full JID of
// each occupant"; "The service SHOULD reflect the message with the same 'id'"; "If the
// sender is a visitor (i.e., does not have voice in a moderated room), the service MUST
// return a &forbidden; error ... If the sender is not an occupant of the room, the service
// SHOULD return a &notacceptable; error". The message is reflected with all its children,
// but for a client's `<occupant-id/>` (XEP-0421 §4) and a `<stanza-id/>` claiming to be
// the room's (XEP-0359 §5), and gets the sender's occupant id (XEP-0421 §4) and the room's
// stanza id (XEP-0359 §3, features/stanza-id.ts), in that order (as Prosody 0.12 does).
import { Element } from 'ltx';
import { keepPermanently } from '@parley/stanza';
import { NS } from '@parley/xml';
import { copyElement } from '../copy-element.js';
import { REFUSALS } from '../errors.js';
import { findSession } from '../room-queries.js';
import type { OccupantSession } from '../room-state.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { appendHistory } from './history.js';
import { archiveMessage } from './mam.js';
import { addOccupantId, isOccupantId } from './occupant-id.js';
import { addStanzaId, isForgedStanzaId } from './stanza-id.js';
import { changeSubject, isSubjectChange } from './subject.js';

/** A groupchat message to the bare room JID: a subject change or a message to everyone. */
export function onGroupchat(t: Turn, req: StanzaRequest): void {
  const sender = findSession(t.room, req.from)?.occupant;
  if (sender === undefined) return t.refuse(req, REFUSALS.notOccupant);
  if (isSubjectChange(req.stanza)) return changeSubject(t, req, sender);
  if (sender.role === 'visitor' || sender.role === 'none') return t.refuse(req, REFUSALS.noVoice);
  // Built once and shared by every recipient (Turn.broadcast): a room of n occupants costs
  // one copy of the message, not n. This handler runs on the room in place (dispatch.ts):
  // the history append is its only change to the room, and its last action.
  const message = new Element('message', { xmlns: NS.CLIENT, from: t.occupantJid(sender.nick), type: 'groupchat' });
  for (const name of ['id', 'xml:lang']) {
    const v: unknown = req.stanza.attrs[name];
    if (typeof v === 'string') message.attrs[name] = v;
  }
  for (const child of req.stanza.getChildElements()) {
    if (isOccupantId(child) || isForgedStanzaId(child, t.roomJid)) continue;
    message.cnode(copyElement(child));
  }
  addOccupantId(message, sender.occupantId);
  const stanzaId = addStanzaId(message, t.roomJid, t.ctx);
  t.broadcast(allSessions(t), message);
  // §7.2.13 with XEP-0334: a message with a body or <store/> is kept in the history, unless
  // it carries <no-store/> or <no-permanent-store/> (history is stored with the room); the
  // same rule decides what the XEP-0313 archive keeps (mam.ts).
  if (keepPermanently(req.stanza)) {
    archiveMessage(t, message, stanzaId, sender);
    appendHistory(t, message, sender.nick);
  }
}

/** Every occupant session of the room, occupants in join order. */
function* allSessions(t: Turn): Generator<OccupantSession> {
  for (const occupant of t.room.occupants.values()) yield* occupant.sessions;
}
