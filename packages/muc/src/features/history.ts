// XEP-0045 §7.2.13 (Discussion History): "Discussion history messages MUST be stamped with
// XEP-0203 information ... The 'from' attribute MUST be set to the JID of the room itself."
// §7.2.14 (Managing Discussion History): maxchars, maxstanzas, seconds, since; "The service
// MUST send the smallest amount of traffic that meets any combination of the above
// criteria"; "it MUST send complete message stanzas only". History holds groupchat
// messages with a <body/> (not subject changes, §7.2.13: "the room subject ... [is] not
// part of the discussion history"), at most muc#roomconfig_historylength of them.
import { Element } from 'ltx';
import { NS, parseOwnElement, serialize } from '@parley/xml';
import { parseCount, type FormField } from '../data-form.js';
import { REFUSALS } from '../errors.js';
import type { HistoryEntry, OccupantSession } from '../room-state.js';
import { formatStamp, parseStamp } from '../stamp.js';
import type { Turn } from '../turn.js';
import type { Feature } from './feature.js';

const FIELD = 'muc#roomconfig_historylength';
/** Upper bound on muc#roomconfig_historylength (the history travels in every room snapshot). */
export const MAX_HISTORY_LENGTH = 1000;

/** Owns muc#roomconfig_historylength. */
export const history: Feature = {
  name: 'history',
  configFields(room): FormField[] {
    return [{ var: FIELD, type: 'text-single', label: 'Maximum Number of History Messages Kept', values: [String(room.config.historyLength)] }];
  },
  readConfig(form, next) {
    const value = form.values.get(FIELD)?.[0];
    if (value === undefined) return undefined;
    const n = parseCount(value);
    if (n === undefined) return REFUSALS.badFormValue;
    if (n > MAX_HISTORY_LENGTH) return REFUSALS.configNotAcceptable;
    next.historyLength = n;
    return undefined;
  },
  configApplied(t) {
    trim(t);
  },
};

function trim(t: Turn): void {
  const extra = t.room.history.length - t.room.config.historyLength;
  if (extra > 0) t.room.history.splice(0, extra);
}

/**
 * Records a broadcast groupchat message (`from` = room/nick, no `to`) in the history and
 * emits a `history-append` effect. Nothing when the room keeps no history.
 */
export function appendHistory(t: Turn, message: Element, nick: string): void {
  if (t.room.config.historyLength === 0) return;
  const entry: HistoryEntry = { xml: serialize(message), nick, at: t.ctx.now };
  t.room.history.push(entry);
  trim(t);
  t.effects.push({ kind: 'history-append', entry });
}

/** Sends the history to one joining session, limited by the join's `<history/>` element. */
export function sendHistory(t: Turn, session: OccupantSession, request: Element | undefined): void {
  let entries = t.room.history;
  const attr = (name: string): string | undefined => {
    const v: unknown = request?.attrs[name];
    return typeof v === 'string' ? v : undefined;
  };
  const maxchars = attr('maxchars') === undefined ? undefined : parseCount(attr('maxchars') ?? '');
  const maxstanzas = attr('maxstanzas') === undefined ? undefined : parseCount(attr('maxstanzas') ?? '');
  const seconds = attr('seconds') === undefined ? undefined : parseCount(attr('seconds') ?? '');
  const since = attr('since') === undefined ? undefined : parseStamp(attr('since') ?? '');
  let from = -Infinity;
  if (seconds !== undefined) from = t.ctx.now - seconds * 1000;
  if (since !== undefined) from = Math.max(from, since);
  entries = entries.filter((e) => e.at >= from);
  if (maxstanzas !== undefined) entries = maxstanzas === 0 ? [] : entries.slice(-maxstanzas);
  const out: Element[] = entries.map((e) => replay(t, e, session.fullJid));
  let first = 0;
  if (maxchars !== undefined) {
    let used = 0;
    first = out.length;
    while (first > 0) {
      const size = serialize(out[first - 1]!).length;
      if (used + size > maxchars) break;
      used += size;
      first--;
    }
  }
  for (const el of out.slice(first)) t.sendTo(session, el);
}

function replay(t: Turn, entry: HistoryEntry, to: string): Element {
  const message = parseOwnElement(entry.xml, NS.CLIENT);
  message.attrs.to = to;
  message.cnode(new Element('delay', { xmlns: NS.DELAY, from: t.roomJid, stamp: formatStamp(entry.at) }));
  return message;
}
