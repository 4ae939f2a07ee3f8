// Properties of the room core's `step` under random sequences of inputs (issue #10 item 9):
// joins, leaves, nick changes, messages, subject, role and affiliation edits, configuration,
// lists, disco, destroy, lost sessions and gateways, random payloads, from a small pool of
// users with hostile nicks (`__proto__`, `constructor`, width variants, 2,000 characters,
// empty, control characters). Run briefly by fuzz-step.test.ts (fixed seed) and at length
// by bench/fuzz.ts. Invariants, after every input:
//   - step never throws;
//   - an iq get/set is answered (result or error, same id, to the sender); any other
//     request (message, presence, not of type error) yields a stanza or a `log` effect;
//   - the state is valid: every occupant has >= 1 session and a role other than none, and
//     is keyed by the comparison form of its nick (RFC 8266, nicknameKey); no affiliation
//     is `none`; once the room has had an owner it keeps one; history is within
//     config.historyLength; the state survives its JSON round trip unchanged;
//   - the state changes only as the effects say (persist / history-append / destroyed);
//   - Object.prototype is unchanged.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Element } from 'ltx';
import { nicknameKey } from '@parley/jid';
import { roomFromJson, roomToJson, step, type RoomInput, type RoomState } from '@parley/muc';
import { NS, parseElement } from '@parley/xml';

/** A named property, run by the test with few inputs and by the benchmark with many. */
export interface FuzzProperty {
  name: string;
  property: fc.IRawProperty<unknown>;
}

const ROOM = 'fuzz@conference.localhost';
const CTX = { now: Date.UTC(2026, 0, 1, 12, 0, 0), serviceJid: 'conference.localhost', serviceAdmins: ['admin@localhost'], forwardKey: 'fuzz-forward-key' };

/** Senders: full JIDs, two resources of one user, a service admin. */
export const USERS = ['owner@localhost/desk', 'owner@localhost/phone', 'bob@localhost/a', 'carol@other.test/x', 'admin@localhost/console', '__proto__@localhost/constructor'];
const GATEWAYS = ['gw1', 'gw2'];

/** Nicks and JIDs an attacker would try, and ordinary ones. */
export const HOSTILE_NICKS = [
  'alice', 'Alice', 'ａｌｉｃｅ', 'bob', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype',
  '', ' ', '  alice  ', 'a b', '😀', 'ﬀ', 'İ', '\u0301', 'x'.repeat(2000), 'ä'.repeat(600), 'a/b', 'a@b', "o'neil", '<&>',
];
const TARGET_JIDS = ['owner@localhost', 'bob@localhost', 'carol@other.test', '__proto__@localhost', 'constructor@localhost', 'nobody@localhost', 'localhost', '__proto__', '', 'a@b@c', `${'x'.repeat(1100)}@localhost`];

const nick = fc.oneof(fc.constantFrom(...HOSTILE_NICKS), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }));
const user = fc.nat({ max: USERS.length - 1 });
const targetJid = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TARGET_JIDS) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map((s) => `${s}@localhost`) });
const role = fc.constantFrom('moderator', 'participant', 'visitor', 'none', 'owner', '', '__proto__');
const affiliation = fc.constantFrom('owner', 'admin', 'member', 'none', 'outcast', 'moderator', '', '__proto__');
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('__proto__', 'x'.repeat(3000)));

const CONFIG_FIELDS = [
  'muc#roomconfig_membersonly', 'muc#roomconfig_moderatedroom', 'muc#roomconfig_passwordprotectedroom', 'muc#roomconfig_persistentroom',
  'muc#roomconfig_publicroom', 'muc#roomconfig_changesubject', 'muc#roomconfig_allowinvites', 'muc#roomconfig_historylength',
  'muc#roomconfig_maxusers', 'muc#roomconfig_roomsecret', 'muc#roomconfig_whois', 'muc#roomconfig_allowpm', 'muc#roomconfig_roomname',
  'muc#roomconfig_presencebroadcast', '__proto__', 'constructor',
];
const configValue = fc.constantFrom('0', '1', 'true', 'false', '5', '-1', '0', '100000', 'secret', 'anyone', 'moderators', 'none', 'moderator', '', '__proto__');

/** One action of the fuzzer, turned into a room input by {@link toInput}. */
export type Action =
  | { a: 'join'; u: number; nick: string; password: string | undefined; history: string | undefined }
  | { a: 'leave'; u: number; nick: string }
  | { a: 'presence'; u: number; nick: string; show: string }
  | { a: 'groupchat'; u: number; body: string }
  | { a: 'pm'; u: number; nick: string; body: string }
  | { a: 'subject'; u: number; subject: string }
  | { a: 'role'; u: number; nick: string; role: string }
  | { a: 'affiliation'; u: number; jid: string; affiliation: string; nick: string | undefined }
  | { a: 'list'; u: number; key: 'role' | 'affiliation'; value: string }
  | { a: 'config'; u: number; fields: Array<[string, string]> }
  | { a: 'config-get'; u: number }
  | { a: 'disco'; u: number; items: boolean; nick: string | undefined }
  | { a: 'destroy'; u: number }
  | { a: 'invite'; u: number; jid: string }
  | { a: 'random-iq'; u: number; type: string; ns: string; name: string; nick: string | undefined }
  | { a: 'error-stanza'; u: number; name: 'message' | 'presence' | 'iq' }
  | { a: 'session-ended'; u: number }
  | { a: 'gateway-down'; g: number };

export const genAction: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ a: fc.constant('join' as const), u: user, nick, password: fc.option(fc.constantFrom('secret', 'wrong', ''), { nil: undefined }), history: fc.option(fc.constantFrom("maxstanzas='0'", "maxchars='10'", "seconds='5'", "maxstanzas='-1'", "since='garbage'"), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('leave' as const), u: user, nick }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('presence' as const), u: user, nick, show: fc.constantFrom('away', 'dnd', 'chat', 'xa', 'bogus') }) },
  { weight: 4, arbitrary: fc.record({ a: fc.constant('groupchat' as const), u: user, body: text }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('pm' as const), u: user, nick, body: text }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('subject' as const), u: user, subject: text }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('role' as const), u: user, nick, role }) },
  { weight: 3, arbitrary: fc.record({ a: fc.constant('affiliation' as const), u: user, jid: targetJid, affiliation, nick: fc.option(nick, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('list' as const), u: user, key: fc.constantFrom('role' as const, 'affiliation' as const), value: fc.oneof(role, affiliation) }) },
  { weight: 2, arbitrary: fc.record({ a: fc.constant('config' as const), u: user, fields: fc.array(fc.tuple(fc.constantFrom(...CONFIG_FIELDS), configValue), { maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('config-get' as const), u: user }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('disco' as const), u: user, items: fc.boolean(), nick: fc.option(nick, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('invite' as const), u: user, jid: targetJid }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('random-iq' as const), u: user, type: fc.constantFrom('get', 'set', 'result'), ns: fc.constantFrom('urn:x:unknown', NS.MUC_ADMIN, NS.MUC_OWNER, NS.REGISTER, NS.PING, '__proto__'), name: fc.constantFrom('query', 'ping', '__proto__'), nick: fc.option(nick, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('error-stanza' as const), u: user, name: fc.constantFrom('message' as const, 'presence' as const, 'iq' as const) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('session-ended' as const), u: user }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('gateway-down' as const), g: fc.nat({ max: GATEWAYS.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ a: fc.constant('destroy' as const), u: user }) },
);

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

/** Text that parses as XML: control characters other than tab/LF/CR replaced. */
function xmlSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return esc(s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '?'));
}

const sessionOf = (u: number) => `s${u}`;
const gatewayOf = (u: number) => GATEWAYS[u % GATEWAYS.length]!;

function stanza(u: number, xml: string): RoomInput {
  const el = parseElement(xml, { defaultNs: NS.CLIENT, maxBytes: 1 << 20 });
  el.attrs.from = USERS[u]!;
  return { kind: 'stanza', stanza: el, origin: { gatewayId: gatewayOf(u), sessionId: sessionOf(u) } };
}

function adminIq(u: number, id: string, type: string, item: string): RoomInput {
  return stanza(u, `<iq type='${type}' id='${id}' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'>${item}</query></iq>`);
}

/** The room input for `action`; `id` makes iq ids unique. */
export function toInput(action: Action, id: string): RoomInput {
  const occ = (n: string) => `${ROOM}/${xmlSafe(n)}`;
  switch (action.a) {
    case 'join': {
      const pw = action.password === undefined ? '' : `<password>${xmlSafe(action.password)}</password>`;
      const hist = action.history === undefined ? '' : `<history ${action.history}/>`;
      return stanza(action.u, `<presence to='${occ(action.nick)}'><x xmlns='${NS.MUC}'>${pw}${hist}</x></presence>`);
    }
    case 'leave':
      return stanza(action.u, `<presence type='unavailable' to='${occ(action.nick)}'/>`);
    case 'presence':
      return stanza(action.u, `<presence to='${occ(action.nick)}'><show>${action.show}</show></presence>`);
    case 'groupchat':
      return stanza(action.u, `<message type='groupchat' id='${id}' to='${ROOM}'><body>${xmlSafe(action.body)}</body></message>`);
    case 'pm':
      return stanza(action.u, `<message type='chat' id='${id}' to='${occ(action.nick)}'><body>${xmlSafe(action.body)}</body></message>`);
    case 'subject':
      return stanza(action.u, `<message type='groupchat' id='${id}' to='${ROOM}'><subject>${xmlSafe(action.subject)}</subject></message>`);
    case 'role':
      return adminIq(action.u, id, 'set', `<item nick='${xmlSafe(action.nick)}' role='${xmlSafe(action.role)}'><reason>fuzz</reason></item>`);
    case 'affiliation': {
      const n = action.nick === undefined ? '' : ` nick='${xmlSafe(action.nick)}'`;
      return adminIq(action.u, id, 'set', `<item jid='${xmlSafe(action.jid)}' affiliation='${xmlSafe(action.affiliation)}'${n}/>`);
    }
    case 'list':
      return adminIq(action.u, id, 'get', `<item ${action.key}='${xmlSafe(action.value)}'/>`);
    case 'config': {
      const fields = action.fields.map(([k, v]) => `<field var='${xmlSafe(k)}'><value>${xmlSafe(v)}</value></field>`).join('');
      return stanza(
        action.u,
        `<iq type='set' id='${id}' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'>` +
          `<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>${fields}</x></query></iq>`,
      );
    }
    case 'config-get':
      return stanza(action.u, `<iq type='get' id='${id}' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'/></iq>`);
    case 'disco': {
      const to = action.nick === undefined ? ROOM : occ(action.nick);
      return stanza(action.u, `<iq type='get' id='${id}' to='${to}'><query xmlns='${action.items ? NS.DISCO_ITEMS : NS.DISCO_INFO}'/></iq>`);
    }
    case 'invite':
      return stanza(action.u, `<message id='${id}' to='${ROOM}'><x xmlns='${NS.MUC_USER}'><invite to='${xmlSafe(action.jid)}'><reason>hi</reason></invite></x></message>`);
    case 'random-iq': {
      const to = action.nick === undefined ? ROOM : occ(action.nick);
      return stanza(action.u, `<iq type='${action.type}' id='${id}' to='${to}'><${action.name} xmlns='${xmlSafe(action.ns)}'/></iq>`);
    }
    case 'error-stanza':
      return stanza(action.u, `<${action.name} type='error' id='${id}' to='${ROOM}'><error type='cancel'><item-not-found xmlns='${NS.STANZAS}'/></error></${action.name}>`);
    case 'destroy':
      return stanza(action.u, `<iq type='set' id='${id}' to='${ROOM}'><query xmlns='${NS.MUC_OWNER}'><destroy><reason>fuzz</reason></destroy></query></iq>`);
    case 'session-ended':
      return { kind: 'session-ended', fullJid: USERS[action.u]!, sessionId: sessionOf(action.u) };
    case 'gateway-down':
      return { kind: 'gateway-down', gatewayId: GATEWAYS[action.g]! };
  }
}

/** Own property names and values of Object.prototype, to detect pollution. */
function prototypeSnapshot(): string {
  return Object.getOwnPropertyNames(Object.prototype)
    .sort()
    .map((k) => `${k}:${typeof (Object.prototype as Record<string, unknown>)[k]}`)
    .join(',');
}

/** The room as JSON text, as the worker stores it. */
function json(room: RoomState): string {
  return JSON.stringify(roomToJson(room));
}

/** Asserts the state invariants listed at the top of this file. */
export function assertValidRoom(room: RoomState, hadOwner: boolean): void {
  assert.ok(room.occupants instanceof Map, 'occupants is a Map');
  assert.ok(room.affiliations instanceof Map, 'affiliations is a Map');
  for (const [key, o] of room.occupants) {
    assert.ok(o.sessions.length >= 1, `occupant ${JSON.stringify(key)} has no session`);
    assert.notEqual(o.role, 'none', `occupant ${JSON.stringify(key)} has role none`);
    assert.ok(['moderator', 'participant', 'visitor'].includes(o.role), `occupant ${JSON.stringify(key)} has role ${String(o.role)}`);
    assert.equal(key, nicknameKey(o.nick), `occupant keyed ${JSON.stringify(key)} for nick ${JSON.stringify(o.nick)}`);
    const jids = o.sessions.map((s) => s.fullJid);
    assert.equal(new Set(jids).size, jids.length, 'a session listed twice');
  }
  for (const [jid, a] of room.affiliations) {
    assert.ok(['owner', 'admin', 'member', 'outcast'].includes(a.affiliation), `affiliation of ${JSON.stringify(jid)} is ${String(a.affiliation)}`);
  }
  if (hadOwner) assert.ok([...room.affiliations.values()].some((a) => a.affiliation === 'owner'), 'the room lost its last owner');
  assert.ok(room.history.length <= Math.max(0, room.config.historyLength), `history ${room.history.length} > ${room.config.historyLength}`);
  const text = json(room);
  assert.equal(json(roomFromJson(JSON.parse(text))), text, 'the state changes through its JSON round trip');
}

/** Checks that `input` was answered (see the invariants above). */
function assertAnswered(input: RoomInput, result: ReturnType<typeof step>): void {
  if (input.kind !== 'stanza') return;
  const s: Element = input.stanza;
  const type = s.attrs.type as string | undefined;
  if (type === 'error') {
    // Never answered with an error (RFC 6120 §8.3.1); that is all.
    assert.ok(!result.out.some((o) => o.to === s.attrs.from && o.stanza.attrs.type === 'error' && o.stanza.attrs.id === s.attrs.id), 'an error answered with an error');
    return;
  }
  // Unavailable presence is a notification, not a request: from a non-occupant it is
  // ignored (XEP-0045 §7.14 applies to occupants only), silently.
  if (s.name === 'presence' && type === 'unavailable') return;
  // An iq result is a response, not a request. (Types other than get/set/result/error never
  // reach a room: the gateway answers them with bad-request, RFC 6120 §8.2.3.)
  if (s.name === 'iq' && type === 'result') return;
  const logged = result.effects.some((e) => e.kind === 'log');
  if (s.name === 'iq') {
    const reply = result.out.find((o) => o.to === s.attrs.from && o.stanza.name === 'iq' && o.stanza.attrs.id === s.attrs.id);
    // Dropped with a log only when unroutable (e.g. a `to` that is no JID, which a gateway never forwards).
    assert.ok(reply !== undefined || logged, `iq ${s.toString().slice(0, 300)} neither answered nor logged`);
    if (reply !== undefined) assert.ok(['result', 'error'].includes(reply.stanza.attrs.type as string), `iq answered with type ${String(reply.stanza.attrs.type)}`);
    return;
  }
  assert.ok(result.out.length > 0 || logged, `${s.toString().slice(0, 300)} neither answered nor logged`);
}

/** Runs `actions` against a new room, checking every invariant after every step. */
export function runActions(actions: readonly Action[]): void {
  const proto = prototypeSnapshot();
  let room: RoomState | undefined;
  let hadOwner = false;
  actions.forEach((action, i) => {
    const input = toInput(action, `i${i}`);
    const before = room === undefined ? undefined : json(room);
    const result = step(room, ROOM, input, { ...CTX, now: CTX.now + i * 1000 });
    assert.equal(prototypeSnapshot(), proto, `Object.prototype changed by ${JSON.stringify(action)}`);
    assert.equal(({} as Record<string, unknown>).role, undefined, 'Object.prototype.role set');
    assertAnswered(input, result);
    const kinds = new Set(result.effects.map((e) => e.kind));
    if (result.room !== undefined) {
      if (before !== undefined && !kinds.has('persist') && !kinds.has('destroyed')) {
        const after = json(result.room);
        const withoutHistory = (t: string) => JSON.stringify({ ...(JSON.parse(t) as object), history: [] });
        assert.equal(withoutHistory(after), withoutHistory(before), `the room changed without a persist effect: ${JSON.stringify(action)}`);
        if (!kinds.has('history-append')) assert.equal(after, before, 'the history changed without a history-append effect');
      }
      hadOwner ||= [...result.room.affiliations.values()].some((a) => a.affiliation === 'owner');
      assertValidRoom(result.room, hadOwner);
      room = roomFromJson(JSON.parse(json(result.room)));
    } else {
      room = undefined;
      hadOwner = false;
    }
  });
}

export function stepProperties(): FuzzProperty[] {
  return [
    {
      name: 'random room histories: step never throws, answers every request, keeps the state valid and Object.prototype clean',
      property: fc.property(fc.array(genAction, { minLength: 1, maxLength: 40 }), (actions) => runActions(actions)),
    },
    {
      name: 'hostile nicks through a created room: joins, nick changes, roles and private messages stay valid',
      property: fc.property(
        fc.array(
          fc.oneof(
            fc.record({ a: fc.constant('join' as const), u: user, nick: fc.constantFrom(...HOSTILE_NICKS), password: fc.constant(undefined), history: fc.constant(undefined) }),
            fc.record({ a: fc.constant('role' as const), u: fc.constant(0), nick: fc.constantFrom(...HOSTILE_NICKS), role }),
            fc.record({ a: fc.constant('pm' as const), u: user, nick: fc.constantFrom(...HOSTILE_NICKS), body: fc.constant('hi') }),
            fc.record({ a: fc.constant('leave' as const), u: user, nick: fc.constantFrom(...HOSTILE_NICKS) }),
            fc.record({ a: fc.constant('affiliation' as const), u: fc.constant(0), jid: fc.constantFrom(...TARGET_JIDS), affiliation, nick: fc.option(fc.constantFrom(...HOSTILE_NICKS), { nil: undefined }) }),
          ),
          { maxLength: 30 },
        ),
        (actions) => {
          // The owner creates an instant room first, so that the rest reaches an unlocked room.
          const create: Action[] = [
            { a: 'join', u: 0, nick: 'owner', password: undefined, history: undefined },
            { a: 'config', u: 0, fields: [] },
          ];
          runActions([...create, ...actions]);
        },
      ),
    },
  ];
}
