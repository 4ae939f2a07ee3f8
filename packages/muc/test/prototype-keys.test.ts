// Nicks and JIDs are user input: none may reach an object's prototype (issue #10), and nicks
// compare per RFC 8266 (enforced form shown, case-mapped form compared).
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { roomFromJson } from '@parley/muc';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, fromJson, to, toJson, userX, xShape } from './harness.js';

const PROTO_NICKS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

/** Object.prototype has exactly its own built-in members, and a fresh object has no `role`. */
function assertPrototypeClean(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_NAMES);
  const probe: Record<string, unknown> = {};
  assert.equal(probe.role, undefined);
  assert.equal(probe.sessions, undefined);
  assert.equal(probe.affiliation, undefined);
  assert.equal(Object.getPrototypeOf(probe), Object.prototype);
}

const admin = (items: string) => `<iq type='set' id='a' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'>${items}</query></iq>`;

describe('nicks and JIDs named like Object.prototype members', () => {
  afterEach(assertPrototypeClean);

  for (const nick of PROTO_NICKS) {
    it(`${nick}: joins, gets and sends private messages, changes role and nick, leaves`, () => {
      const sim = new Sim();
      sim.create(ROMEO, 'Romeo');
      const joined = sim.join(JULIET, nick);
      const self = to(joined, JULIET).at(-2);
      assert.equal(self?.attrs.from, `${ROOM}/${nick}`, 'self-presence from the occupant JID');
      assert.match(xShape(self), /status\(code=110\)$/);
      assert.equal(sim.room?.occupants.get(nick.toLowerCase())?.nick, nick);
      assert.equal(sim.room?.occupants.size, 2);

      // A private message to the nick, and from it.
      const pm = sim.send(ROMEO, `<message type='chat' id='p1' to='${ROOM}/${nick}'><body>hi</body></message>`);
      assert.deepEqual(pm.map((o) => [o.to, o.stanza.attrs.from, o.stanza.attrs.type]), [[JULIET, `${ROOM}/Romeo`, 'chat']]);
      const back = sim.send(JULIET, `<message type='chat' id='p2' to='${ROOM}/Romeo'><body>yo</body></message>`);
      assert.deepEqual(back.map((o) => [o.to, o.stanza.attrs.from]), [[ROMEO, `${ROOM}/${nick}`]]);

      // The owner gives it voice changes: visitor, then participant again.
      const role = sim.send(ROMEO, admin(`<item nick='${nick}' role='visitor'/>`));
      assert.equal(to(role, ROMEO).at(-1)?.attrs.type, 'result');
      assert.equal(sim.room?.occupants.get(nick.toLowerCase())?.role, 'visitor');

      // A second user cannot take it, in any case.
      const taken = sim.join(ROSALINE, nick.toUpperCase());
      assert.equal(errorCondition(taken[0]?.stanza), 'conflict');

      // Nick change away and back.
      const away = sim.send(JULIET, `<presence to='${ROOM}/Other'/>`);
      assert.equal(userX(to(away, JULIET)[0])?.getChild('item')?.attrs.nick, 'Other');
      assert.equal(sim.room?.occupants.get(nick.toLowerCase()), undefined);
      sim.send(JULIET, `<presence to='${ROOM}/${nick}'/>`);
      assert.equal(sim.room?.occupants.get(nick.toLowerCase())?.nick, nick);

      // Kick by the owner: gone, the room keeps working.
      const kick = sim.send(ROMEO, admin(`<item nick='${nick}' role='none'/>`));
      assert.equal(to(kick, ROMEO).at(-1)?.attrs.type, 'result');
      assert.equal(sim.room?.occupants.size, 1);
      const hello = sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><body>still here</body></message>`);
      assert.deepEqual(hello.map((o) => o.to), [ROMEO]);
    });

    it(`${nick}: an absent occupant is item-not-found for role changes, private messages and commands`, () => {
      const sim = new Sim();
      sim.create(ROMEO, 'Romeo');
      const before = toJson(sim.room!);
      for (const role of ['none', 'visitor', 'participant', 'moderator']) {
        assert.equal(errorCondition(sim.send(ROMEO, admin(`<item nick='${nick}' role='${role}'/>`))[0]?.stanza), 'item-not-found', role);
      }
      assert.equal(errorCondition(sim.send(ROMEO, `<message type='chat' to='${ROOM}/${nick}'><body>x</body></message>`)[0]?.stanza), 'item-not-found');
      for (const command of [{ op: 'kick', nick }, { op: 'set-role', nick, role: 'visitor' }, { op: 'send-message', nick, body: 'x' }]) {
        sim.command(command);
        assert.deepEqual(sim.result.ok ? 'ok' : sim.result.error, 'item-not-found', command.op);
      }
      assert.equal(toJson(sim.room!), before, 'nothing changed');
    });
  }

  it('affiliations, registration and reserved nicks with such names', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo', `<field var='{urn:parley:muc}roomconfig_allowregister'><value>1</value></field>`);
    // A member whose reserved nick is __proto__, and an outcast named like a prototype member.
    const set = sim.send(ROMEO, admin(`<item affiliation='member' jid='user2@localhost' nick='__proto__'/>`));
    assert.equal(to(set, ROMEO).at(-1)?.attrs.type, 'result');
    assert.equal(sim.room?.affiliations.get('user2@localhost')?.nick, '__proto__');
    assert.equal(errorCondition(sim.join(ROSALINE, '__PROTO__')[0]?.stanza), 'conflict', 'reserved nick, any case (§7.12)');
    sim.command({ op: 'set-affiliations', items: [{ jid: 'constructor@localhost', affiliation: 'outcast' }] });
    assert.ok(sim.result.ok);
    assert.equal(sim.room?.affiliations.get('constructor@localhost')?.affiliation, 'outcast');
    const list = sim.send(ROMEO, `<iq type='get' id='l' to='${ROOM}'><query xmlns='${NS.MUC_ADMIN}'><item affiliation='outcast'/></query></iq>`);
    assert.deepEqual(to(list, ROMEO)[0]?.getChild('query')?.getChildren('item').map((i) => i.attrs.jid), ['constructor@localhost']);
    // Registering the nick toString.
    const reg = sim.send(
      ROSALINE,
      `<iq type='set' id='r' to='${ROOM}'><query xmlns='${NS.REGISTER}'><x xmlns='jabber:x:data' type='submit'>` +
        `<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#register</value></field>` +
        `<field var='muc#register_roomnick'><value>toString</value></field></x></query></iq>`,
    );
    assert.equal(to(reg, ROSALINE)[0]?.attrs.type, 'result');
    assert.equal(sim.room?.affiliations.get('user3@localhost')?.nick, 'toString');
  });

  it('a room holding such occupants and affiliations survives a JSON round trip', () => {
    const sim = new Sim();
    sim.create(ROMEO, '__proto__');
    sim.join(JULIET, 'constructor');
    sim.join(ROSALINE, 'toString');
    sim.command({ op: 'set-affiliations', items: [{ jid: 'user2@localhost', affiliation: 'member', nick: 'hasOwnProperty' }] });
    const json = toJson(sim.room!);
    assert.deepEqual(Object.keys(JSON.parse(json).occupants), ['__proto__', 'constructor', 'toString']);
    const back = fromJson(json);
    assert.deepEqual([...back.occupants.keys()], ['__proto__', 'constructor', 'tostring']);
    assert.deepEqual(back, sim.room);
    // The same from JSON that a plain JSON.parse turned into own `__proto__` properties.
    const raw: unknown = JSON.parse(json);
    assert.equal(Object.hasOwn((raw as { occupants: object }).occupants, '__proto__'), true);
    assert.deepEqual(roomFromJson(raw), sim.room);
  });
});

describe('RFC 8266 nicks', () => {
  it('Alice, alice and fullwidth ａｌｉｃｅ are one nick: the second user gets conflict (§7.2.9)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Alice');
    for (const other of ['alice', 'ALICE', 'ａｌｉｃｅ', 'Ａｌｉｃｅ', ' Alice ']) {
      const out = sim.join(ROSALINE, other);
      assert.equal(errorCondition(out[0]?.stanza), 'conflict', other);
    }
    assert.equal(sim.room?.occupants.size, 2);
  });

  it('the enforced nick is shown, with status 210 when it differs from the requested one', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const out = sim.join(JULIET, 'Ｊｕｌｉｅｔ');
    const self = to(out, JULIET).find((s) => s.name === 'presence' && userX(s)?.getChildren('status').some((c) => c.attrs.code === '110'));
    assert.equal(self?.attrs.from, `${ROOM}/Juliet`);
    assert.deepEqual(userX(self)?.getChildren('status').map((s) => s.attrs.code), ['210', '110']);
    // Others see the enforced nick.
    assert.equal(to(out, ROMEO)[0]?.attrs.from, `${ROOM}/Juliet`);
    // No 210 when the nick was already in its enforced form.
    const plain = sim.join(ROSALINE, 'Rosaline');
    const plainSelf = to(plain, ROSALINE).find((s) => s.name === 'presence' && s.attrs.from === `${ROOM}/Rosaline`);
    assert.deepEqual(userX(plainSelf)?.getChildren('status').map((s) => s.attrs.code), ['110']);
  });

  it('private messages and role changes find the occupant by any equivalent nick', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    const pm = sim.send(ROMEO, `<message type='chat' to='${ROOM}/ｊｕｌｉｅｔ'><body>x</body></message>`);
    assert.deepEqual(pm.map((o) => o.to), [JULIET]);
    sim.send(ROMEO, admin(`<item nick='JULIET' role='visitor'/>`));
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'visitor');
    sim.command({ op: 'kick', nick: 'jUlIeT' });
    assert.ok(sim.result.ok);
    assert.equal(sim.room?.occupants.get('juliet'), undefined);
  });

  it('a nick that fails enforcement gets jid-malformed (§7.2.1), on join and on nick change', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    // Valid resourceparts (RFC 7622) that fail RFC 8266: spaces only; over 1023 octets after NFKC.
    for (const bad of ['   ', '\u3000', '\uFDFA'.repeat(40)]) {
      const out = sim.join(JULIET, bad);
      assert.equal(errorCondition(out[0]?.stanza), 'jid-malformed', JSON.stringify(bad));
      assert.equal(out[0]?.stanza.getChild('error')?.attrs.type, 'modify');
    }
    assert.equal(sim.room?.occupants.size, 1);
    assert.equal(errorCondition(sim.send(ROMEO, `<presence to='${ROOM}/  '/>`)[0]?.stanza), 'jid-malformed');
    assert.equal(sim.room?.occupants.get('romeo')?.nick, 'Romeo');
  });

  it('nick change: an equivalent nick of another occupant conflicts; one\'s own nick may change case', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.join(JULIET, 'Juliet');
    assert.equal(errorCondition(sim.send(JULIET, `<presence to='${ROOM}/ROMEO'/>`)[0]?.stanza), 'conflict');
    const out = sim.send(JULIET, `<presence to='${ROOM}/JULIET'/>`);
    assert.equal(userX(to(out, JULIET)[0])?.getChild('item')?.attrs.nick, 'JULIET');
    assert.equal(sim.room?.occupants.get('juliet')?.nick, 'JULIET');
    // Presence to a form that enforces to the current nick is a presence update, not a change.
    const update = sim.send(JULIET, `<presence to='${ROOM}/ＪＵＬＩＥＴ'><show>away</show></presence>`);
    assert.ok(update.every((o) => o.stanza.attrs.type !== 'unavailable'));
    assert.equal(sim.room?.occupants.get('juliet')?.nick, 'JULIET');
  });

  it('registered nicks are enforced and reserved in every equivalent form (§7.12)', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    sim.command({ op: 'set-affiliations', items: [{ jid: 'user2@localhost', affiliation: 'member', nick: ' Ｊｕｌｅｓ ' }] });
    assert.ok(sim.result.ok);
    assert.equal(sim.room?.affiliations.get('user2@localhost')?.nick, 'Jules');
    assert.equal(errorCondition(sim.join(ROSALINE, 'jules')[0]?.stanza), 'conflict');
    assert.notEqual(errorCondition(sim.join(JULIET, 'JULES')[0]?.stanza), 'conflict');
  });
});
