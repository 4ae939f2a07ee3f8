// XEP-0045 §7.4 (Sending a Message to All Occupants): "the service MUST change the 'from'
// attribute to the sender's occupant JID and reflect the message out to the full JID of
// each occupant"; "The service SHOULD reflect the message with the same 'id'"; "If the
// sender is a visitor (i.e., does not have voice in a moderated room), the service MUST
// return a &forbidden; error ... If the sender is not an occupant of the room, the service
// SHOULD return a &notacceptable; error". The message is reflected with all its children.
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { copyElement } from '../copy-element.js';
import { REFUSALS } from '../errors.js';
import { findSession } from '../room-queries.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { appendHistory } from './history.js';
import { changeSubject, isSubjectChange } from './subject.js';

/** A groupchat message to the bare room JID: a subject change or a message to everyone. */
export function onGroupchat(t: Turn, req: StanzaRequest): void {
  const sender = findSession(t.room, req.from)?.occupant;
  if (sender === undefined) return t.refuse(req, REFUSALS.notOccupant);
  if (isSubjectChange(req.stanza)) return changeSubject(t, req, sender);
  if (sender.role === 'visitor' || sender.role === 'none') return t.refuse(req, REFUSALS.noVoice);
  const reflect = (): Element => {
    const message = new Element('message', { xmlns: NS.CLIENT, from: t.occupantJid(sender.nick), type: 'groupchat' });
    for (const name of ['id', 'xml:lang']) {
      const v: unknown = req.stanza.attrs[name];
      if (typeof v === 'string') message.attrs[name] = v;
    }
    for (const child of req.stanza.getChildElements()) message.cnode(copyElement(child));
    return message;
  };
  for (const occupant of Object.values(t.room.occupants)) {
    for (const session of occupant.sessions) t.sendTo(session, reflect());
  }
  if (req.stanza.getChild('body') !== undefined) appendHistory(t, reflect(), sender.nick);
}
