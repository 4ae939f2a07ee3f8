// XEP-0313 (Message Archive Management) 1.1.3 for rooms, the pure part: what a room
// archives, who may query its archive and with which parameters, and how the results look.
// The archive itself lives in Redis (the room worker: services/room-worker/src/archive.ts);
// the core emits an `archive-append` effect per archived message and an `archive-query`
// effect per accepted query, and formats what the worker read with `archiveResults`.
//
// §3 / §6.2.2 (MUC archives): the archive is on the room's bare JID; "All messages sent to
// the room that contain a <body> element SHOULD be stored, as should subject change
// stanzas" (we also keep XEP-0334 `<store/>` messages and leave out `<no-store/>` and
// `<no-permanent-store/>` ones, as the discussion history does); the archive id is the
// XEP-0359 stanza-id the room stamped (§2.4). Access (§6.2.2): "In a members-only chat room,
// only owners, admins or members can query a room archive. In the case of open MUC rooms,
// the MUC archives can generally be accessed by any users (including those who have never
// entered the room) who do not have an affiliation of 'outcast'". Results: "the forwarded
// stanza MUST NOT have a 'to' attribute, and the 'from' MUST be the occupant JID of the
// sender"; real JIDs only to those allowed to see them now (§6.2.2, XEP-0045 §7.2.3/4), in
// `<x xmlns='http://jabber.org/protocol/muc#user'><item jid=.../></x>`, any such element
// the sender put in being stripped.
//
// Per room: muc#roomconfig_enablearchiving (Prosody 0.12's field; on by default as its
// muc_log_by_default). With it off nothing is archived, disco#info does not list
// urn:xmpp:mam:2, and queries get an empty result (as Prosody 0.12 answers).
// Not implemented: the #extended fields (before-id, after-id, ids, flip-page, metadata):
// we do not advertise `urn:xmpp:mam:2#extended` and answer those fields with
// feature-not-implemented (§4.1: "If a client includes a form field that the server does
// not recognise, the server MUST respond with a 'feature-not-implemented' error").
import { Element } from 'ltx';
import { tryParseJid } from '@parley/jid';
import { NS, parseOwnElement, serialize } from '@parley/xml';
import { buildForm, readForm, type FormField } from '../data-form.js';
import type { Refusal } from '../errors.js';
import { AFFILIATION_RANK, findSession, seesRealJids } from '../room-queries.js';
import type { Occupant, Role, RoomState } from '../room-state.js';
import { formatStamp, parseStamp } from '../stamp.js';
import type { StanzaRequest, Turn } from '../turn.js';
import { booleanField, readBoolean } from './boolean-field.js';
import type { Feature } from './feature.js';
import { SID_NS } from './stanza-id.js';

/** XEP-0313 namespace, disco#info feature and query FORM_TYPE (§7). */
export const MAM_NS = 'urn:xmpp:mam:2';
/** XEP-0059 Result Set Management. */
export const RSM_NS = 'http://jabber.org/protocol/rsm';
/** XEP-0297 Stanza Forwarding. */
export const FORWARD_NS = 'urn:xmpp:forward:0';

const FIELD = 'muc#roomconfig_enablearchiving';
/** Longest archive id, `with` value or queryid accepted, in characters (ours: UUIDs are 36). */
const MAX_ID_CHARS = 256;

/** Whether the room archives (rooms stored before XEP-0313 support read as on, the default). */
export function archivingEnabled(room: RoomState): boolean {
  return room.config.archiving !== false;
}

/** Owns muc#roomconfig_enablearchiving and the urn:xmpp:mam:2 disco feature. */
export const mam: Feature = {
  name: 'mam',
  configFields(room): FormField[] {
    return [booleanField(FIELD, 'Enable archiving?', archivingEnabled(room))];
  },
  readConfig(form, next) {
    return readBoolean(form, FIELD, (v) => (next.archiving = v));
  },
  discoFeatures(room) {
    return archivingEnabled(room) ? [MAM_NS] : [];
  },
};

/** One archived message, as stored (JSON) in the room's archive. */
export interface ArchiveEntry {
  /** The archive id: the XEP-0359 stanza-id the room stamped on the message. */
  id: string;
  /** When the room received it, ms since epoch. */
  at: number;
  /**
   * The message as the room reflected it (`from` = occupant JID, no `to`), serialised,
   * without the room's own `<stanza-id/>` (as Prosody 0.12 sends it back).
   */
  xml: string;
  /** The sender's nick (the resource of `from`). */
  nick: string;
  /** The sender's real bare JID: only shown to those allowed to see real JIDs. */
  jid: string;
  /** XEP-0421 occupant id of the sender, if any. */
  occupantId?: string;
}

/**
 * Records `message` (as broadcast, with its `<stanza-id/>` `id`) for the archive: an
 * `archive-append` effect, when the room archives. The caller decides whether the message
 * is worth archiving (§6.2.2 and XEP-0334: `keepPermanently`, or a subject change).
 */
export function archiveMessage(t: Turn, message: Element, id: string, sender: Occupant): void {
  if (!archivingEnabled(t.room)) return;
  const copy = new Element(message.name, { ...message.attrs });
  for (const child of message.children) {
    if (typeof child !== 'string' && child.name === 'stanza-id' && child.getNS() === SID_NS && child.attrs.by === t.roomJid) continue;
    copy.children.push(child);
  }
  delete copy.attrs.to;
  const entry: ArchiveEntry = { id, at: t.ctx.now, xml: serialize(copy), nick: sender.nick, jid: sender.bareJid };
  if (sender.occupantId !== undefined) entry.occupantId = sender.occupantId;
  t.effects.push({ kind: 'archive-append', entry });
}

/** Results per page by default and at most, without `RoomContext.archiveMaxResults` (Prosody's 50). */
export const DEFAULT_MAX_RESULTS = 50;

/** Query limits from the deployment (`muc.archive` in the configuration). */
export interface ArchiveLimits {
  /** Results per page when the query has no `<max/>`, and the cap on `<max/>` (Prosody: 50). */
  maxResults: number;
  /**
   * Accept the `urn:xmpp:mam:2#extended` parts (§4.1.3 `before-id`, `after-id`, `ids`; §4.3.3
   * `<flip-page/>`): only where the archive reading them serves them (accounts); otherwise
   * they are `feature-not-implemented`.
   */
  extended?: boolean;
}

/** An accepted archive query (the `archive-query` effect), validated and bounded. */
export interface ArchiveQuery {
  /** The room's bare JID. */
  room: string;
  /** Requester's full JID and the session to answer. */
  to: string;
  route: { gatewayId: string; sessionId: string };
  /** The query iq's id (the `<fin/>` result answers it). */
  iqId: string;
  /** The client's queryid, echoed in every `<result/>` (§4). */
  queryId?: string;
  /** §4.1.2 `start` / `end`, ms since epoch, inclusive. */
  start?: number;
  end?: number;
  /** §4.1.1 `with` as an occupant JID of this room: matches messages from that nick. */
  withNick?: string;
  /** §4.1.1 `with` as a real JID (requester allowed to see real JIDs): bare JID of the sender. */
  withJid?: string;
  /** RSM `<after/>`: an archive id (results strictly after it). */
  after?: string;
  /** RSM `<before/>`: an archive id, or '' for the last page (results strictly before it, newest page). */
  before?: string;
  /** Results wanted (RSM `<max/>` capped to {@link ArchiveLimits.maxResults}); 0 asks only for the count. */
  max: number;
  /** #extended §4.1.3 `after-id` / `before-id`: exclusive bounds by archive id (no change of direction). */
  afterId?: string;
  beforeId?: string;
  /** #extended §4.1.3 `ids`: exactly these archive ids (at most {@link ArchiveLimits.maxResults}). */
  ids?: string[];
  /** #extended `<flip-page/>`: the page's results are sent newest first (the page itself is the same). */
  flip?: boolean;
  /** The requester may see senders' real JIDs now (XEP-0045 §7.2.3/4). */
  realJids: boolean;
  /** False when the room does not archive: the answer is empty. */
  enabled: boolean;
}

/** What the worker read for a query: a page of entries, oldest first. */
export interface ArchivePage {
  entries: ArchiveEntry[];
  /** No further results in the paging direction (§4.3.2 `complete`). */
  complete: boolean;
  /** RSM `<count/>`, when known. */
  count?: number;
}

const refusal = (condition: Refusal['condition'], type: Refusal['type'], text?: string): Refusal =>
  text === undefined ? { condition, type } : { condition, type, text };

/**
 * §4.1.4 Retrieving form fields: `iq get` with `<query xmlns='urn:xmpp:mam:2'/>` to the room
 * answers the fields a query may use. Same access rule as a query.
 */
export function onMamFormGet(t: Turn, req: StanzaRequest): void {
  const denied = accessRefusal(t, req.fromBare);
  if (denied !== undefined) return t.refuse(req, denied);
  t.result(req, mamQueryForm());
}

/**
 * §4.1.4: `<query xmlns='urn:xmpp:mam:2'>` with the form of the fields a query may use (with,
 * start, end; with `extended`, #extended's before-id, after-id and ids, the last a list-multi
 * with an open XEP-0122 validation as §4.1.4 requires).
 */
export function mamQueryForm(extended = false): Element {
  const query = new Element('query', { xmlns: MAM_NS });
  const form = buildForm('form', MAM_NS, [
    { var: 'with', type: 'jid-single', values: [] },
    { var: 'start', type: 'text-single', values: [] },
    { var: 'end', type: 'text-single', values: [] },
    ...(extended
      ? [
          { var: 'before-id', type: 'text-single' as const, values: [] },
          { var: 'after-id', type: 'text-single' as const, values: [] },
        ]
      : []),
  ]);
  if (extended) form.c('field', { var: 'ids', type: 'list-multi' }).c('validate', { xmlns: 'http://jabber.org/protocol/xdata-validate', datatype: 'xs:string' }).c('open');
  query.cnode(form);
  return query;
}

/** §6.2.2: the refusal for a requester who may not read the archive (none when they may). */
function accessRefusal(t: Turn, bareJid: string): Refusal | undefined {
  const affiliation = t.affiliation(bareJid);
  if (affiliation === 'outcast') return refusal('forbidden', 'auth');
  if (t.room.config.membersOnly && AFFILIATION_RANK[affiliation] < AFFILIATION_RANK.member) return refusal('forbidden', 'auth');
  return undefined;
}

/**
 * §4 (Querying an archive) on a room: `iq set` with `<query xmlns='urn:xmpp:mam:2'
 * queryid?>`, an optional data form (FORM_TYPE urn:xmpp:mam:2; `start`, `end`, `with`) and
 * an optional XEP-0059 `<set/>` (`max`, `after`, `before`). Emits an `archive-query`
 * effect; the worker answers it. Errors:
 * - `forbidden` (auth): an outcast, or not at least a member of a members-only room (§6.2.2);
 * - `bad-request` (modify): a FORM_TYPE other than urn:xmpp:mam:2, a `start`/`end` that is
 *   not an XEP-0082 DateTime, a `with` that is not a JID, a `<max/>` that is not a count,
 *   ids longer than 256 characters;
 * - `feature-not-implemented` (cancel): a form field we do not know (§4.1.4), the
 *   #extended fields included, or `<flip-page/>`;
 * - `forbidden` (auth): `with` a real JID when the requester may not see real JIDs (§4.1.1:
 *   "this should only be available to entities that would already have been allowed to know
 *   the publisher").
 * An unknown RSM id (`item-not-found`, §4.3.2) is found out by the worker.
 */
export function onMamQuery(t: Turn, req: StanzaRequest): void {
  const denied = accessRefusal(t, req.fromBare);
  if (denied !== undefined) return t.refuse(req, denied);
  const parsed = parseArchiveQuery(req.payload!, { maxResults: t.ctx.archiveMaxResults ?? DEFAULT_MAX_RESULTS });
  if ('refusal' in parsed) return t.refuse(req, parsed.refusal);
  const role: Role = findSession(t.room, req.from)?.occupant.role ?? 'none';
  const realJids = seesRealJids(t.room, role);
  if (parsed.withJid !== undefined) {
    const jid = tryParseJid(parsed.withJid);
    if (jid !== undefined && jid.bare().toString() === t.roomJid) {
      if (jid.resource === undefined || jid.resource === '') return t.refuse(req, refusal('bad-request', 'modify', "'with' must be an occupant JID or a real JID"));
      parsed.withNick = jid.resource;
      delete parsed.withJid;
    } else if (!realJids) {
      return t.refuse(req, refusal('forbidden', 'auth', "Only those who may see real JIDs may filter by one"));
    } else {
      parsed.withJid = jid!.bare().toString();
    }
  }
  const query: ArchiveQuery = {
    ...parsed,
    room: t.roomJid,
    to: req.from,
    route: { ...req.origin },
    iqId: typeof req.stanza.attrs.id === 'string' ? req.stanza.attrs.id : '',
    realJids,
    enabled: archivingEnabled(t.room),
  };
  t.effects.push({ kind: 'archive-query', query });
}

type ParsedQuery = Omit<ArchiveQuery, 'room' | 'to' | 'route' | 'iqId' | 'realJids' | 'enabled'>;

/**
 * Reads a `<query xmlns='urn:xmpp:mam:2'/>` (iq set): the filters and RSM paging, or the
 * refusal (see {@link onMamQuery}). Pure; `with` is returned as given in `withJid`.
 */
export function parseArchiveQuery(query: Element, limits: ArchiveLimits): ParsedQuery | { refusal: Refusal } {
  const bad = (text: string) => ({ refusal: refusal('bad-request', 'modify', text) });
  const out: ParsedQuery = { max: limits.maxResults };
  const queryId: unknown = query.attrs.queryid;
  if (typeof queryId === 'string') {
    if (queryId.length > MAX_ID_CHARS) return bad('queryid too long');
    out.queryId = queryId;
  }
  const forms = query.getChildren('x', NS.DATA);
  if (forms.length > 1) return bad('one data form at most');
  if (forms[0] !== undefined) {
    const form = readForm(forms[0]);
    if (form.formType !== undefined && form.formType !== MAM_NS) return bad(`Unexpected FORM_TYPE, expected '${MAM_NS}'`);
    for (const [name, values] of form.values) {
      const value = values[0]?.trim();
      if (name === 'FORM_TYPE') continue;
      if (name === 'start' || name === 'end') {
        if (value === undefined || value === '') continue;
        const ms = parseStamp(value);
        if (ms === undefined) return bad('invalid timestamp');
        out[name] = ms;
      } else if (name === 'with') {
        if (value === undefined || value === '') continue;
        if (value.length > 3071 || tryParseJid(value) === undefined) return bad("'with' is not a JID");
        out.withJid = value;
      } else if (limits.extended && (name === 'after-id' || name === 'before-id')) {
        if (value === undefined || value === '') continue;
        if (value.length > MAX_ID_CHARS) return bad(`'${name}' too long`);
        out[name === 'after-id' ? 'afterId' : 'beforeId'] = value;
      } else if (limits.extended && name === 'ids') {
        const ids = values.map((v) => v.trim()).filter((v) => v !== '');
        if (ids.length === 0) continue;
        if (ids.length > limits.maxResults) return bad(`at most ${limits.maxResults} ids`);
        if (ids.some((v) => v.length > MAX_ID_CHARS)) return bad("an id in 'ids' is too long");
        out.ids = ids;
      } else {
        return { refusal: refusal('feature-not-implemented', 'cancel', `Unsupported field '${name.slice(0, 64)}'`) };
      }
    }
  }
  if (query.getChild('flip-page') !== undefined) {
    if (!limits.extended) return { refusal: refusal('feature-not-implemented', 'cancel', 'flip-page is not supported') };
    out.flip = true;
  }
  const set = query.getChild('set', RSM_NS);
  if (set !== undefined) {
    const max = set.getChild('max');
    if (max !== undefined) {
      const text = max.getText().trim();
      if (!/^\d{1,9}$/.test(text)) return bad('<max/> must be a non-negative integer');
      out.max = Math.min(Number(text), limits.maxResults);
    }
    for (const name of ['after', 'before'] as const) {
      const el = set.getChild(name);
      if (el === undefined) continue;
      const text = el.getText().trim();
      if (text.length > MAX_ID_CHARS) return bad(`<${name}/> too long`);
      if (text === '' && name === 'after') continue;
      out[name] = text;
    }
    if (set.getChild('index') !== undefined) return { refusal: refusal('feature-not-implemented', 'cancel', 'RSM <index/> is not supported') };
  }
  return out;
}

/**
 * The stanzas answering `query` with `page` (read by the worker), in order: one
 * `<message>` per entry (§4.2: `<result queryid id><forwarded><delay stamp/><message/>`,
 * from the room's bare JID to the requester), then the iq result with `<fin>` and the RSM
 * `<set>` (`first`, `last` when there are results, `count` when known; `complete='true'`
 * when the page reaches the end in its direction, §4.3.2). `room` (the room's current
 * state, after the turn) gives the senders' affiliation and role for the real-JID item.
 */
export function archiveResults(query: ArchiveQuery, page: ArchivePage, room: RoomState | undefined): Element[] {
  const out: Element[] = [];
  for (const entry of page.entries) {
    const message = new Element('message', { xmlns: NS.CLIENT, from: query.room, to: query.to });
    const result = message.c('result', query.queryId === undefined ? { xmlns: MAM_NS, id: entry.id } : { xmlns: MAM_NS, queryid: query.queryId, id: entry.id });
    const forwarded = result.c('forwarded', { xmlns: FORWARD_NS });
    forwarded.c('delay', { xmlns: NS.DELAY, stamp: formatStamp(entry.at) });
    let stored: Element;
    try {
      stored = parseOwnElement(entry.xml, NS.CLIENT);
    } catch {
      stored = new Element('message', { xmlns: NS.CLIENT, from: `${query.room}/${entry.nick}`, type: 'groupchat' });
    }
    delete stored.attrs.to;
    stored.attrs.xmlns = NS.CLIENT;
    stored.children = stored.children.filter((c) => typeof c === 'string' || !(c.name === 'x' && c.getNS() === NS.MUC_USER));
    // The room's own messages (a XEP-0425 retraction notice: nick '') have no sender to show.
    if (query.realJids && entry.nick !== '') {
      const item: Record<string, string> = { jid: entry.jid };
      if (room !== undefined) {
        item.affiliation = room.affiliations.get(entry.jid)?.affiliation ?? 'none';
        let role: Role = 'none';
        for (const o of room.occupants.values()) if (o.bareJid === entry.jid) role = o.role;
        item.role = role;
      }
      stored.c('x', { xmlns: NS.MUC_USER }).c('item', item);
    }
    forwarded.cnode(stored);
    out.push(message);
  }
  const iq = new Element('iq', { xmlns: NS.CLIENT, type: 'result', from: query.room, to: query.to, id: query.iqId });
  iq.cnode(archiveFin(page));
  out.push(iq);
  return out;
}

/**
 * §4.3 `<fin xmlns='urn:xmpp:mam:2'>` closing a page: `complete='true'` when the page reaches
 * the archive's end in its direction (§4.3.2), and the XEP-0059 `<set/>` with `first`/`last`
 * (when there are results) and `count` (when known). For rooms and accounts alike.
 */
export function archiveFin(page: { entries: readonly { id: string }[]; complete: boolean; count?: number }): Element {
  const fin = new Element('fin', page.complete ? { xmlns: MAM_NS, complete: 'true' } : { xmlns: MAM_NS });
  const set = fin.c('set', { xmlns: RSM_NS });
  const first = page.entries[0];
  const last = page.entries[page.entries.length - 1];
  if (first !== undefined && last !== undefined) {
    set.c('first').t(first.id);
    set.c('last').t(last.id);
  }
  if (page.count !== undefined) set.c('count').t(String(page.count));
  return fin;
}

/**
 * The error answering `query` when an RSM id is not in the archive (§4.3.2: "the server MUST
 * return an item-not-found error"; type `cancel` as the spec's example).
 */
export function archiveItemNotFound(query: ArchiveQuery): Element {
  const iq = new Element('iq', { xmlns: NS.CLIENT, type: 'error', from: query.room, to: query.to, id: query.iqId });
  iq.c('error', { type: 'cancel', by: query.room }).c('item-not-found', { xmlns: NS.STANZAS });
  return iq;
}

/** Whether `entry` passes the query's `with` filter (§4.1.1). */
export function matchesWith(query: Pick<ArchiveQuery, 'withNick' | 'withJid'>, entry: ArchiveEntry): boolean {
  if (query.withNick !== undefined && entry.nick !== query.withNick) return false;
  if (query.withJid !== undefined && entry.jid !== query.withJid) return false;
  return true;
}

/** Parses a stored archive entry (JSON); undefined when it is not one. */
export function archiveEntryFromJson(json: string): ArchiveEntry | undefined {
  try {
    const v: unknown = JSON.parse(json);
    if (typeof v !== 'object' || v === null) return undefined;
    const e = v as Record<string, unknown>;
    if (typeof e.id !== 'string' || typeof e.at !== 'number' || typeof e.xml !== 'string' || typeof e.nick !== 'string' || typeof e.jid !== 'string') return undefined;
    return e as unknown as ArchiveEntry;
  } catch {
    return undefined;
  }
}
