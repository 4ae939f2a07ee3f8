// XEP-0045 §17.4 rule 3: "If an occupant wants to send an IQ stanza to another user in a
// semi-anonymous room, the sender can direct the stanza to the recipient's occupant JID
// and the service SHOULD forward the stanza to the recipient's real JID. However, the MUC
// service MUST NOT reveal the sender's real JID to the recipient at any time, nor reveal
// the recipient's real JID to the sender." (§6.6 and §7.5 use it for occupant disco and
// private IQs.) And XEP-0410 §3.3 (Server Optimization): the room answers "a occupant's
// Ping request to the occupant's own nickname" itself — a result when the pinging session
// is joined (as that nick), `not-acceptable` when it is not — and advertises
// `http://jabber.org/protocol/muc#self-ping-optimization`.
//
// How a request travels: the room sends it from the requester's occupant JID to the real
// full JID of the target occupant's primary session (§7.2.8: one session, as Prosody 0.12
// does), with a new id; the answer comes back from that real JID to the requester's
// occupant JID (through the gateways' route to the room's shard), and the room sends it
// from the target's occupant JID to the requester's session with the original id.
// The room keeps nothing per request: the new id is self-describing and unforgeable,
// `<issued, base 36>.<original id, base64url>.<target nick, base64url>.<mac>`, the MAC an
// HMAC-SHA-256 (RoomContext.forwardKey, one key for the cluster) over the room, the
// requester's and the target's real full JIDs, the issue time, the original id and the
// target nick. So an answer is relayed only when it comes from the very real JID the
// request went to, to a session of the occupant that asked, within
// RoomContext.forwardTtlMs of the request: a client cannot make the room deliver iq
// results to arbitrary JIDs, and neither real JID appears in the ids (Prosody 0.12 puts
// the target's real JID, base64-encoded, in its ids; that is its own, so no leak either).
// A replay within the time window delivers the same answer to the requester again.
//
// As Prosody 0.12 does, a vCard request (XEP-0054 `<vCard xmlns='vcard-temp'/>` get) goes
// to the occupant's bare JID instead, where the occupant's server answers for the account
// (the room's worker hands it to a gateway to route, `Outgoing.viaServer`); the answer
// comes back from the bare JID, which the id is bound to then.
// Refusals, as Prosody 0.12 answers them: a requester that is not joined to the room gets
// `not-acceptable` (XEP-0410 §3.2's "not joined" answer; also for self-pings); a nick
// nobody holds `item-not-found`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { copyElement } from '../copy-element.js';
import { REFUSALS, type Refusal } from '../errors.js';
import { findSession } from '../room-queries.js';
import type { StanzaRequest, Turn } from '../turn.js';
import type { Feature } from './feature.js';

/** XEP-0410 §3.3 disco#info feature. */
export const SELF_PING_FEATURE = 'http://jabber.org/protocol/muc#self-ping-optimization';

/** XEP-0410 §3.2: the answer to a requester that is not joined (also §7.4 non-occupants). */
export const NOT_JOINED: Refusal = { condition: 'not-acceptable', type: 'cancel', text: 'You are not joined to this room' };

/** Longest original iq id forwarded, in characters. */
export const MAX_FORWARDED_ID = 1024;

const DEFAULT_TTL_MS = 300_000;
/** XEP-0054 vcard-temp. */
const VCARD = 'vcard-temp';
/** Clock difference between room workers tolerated for ids issued "in the future", ms. */
const SKEW_MS = 60_000;
const MAC_BYTES = 16;

/** Advertises XEP-0410's self-ping optimization on every room. */
export const selfPing: Feature = {
  name: 'self-ping',
  discoFeatures() {
    return [SELF_PING_FEATURE];
  },
};

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');
const unb64 = (s: string): string | undefined => (/^[A-Za-z0-9_-]*$/.test(s) ? Buffer.from(s, 'base64url').toString('utf8') : undefined);

function mac(key: string, parts: readonly (string | number)[]): Buffer {
  return createHmac('sha256', key).update(JSON.stringify(parts)).digest().subarray(0, MAC_BYTES);
}

/** What a forwarded id carries, besides the two real JIDs (which only the MAC binds). */
interface Forwarded {
  issued: number;
  id: string;
  targetNick: string;
}

/** The id of a forwarded request (see the file comment). */
export function forwardedId(key: string, room: string, requester: string, target: string, f: Forwarded): string {
  const m = mac(key, ['iq1', room, requester, target, f.issued, f.id, f.targetNick]).toString('base64url');
  return `${f.issued.toString(36)}.${b64(f.id)}.${b64(f.targetNick)}.${m}`;
}

/**
 * Reads a forwarded id and checks its MAC for `requester` and `target`; undefined when it
 * is not one of ours, was issued for other JIDs, or has expired at `now`.
 */
export function readForwardedId(
  key: string,
  room: string,
  requester: string,
  target: string,
  token: string,
  now: number,
  ttlMs: number,
): Forwarded | undefined {
  const parts = token.split('.');
  if (parts.length !== 4) return undefined;
  const [ts, id64, nick64, m64] = parts as [string, string, string, string];
  if (!/^[0-9a-z]{1,11}$/.test(ts)) return undefined;
  const issued = parseInt(ts, 36);
  if (!(now - issued <= ttlMs && issued - now <= SKEW_MS)) return undefined;
  const id = unb64(id64);
  const targetNick = unb64(nick64);
  const got = unb64(m64) === undefined ? undefined : Buffer.from(m64, 'base64url');
  if (id === undefined || targetNick === undefined || got === undefined || got.length !== MAC_BYTES) return undefined;
  const want = mac(key, ['iq1', room, requester, target, issued, id, targetNick]);
  return timingSafeEqual(got, want) ? { issued, id, targetNick } : undefined;
}

/** An iq get or set to room/nick. */
export function onIqToOccupant(t: Turn, req: StanzaRequest): void {
  const requester = findSession(t.room, req.from);
  if (requester === undefined) return t.refuse(req, NOT_JOINED);
  const target = req.occupantNick === undefined ? undefined : t.room.occupants.get(req.occupantNick.key);
  if (target === undefined) return t.refuse(req, REFUSALS.noSuchOccupant);
  // XEP-0410 §3.3: a joined session pinging its own nick is answered by the room.
  if (target === requester.occupant && req.type === 'get' && req.payload?.name === 'ping' && req.payload.getNS() === NS.PING) {
    return t.result(req);
  }
  const key = t.ctx.forwardKey;
  if (key === undefined || key === '') return t.refuse(req, REFUSALS.unsupported);
  const id = typeof req.stanza.attrs.id === 'string' ? req.stanza.attrs.id : '';
  if (id.length > MAX_FORWARDED_ID) return t.refuse(req, { condition: 'bad-request', type: 'modify', text: `iq ids longer than ${MAX_FORWARDED_ID} characters are not forwarded` });
  const session = target.sessions[0];
  if (session === undefined) return t.refuse(req, REFUSALS.noSuchOccupant);
  const vcard = req.type === 'get' && req.payload?.name === 'vCard' && req.payload.getNS() === VCARD;
  const to = vcard ? target.bareJid : session.fullJid;
  const token = forwardedId(key, t.roomJid, req.from, to, { issued: t.ctx.now, id, targetNick: target.nick });
  const iq = new Element('iq', { xmlns: NS.CLIENT, type: req.type, id: token, from: t.occupantJid(requester.occupant.nick) });
  copyBody(req.stanza, iq);
  if (vcard) {
    iq.attrs.to = to;
    t.out.push({ stanza: iq, to, route: { gatewayId: req.origin.gatewayId, sessionId: '' }, viaServer: true });
  } else {
    t.sendTo(session, iq);
  }
  t.log('debug', 'iq forwarded to an occupant', { vcard });
}

/**
 * An iq result or error to room/nick: the answer to a forwarded request, relayed to the
 * requesting session with its original id; anything else is dropped (RFC 6120 §8.2.3: a
 * result or error is never answered).
 */
export function onIqAnswer(t: Turn, req: StanzaRequest): void {
  const key = t.ctx.forwardKey;
  const token = req.stanza.attrs.id;
  if (key === undefined || key === '' || typeof token !== 'string') return;
  const occupant = req.occupantNick === undefined ? undefined : t.room.occupants.get(req.occupantNick.key);
  if (occupant === undefined) return t.log('debug', 'iq answer for a nick that left');
  const ttl = t.ctx.forwardTtlMs ?? DEFAULT_TTL_MS;
  for (const session of occupant.sessions) {
    const f = readForwardedId(key, t.roomJid, session.fullJid, req.from, token, t.ctx.now, ttl);
    if (f === undefined) continue;
    // From the responder's occupant JID: its nick now, or the nick asked when it has left.
    const nick = findSession(t.room, req.from)?.occupant.nick ?? f.targetNick;
    const iq = new Element('iq', { xmlns: NS.CLIENT, type: req.type, id: f.id, from: t.occupantJid(nick) });
    copyBody(req.stanza, iq);
    t.sendTo(session, iq);
    return;
  }
  t.log('debug', 'iq answer with an unknown or expired id dropped');
}

/** Copies `xml:lang` and every child element. */
function copyBody(from: Element, to: Element): void {
  const lang: unknown = from.attrs['xml:lang'];
  if (typeof lang === 'string') to.attrs['xml:lang'] = lang;
  for (const child of from.getChildElements()) to.cnode(copyElement(child));
}
