import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { forwardedId, readForwardedId } from '../src/features/iq-forward.js';
import { JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, makeCtx, to } from './harness.js';

const KEY = 'test-forward-key';
const PHONE = 'user2@localhost/phone';

function room(): Sim {
  const sim = new Sim();
  sim.ctx = { ...makeCtx(), forwardKey: KEY };
  sim.create(ROMEO, 'Romeo');
  sim.join(JULIET, 'Juliet');
  return sim;
}

/** Romeo asks Juliet's occupant JID for her version; returns the forwarded request. */
function forward(sim: Sim, id = 'v1'): { id: string; out: ReturnType<Sim['send']> } {
  const out = sim.send(ROMEO, `<iq type='get' id='${id}' to='${ROOM}/Juliet' xml:lang='en'><query xmlns='jabber:iq:version'/></iq>`);
  return { id: String(to(out, JULIET)[0]?.attrs.id), out };
}

describe('IQs to occupant JIDs (XEP-0045 §17.4 rule 3)', () => {
  it('forwards a request to the occupant from the requester occupant JID with an opaque id', () => {
    const sim = room();
    const { id, out } = forward(sim);
    assert.equal(out.length, 1);
    const iq = to(out, JULIET)[0]!;
    assert.equal(iq.attrs.from, `${ROOM}/Romeo`);
    assert.equal(iq.attrs.type, 'get');
    assert.equal(iq.attrs['xml:lang'], 'en');
    assert.equal(iq.getChild('query', 'jabber:iq:version') !== undefined, true);
    assert.notEqual(id, 'v1');
    assert.ok(!id.includes('user@localhost') && !Buffer.from(id.split('.')[1] ?? '', 'base64url').toString().includes('user@'), 'no real JID in the id');
    assert.deepEqual(out[0]?.route, { gatewayId: 'gw1', sessionId: `s:${JULIET}` });
    assert.ok(!sim.effects.some((e) => e.kind === 'persist'), 'nothing remembered');
  });

  it('relays the answer to the requesting session with the original id, from the target occupant JID', () => {
    const sim = room();
    const { id } = forward(sim);
    const out = sim.send(JULIET, `<iq type='result' id='${id}' to='${ROOM}/Romeo'><query xmlns='jabber:iq:version'><name>x</name></query></iq>`);
    assert.equal(out.length, 1);
    const iq = to(out, ROMEO)[0]!;
    assert.equal(iq.attrs.id, 'v1');
    assert.equal(iq.attrs.type, 'result');
    assert.equal(iq.attrs.from, `${ROOM}/Juliet`);
    assert.equal(iq.getChild('query')?.getChildText('name'), 'x');
  });

  it('relays errors the same way', () => {
    const sim = room();
    const { id } = forward(sim);
    const out = sim.send(JULIET, `<iq type='error' id='${id}' to='${ROOM}/Romeo'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
    assert.equal(errorCondition(to(out, ROMEO)[0]), 'service-unavailable');
    assert.equal(to(out, ROMEO)[0]?.attrs.id, 'v1');
  });

  it('drops answers with forged ids, from other JIDs, for other nicks, or expired', () => {
    const sim = room();
    sim.join(ROSALINE, 'Rosaline');
    const { id } = forward(sim);
    assert.deepEqual(sim.send(JULIET, `<iq type='result' id='forged' to='${ROOM}/Romeo'/>`), []);
    assert.deepEqual(sim.send(ROSALINE, `<iq type='result' id='${id}' to='${ROOM}/Romeo'/>`), [], 'only the real JID the request went to');
    assert.deepEqual(sim.send(JULIET, `<iq type='result' id='${id}' to='${ROOM}/Rosaline'/>`), [], 'only to the requester');
    const tampered = id.replace(/^[^.]+/, (ts) => (parseInt(ts, 36) + 1).toString(36));
    assert.deepEqual(sim.send(JULIET, `<iq type='result' id='${tampered}' to='${ROOM}/Romeo'/>`), []);
    sim.ctx = { ...sim.ctx, now: sim.ctx.now + 300_001 };
    assert.deepEqual(sim.send(JULIET, `<iq type='result' id='${id}' to='${ROOM}/Romeo'/>`), [], 'expired');
  });

  it('goes to the primary session of a multi-session occupant and back to the asking session', () => {
    const sim = room();
    sim.join(PHONE, 'Juliet');
    sim.send(PHONE, `<presence to='${ROOM}/Juliet'><show>chat</show></presence>`);
    const out = sim.send(ROMEO, `<iq type='get' id='p' to='${ROOM}/Juliet'><ping xmlns='${NS.PING}'/></iq>`);
    assert.deepEqual(out.map((o) => o.to), [PHONE]);
    const back = sim.send(PHONE, `<iq type='result' id='${String(out[0]?.stanza.attrs.id)}' to='${ROOM}/Romeo'/>`);
    assert.deepEqual(back.map((o) => o.to), [ROMEO]);
  });

  it('sends vCard requests to the occupant bare JID through a gateway, and relays the answer from it (as Prosody 0.12)', () => {
    const sim = room();
    const out = sim.send(ROMEO, `<iq type='get' id='vc' to='${ROOM}/Juliet'><vCard xmlns='vcard-temp'/></iq>`);
    assert.equal(out.length, 1);
    assert.equal(out[0]?.to, 'user2@localhost');
    assert.equal(out[0]?.stanza.attrs.to, 'user2@localhost');
    assert.equal(out[0]?.viaServer, true);
    assert.deepEqual(out[0]?.route, { gatewayId: 'gw1', sessionId: '' });
    const id = String(out[0]?.stanza.attrs.id);
    assert.deepEqual(sim.send(JULIET, `<iq type='result' id='${id}' to='${ROOM}/Romeo'/>`), [], 'the full JID is not the bare JID it went to');
    const back = sim.send('user2@localhost', `<iq type='result' id='${id}' to='${ROOM}/Romeo'><vCard xmlns='vcard-temp'><FN>J</FN></vCard></iq>`);
    assert.equal(to(back, ROMEO)[0]?.attrs.id, 'vc');
    assert.equal(to(back, ROMEO)[0]?.attrs.from, `${ROOM}/Juliet`);
    assert.equal(to(back, ROMEO)[0]?.getChild('vCard')?.getChildText('FN'), 'J');
  });

  it('refuses non-occupants with not-acceptable and absent nicks with item-not-found', () => {
    const sim = room();
    const out = sim.send(ROSALINE, `<iq type='get' id='a' to='${ROOM}/Juliet'><query xmlns='jabber:iq:version'/></iq>`);
    assert.equal(errorCondition(to(out, ROSALINE)[0]), 'not-acceptable');
    assert.equal(to(out, ROSALINE)[0]?.attrs.from, `${ROOM}/Juliet`);
    assert.equal(errorCondition(to(sim.send(ROMEO, `<iq type='get' id='b' to='${ROOM}/Nobody'><query xmlns='jabber:iq:version'/></iq>`), ROMEO)[0]), 'item-not-found');
  });

  it('refuses ids longer than 1024 characters with bad-request', () => {
    const sim = room();
    const out = sim.send(ROMEO, `<iq type='get' id='${'x'.repeat(1025)}' to='${ROOM}/Juliet'><ping xmlns='${NS.PING}'/></iq>`);
    assert.equal(errorCondition(to(out, ROMEO)[0]), 'bad-request');
  });

  it('answers service-unavailable without a forward key', () => {
    const sim = room();
    sim.ctx = makeCtx();
    const out = sim.send(ROMEO, `<iq type='get' id='a' to='${ROOM}/Juliet'><query xmlns='jabber:iq:version'/></iq>`);
    assert.equal(errorCondition(to(out, ROMEO)[0]), 'service-unavailable');
  });

  it('binds ids to room, JIDs, time, id and nick', () => {
    const f = { issued: 1_000_000, id: 'abc', targetNick: 'N' };
    const token = forwardedId(KEY, ROOM, ROMEO, JULIET, f);
    assert.deepEqual(readForwardedId(KEY, ROOM, ROMEO, JULIET, token, 1_000_000, 1000), f);
    assert.equal(readForwardedId('other', ROOM, ROMEO, JULIET, token, 1_000_000, 1000), undefined);
    assert.equal(readForwardedId(KEY, 'r2@conference.localhost', ROMEO, JULIET, token, 1_000_000, 1000), undefined);
    assert.equal(readForwardedId(KEY, ROOM, JULIET, ROMEO, token, 1_000_000, 1000), undefined);
    assert.equal(readForwardedId(KEY, ROOM, ROMEO, JULIET, token, 1_001_001, 1000), undefined);
    assert.equal(readForwardedId(KEY, ROOM, ROMEO, JULIET, `${token}x`, 1_000_000, 1000), undefined);
    assert.equal(readForwardedId(KEY, ROOM, ROMEO, JULIET, 'a.b.c', 1_000_000, 1000), undefined);
  });
});

describe('XEP-0410 self-ping optimization', () => {
  it('answers a joined session pinging its own nick itself', () => {
    const sim = room();
    const out = sim.send(JULIET, `<iq type='get' id='sp' to='${ROOM}/Juliet'><ping xmlns='${NS.PING}'/></iq>`);
    assert.equal(out.length, 1);
    assert.equal(out[0]?.stanza.attrs.type, 'result');
    assert.equal(out[0]?.stanza.attrs.from, `${ROOM}/Juliet`);
    assert.equal(out[0]?.stanza.attrs.id, 'sp');
  });

  it('answers not-acceptable to a session that is not joined, even of the same user', () => {
    const sim = room();
    const out = sim.send(PHONE, `<iq type='get' id='sp' to='${ROOM}/Juliet'><ping xmlns='${NS.PING}'/></iq>`);
    assert.equal(errorCondition(to(out, PHONE)[0]), 'not-acceptable');
    assert.equal(to(out, PHONE)[0]?.getChild('error')?.attrs.type, 'cancel');
  });

  it('answers self-pings without a forward key too, and advertises the feature', () => {
    const sim = room();
    sim.ctx = makeCtx();
    assert.equal(sim.send(JULIET, `<iq type='get' id='sp' to='${ROOM}/Juliet'><ping xmlns='${NS.PING}'/></iq>`)[0]?.stanza.attrs.type, 'result');
    const info = sim.send(JULIET, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`)[0]?.stanza;
    const vars = info?.getChild('query')?.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(vars?.includes('http://jabber.org/protocol/muc#self-ping-optimization'));
  });
});
