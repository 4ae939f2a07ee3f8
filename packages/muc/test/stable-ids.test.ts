import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from 'ltx';
import { NS } from '@parley/xml';
import { step, type RoomContext } from '@parley/muc';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, fromJson, makeCtx, to, toJson, xml } from './harness.js';

const SID = 'urn:xmpp:sid:0';
const OID = 'urn:xmpp:occupant-id:0';

function stanzaIds(el: Element): Element[] {
  return el.getChildren('stanza-id', SID);
}

function occupantIds(el: Element): string[] {
  return el.getChildren('occupant-id', OID).map((c) => String(c.attrs.id));
}

/** The one occupant id of a stanza (fails when there is none or more than one). */
function occupantId(el: Element | undefined): string {
  assert.ok(el !== undefined);
  const ids = occupantIds(el);
  assert.equal(ids.length, 1, `one occupant-id in ${el.toString()}`);
  return ids[0]!;
}

function room(): Sim {
  const sim = new Sim();
  sim.create(ROMEO, 'Romeo');
  sim.join(JULIET, 'Juliet');
  return sim;
}

describe('XEP-0359 stanza ids on groupchat messages', () => {
  it('gives every reflected message one stanza-id by the room, the same for every recipient, new for each message', () => {
    const sim = room();
    const out = sim.send(ROMEO, `<message type='groupchat' to='${ROOM}' id='m1'><body>one</body></message>`);
    const copies = [...to(out, ROMEO), ...to(out, JULIET)];
    assert.equal(copies.length, 2);
    const ids = copies.map((m) => {
      const sids = stanzaIds(m);
      assert.equal(sids.length, 1);
      assert.equal(sids[0]!.attrs.by, ROOM);
      return String(sids[0]!.attrs.id);
    });
    assert.equal(ids[0], ids[1]);
    assert.match(ids[0]!, /^id-\d+$/, 'the id comes from RoomContext.newId');
    const next = sim.send(ROMEO, `<message type='groupchat' to='${ROOM}' id='m2'><body>two</body></message>`);
    assert.equal(stanzaIds(to(next, JULIET)[0]!)[0]!.attrs.id, `id-${Number(ids[0]!.slice(3)) + 1}`);
  });

  it('keeps the id in the history sent at join', () => {
    const sim = room();
    const out = sim.send(JULIET, `<message type='groupchat' to='${ROOM}'><body>remember me</body></message>`);
    const id = stanzaIds(to(out, ROMEO)[0]!)[0]!.attrs.id;
    const join = to(sim.join(ROSALINE, 'Rosaline'), ROSALINE);
    const history = join.filter((s) => s.name === 'message' && s.getChild('body') !== undefined);
    assert.equal(history.length, 1);
    assert.deepEqual(stanzaIds(history[0]!).map((s) => ({ ...s.attrs })), [{ xmlns: SID, id, by: ROOM }]);
    assert.ok(history[0]!.getChild('delay', NS.DELAY), 'a history copy');
  });

  it('strips a client stanza-id claiming to be the room (§5), keeps others and the origin-id', () => {
    const sim = room();
    const out = sim.send(
      ROMEO,
      `<message type='groupchat' to='${ROOM}'><body>x</body>` +
        `<stanza-id xmlns='${SID}' id='forged' by='${ROOM}'/>` +
        `<stanza-id xmlns='${SID}' id='forged2' by='Room@Conference.Localhost'/>` +
        `<stanza-id xmlns='${SID}' id='theirs' by='user@localhost'/>` +
        `<origin-id xmlns='${SID}' id='origin-1'/></message>`,
    );
    const m = to(out, JULIET)[0]!;
    const byRoom = stanzaIds(m).filter((s) => s.attrs.by === ROOM);
    assert.equal(byRoom.length, 1);
    assert.notEqual(byRoom[0]!.attrs.id, 'forged');
    assert.ok(stanzaIds(m).every((s) => s.attrs.id !== 'forged2'));
    assert.ok(stanzaIds(m).some((s) => s.attrs.id === 'theirs' && s.attrs.by === 'user@localhost'));
    assert.equal(m.getChild('origin-id', SID)?.attrs.id, 'origin-1');
  });

  it('stamps subject changes too', () => {
    const sim = room();
    const out = sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><subject>news</subject></message>`);
    assert.equal(stanzaIds(to(out, JULIET)[0]!).length, 1);
  });

  it('gives unique ids without RoomContext.newId (tests only), and advertises both features in disco#info', () => {
    const sim = room();
    const { newId: _unused, ...bare } = sim.ctx;
    sim.ctx = bare as RoomContext;
    const a = to(sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><body>a</body></message>`), JULIET)[0]!;
    const b = to(sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><body>b</body></message>`), JULIET)[0]!;
    assert.notEqual(stanzaIds(a)[0]!.attrs.id, stanzaIds(b)[0]!.attrs.id);
    const info = to(sim.send(JULIET, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`), JULIET)[0]!;
    const vars = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(vars.includes(SID));
    assert.ok(vars.includes(OID));
  });
});

describe('XEP-0421 occupant ids', () => {
  it('puts the same id on every presence of an occupant, for every recipient, and a different one per user', () => {
    const sim = new Sim();
    sim.create(ROMEO, 'Romeo');
    const out = sim.join(JULIET, 'Juliet');
    const [romeoSeen, julietSelf] = to(out, JULIET);
    const julietSeen = to(out, ROMEO)[0];
    assert.equal(romeoSeen?.attrs.from, `${ROOM}/Romeo`);
    assert.equal(occupantId(julietSelf), occupantId(julietSeen));
    assert.notEqual(occupantId(romeoSeen), occupantId(julietSelf));
    assert.equal(occupantId(julietSelf), sim.room?.occupants.get('juliet')?.occupantId);
    assert.ok(occupantId(julietSelf).length <= 128, '§5: at most 128 characters');
    assert.ok(!occupantId(julietSelf).includes('user2'), 'does not show the real JID');
  });

  it('is stable across leaving, rejoining from another resource and nick changes, and differs between rooms', () => {
    const sim = room();
    const first = occupantId(to(sim.join(ROSALINE, 'Rosaline'), ROSALINE).find((s) => s.attrs.from === `${ROOM}/Rosaline`));
    const leave = sim.send(ROSALINE, `<presence type='unavailable' to='${ROOM}/Rosaline'/>`);
    assert.equal(occupantId(to(leave, ROMEO)[0]), first, 'on unavailable presence too');
    const other = 'user3@localhost/other';
    const again = to(sim.join(other, 'Rosie'), other).find((s) => s.attrs.from === `${ROOM}/Rosie`);
    assert.equal(occupantId(again), first);
    const renamed = sim.send(other, `<presence to='${ROOM}/Ros'/>`);
    assert.deepEqual(to(renamed, ROMEO).map(occupantId), [first, first]);
    const elsewhere = new Sim('other@conference.localhost');
    let n = 0;
    elsewhere.ctx = { ...makeCtx(), newId: () => `elsewhere-${++n}` }; // another room, another random key
    const there = to(elsewhere.join(ROSALINE, 'Rosaline'), ROSALINE)[0];
    assert.notEqual(occupantId(there), first, 'another room, another id');
  });

  it('adds the sender id to groupchat and private messages, replacing what the client sent', () => {
    const sim = room();
    const romeoId = sim.room!.occupants.get('romeo')!.occupantId!;
    const forged = `<occupant-id xmlns='${OID}' id='fake'/>`;
    const gc = sim.send(ROMEO, `<message type='groupchat' to='${ROOM}'><body>hi</body>${forged}</message>`);
    assert.deepEqual(occupantIds(to(gc, JULIET)[0]!), [romeoId]);
    const pm = sim.send(ROMEO, `<message type='chat' to='${ROOM}/Juliet'><body>psst</body>${forged}</message>`);
    assert.deepEqual(occupantIds(to(pm, JULIET)[0]!), [romeoId]);
    const pres = sim.send(ROMEO, `<presence to='${ROOM}/Romeo'><show>away</show>${forged}</presence>`);
    assert.deepEqual(occupantIds(to(pres, JULIET)[0]!), [romeoId]);
    assert.deepEqual(occupantIds(to(pres, ROMEO)[0]!), [romeoId]);
  });

  it('does not reflect hats a client put in its presence (XEP-0317: the room assigns them)', () => {
    const sim = room();
    const out = sim.send(
      JULIET,
      `<presence to='${ROOM}/Juliet'><show>dnd</show><hats xmlns='urn:xmpp:hats:0'><hat uri='urn:x:king' title='King'/></hats>` +
        `<hats xmlns='xmpp:prosody.im/protocol/hats:1'><hat uri='urn:x:king' title='King'/></hats></presence>`,
    );
    const seen = to(out, ROMEO)[0]!;
    assert.equal(seen.getChildText('show'), 'dnd');
    assert.equal(seen.getChildren('hats').length, 0);
  });

  it('keeps the room key secret and persisted: same ids after a reload, none in the snapshot', () => {
    const sim = room();
    const key = sim.room!.occupantIdKey;
    assert.ok(key !== undefined && key.length >= 8);
    const reloaded = fromJson(toJson(sim.room!));
    assert.equal(reloaded.occupantIdKey, key);
    sim.command({ op: 'get' });
    assert.ok(!JSON.stringify(sim.result).includes(key));
  });

  it('gives a room stored without a key one on its next turn (persisted), and its occupants their ids', () => {
    const sim = room();
    const json = JSON.parse(toJson(sim.room!)) as Record<string, unknown> & { occupants: Record<string, Record<string, unknown>> };
    delete json.occupantIdKey;
    for (const o of Object.values(json.occupants)) delete o.occupantId;
    const legacy = fromJson(JSON.stringify(json));
    assert.equal(legacy.occupantIdKey, undefined);
    const stanza = xml(`<message type='groupchat' from='${ROMEO}' to='${ROOM}'><body>after upgrade</body></message>`);
    const r = step(legacy, ROOM, { kind: 'stanza', stanza, origin: { gatewayId: 'gw1', sessionId: `s:${ROMEO}` } }, makeCtx());
    assert.ok(r.effects.some((e) => e.kind === 'persist'), 'the new key is persisted');
    const key = r.room?.occupantIdKey;
    assert.ok(key !== undefined);
    const romeoId = r.room!.occupants.get('romeo')!.occupantId;
    assert.ok(romeoId !== undefined);
    const toJuliet = r.out.filter((o) => o.to === JULIET).map((o) => o.stanza);
    assert.deepEqual(occupantIds(toJuliet[0]!), [romeoId]);
  });
});
