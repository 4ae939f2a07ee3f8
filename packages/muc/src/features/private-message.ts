// XEP-0045 §7.5 (Sending a Private Message): "The service is responsible for changing the
// 'from' address to the sender's occupant JID and delivering the message to the intended
// recipient's full JID. The service SHOULD add the <x/> element if the message does not
// contain it already." "If the sender attempts to send a private message of type
// "groupchat" to a particular occupant, the service MUST refuse ... &badrequest;"; "to an
// occupant JID that does not exist, the service MUST return an &notfound; error"; "If the
// sender is not an occupant ... &notacceptable;". §7.2.8: a multi-session occupant gets
// private messages on all its sessions ("RECOMMENDED to route to all resources").
// muc#roomconfig_allowpm decides who may send them (refused with not-allowed).
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { copyElement } from '../copy-element.js';
import type { FormField } from '../data-form.js';
import { REFUSALS } from '../errors.js';
import type { AllowPm } from '../room-config.js';
import type { Role } from '../room-state.js';
import { findSession } from '../room-queries.js';
import type { StanzaRequest, Turn } from '../turn.js';
import type { Feature } from './feature.js';
import { addOccupantId, isOccupantId } from './occupant-id.js';
import { isForgedStanzaId } from './stanza-id.js';

const FIELD = 'muc#roomconfig_allowpm';
const VALUES: readonly AllowPm[] = ['anyone', 'participants', 'moderators', 'none'];

/** Owns muc#roomconfig_allowpm. */
export const privateMessage: Feature = {
  name: 'private-message',
  configFields(room): FormField[] {
    return [
      {
        var: FIELD,
        type: 'list-single',
        label: 'Who Can Send Private Messages?',
        values: [room.config.allowPm],
        options: [
          { label: 'Anyone', value: 'anyone' },
          { label: 'Anyone with Voice', value: 'participants' },
          { label: 'Moderators Only', value: 'moderators' },
          { label: 'Nobody', value: 'none' },
        ],
      },
    ];
  },
  readConfig(form, next) {
    const value = form.values.get(FIELD)?.[0];
    if (value === undefined) return undefined;
    if (!VALUES.includes(value as AllowPm)) return REFUSALS.badFormValue;
    next.allowPm = value as AllowPm;
    return undefined;
  },
};

function maySend(allow: AllowPm, role: Role): boolean {
  switch (allow) {
    case 'anyone':
      return true;
    case 'participants':
      return role === 'participant' || role === 'moderator';
    case 'moderators':
      return role === 'moderator';
    case 'none':
      return false;
  }
}

/** A message (chat, normal or headline) to room/nick. */
export function onPrivateMessage(t: Turn, req: StanzaRequest): void {
  const sender = findSession(t.room, req.from)?.occupant;
  if (sender === undefined) return t.refuse(req, REFUSALS.notOccupant);
  const target = req.occupantNick === undefined ? undefined : t.room.occupants.get(req.occupantNick.key);
  if (target === undefined) return t.refuse(req, REFUSALS.noSuchOccupant);
  if (!maySend(t.room.config.allowPm, sender.role)) return t.refuse(req, REFUSALS.pmNotAllowed);
  for (const session of target.sessions) {
    const message = new Element('message', { xmlns: NS.CLIENT, from: t.occupantJid(sender.nick) });
    for (const name of ['id', 'type', 'xml:lang']) {
      const v: unknown = req.stanza.attrs[name];
      if (typeof v === 'string') message.attrs[name] = v;
    }
    for (const child of req.stanza.getChildElements()) {
      if (isOccupantId(child) || isForgedStanzaId(child, t.roomJid)) continue;
      message.cnode(copyElement(child));
    }
    if (message.getChild('x', NS.MUC_USER) === undefined) message.c('x', { xmlns: NS.MUC_USER });
    // XEP-0421 §4: private messages from an occupant carry its occupant id too.
    t.sendTo(session, addOccupantId(message, sender.occupantId));
  }
}

/** §7.5: type groupchat to an occupant. */
export function onGroupchatToOccupant(t: Turn, req: StanzaRequest): void {
  t.refuse(req, REFUSALS.groupchatToOccupant);
}
