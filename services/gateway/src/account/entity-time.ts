// XEP-0202 entity time, answered by the server for itself and for its accounts' bare JIDs.
import { Element } from 'ltx';
import type { IqHandlers } from '../server/iq-handlers.js';

/** The urn:xmpp:time namespace (XEP-0202 §3), also its disco#info feature. */
export const TIME_NS = 'urn:xmpp:time';

/**
 * XEP-0202 §3: `<time xmlns='urn:xmpp:time'><tzo>±hh:mm</tzo><utc>…Z</utc></time>` for the
 * instant `at`: the offset of the host's local time zone at that instant (XEP-0082 §3.1
 * TZD) and the UTC time in XEP-0082 DateTime form, whole seconds (as Prosody 0.12). Pure
 * apart from reading the process's time zone.
 * @param at - ms since epoch
 */
export function timeElement(at: number): Element {
  const date = new Date(at);
  const offset = -date.getTimezoneOffset(); // minutes east of UTC
  const abs = Math.abs(offset);
  const tzo = `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  const utc = `${date.toISOString().slice(0, 19)}Z`;
  const el = new Element('time', { xmlns: TIME_NS });
  el.c('tzo').t(tzo).up();
  el.c('utc').t(utc).up();
  return el;
}

/**
 * Registers XEP-0202 get on the server and on accounts' bare JIDs (Prosody 0.12 answers
 * both with the server's clock; a full JID's time is its client's to answer), and the
 * `urn:xmpp:time` feature on both (XEP-0030: what is answered there is advertised there).
 */
export function registerEntityTime(table: IqHandlers, now: () => number): void {
  table.on('get', TIME_NS, 'time', ['server', 'account'], () => ({ payload: timeElement(now()) })).feature(TIME_NS, ['server', 'account']);
}
