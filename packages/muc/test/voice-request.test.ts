import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { ADMIN, JULIET, ROMEO, ROOM, ROSALINE, Sim, errorCondition, to, xShape } from './harness.js';

const REQUEST = `<message to='${ROOM}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role' type='list-single'><value>participant</value></field></x></message>`;

function approval(nick: string, allow: string, jid?: string): string {
  const jidField = jid === undefined ? '' : `<field var='muc#jid'><value>${jid}</value></field>`;
  return `<message to='${ROOM}' id='ap'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role'><value>participant</value></field>${jidField}<field var='muc#roomnick'><value>${nick}</value></field><field var='muc#request_allow'><value>${allow}</value></field></x></message>`;
}

/** A moderated room: Romeo owner, Admin (service admin) moderator, Juliet visitor. */
function room(fields = ''): Sim {
  const sim = new Sim();
  sim.create(ROMEO, 'Romeo', `<field var='muc#roomconfig_moderatedroom'><value>1</value></field>${fields}`);
  sim.join(ADMIN, 'Admin');
  sim.join(JULIET, 'Juliet');
  assert.equal(sim.room?.occupants.get('juliet')?.role, 'visitor');
  return sim;
}

function fieldValues(form: import('ltx').Element | undefined): Record<string, string | undefined> {
  return Object.fromEntries((form?.getChildren('field') ?? []).map((f) => [String(f.attrs.var), f.getChildText('value') ?? undefined]));
}

describe('voice requests (XEP-0045 §7.13, §8.6)', () => {
  it("relays a visitor's request to every moderator session as an approval form", () => {
    const sim = room();
    const out = sim.send(JULIET, REQUEST);
    assert.deepEqual(out.map((o) => o.to).sort(), [ADMIN, ROMEO].sort());
    const message = to(out, ROMEO)[0]!;
    assert.equal(message.attrs.from, ROOM);
    assert.equal(message.attrs.type, 'normal');
    const form = message.getChild('x', NS.DATA);
    assert.equal(form?.attrs.type, 'form');
    assert.deepEqual(fieldValues(form), {
      FORM_TYPE: 'http://jabber.org/protocol/muc#request',
      'muc#jid': JULIET,
      'muc#roomnick': 'Juliet',
      'muc#role': 'participant',
      'muc#request_allow': '0',
    });
    assert.equal(to(out, JULIET).length, 0);
    // The time of the relayed request is kept (persisted) for the rate limit below.
    assert.ok(sim.effects.some((e) => e.kind === 'persist'));
    assert.equal(sim.room?.occupants.get('juliet')?.lastVoiceRequest, sim.ctx.now);
  });

  it('relays one request per occupant per voiceRequestIntervalMs (60 s by default); sooner ones get resource-constraint (wait)', () => {
    const sim = room();
    sim.send(JULIET, REQUEST);
    sim.ctx = { ...sim.ctx, now: sim.ctx.now + 59_999 };
    const again = sim.send(JULIET, REQUEST);
    assert.equal(again.length, 1, 'nothing reaches the moderators');
    const error = to(again, JULIET)[0]!;
    assert.equal(error.attrs.type, 'error');
    assert.equal(errorCondition(error), 'resource-constraint');
    assert.equal(error.getChild('error')?.attrs.type, 'wait');
    assert.ok(!sim.effects.some((e) => e.kind === 'persist'));
    sim.ctx = { ...sim.ctx, now: sim.ctx.now + 1 };
    assert.deepEqual(sim.send(JULIET, REQUEST).map((o) => o.to).sort(), [ADMIN, ROMEO].sort(), 'after the interval it is relayed again');
    // Another occupant has an interval of its own.
    sim.send(ROSALINE, `<presence to='${ROOM}/Rosaline'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    assert.deepEqual(sim.send(ROSALINE, REQUEST).map((o) => o.to).sort(), [ADMIN, ROMEO].sort());
  });

  it('relays every request when voiceRequestIntervalMs is 0, and after a clock that went back', () => {
    const sim = room();
    sim.ctx = { ...sim.ctx, voiceRequestIntervalMs: 0 };
    sim.send(JULIET, REQUEST);
    assert.equal(sim.send(JULIET, REQUEST).length, 2);
    sim.ctx = { ...sim.ctx, voiceRequestIntervalMs: 1000, now: sim.ctx.now - 5000 };
    assert.equal(sim.send(JULIET, REQUEST).length, 2);
  });

  it('grants voice when a moderator approves, with the reason and actor (§8.3)', () => {
    const sim = room();
    const out = sim.send(ROMEO, approval('Juliet', 'true', JULIET));
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'participant');
    const self = to(out, JULIET)[0];
    assert.match(xShape(self), /item\(affiliation=none,jid=user2@localhost\/juliet,role=participant\)\[.*reason\(\)"Voice granted"\]/);
    assert.ok(to(out, ADMIN).length === 1);
  });

  it('accepts the bare JID or no muc#jid, and compares nicks per RFC 8266', () => {
    const sim = room();
    sim.send(ROMEO, approval('JULIET', '1'));
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'participant');
    const sim2 = room();
    sim2.send(ROMEO, approval('Juliet', '1', 'user2@localhost'));
    assert.equal(sim2.room?.occupants.get('juliet')?.role, 'participant');
  });

  it('skips an approval with muc#request_allow false', () => {
    const sim = room();
    assert.deepEqual(sim.send(ROMEO, approval('Juliet', 'false', JULIET)), []);
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'visitor');
  });

  it('refuses approvals for nobody (item-not-found) or without a nick (bad-request)', () => {
    const sim = room();
    assert.equal(errorCondition(to(sim.send(ROMEO, approval('Ghost', 'true')), ROMEO)[0]), 'item-not-found');
    assert.equal(errorCondition(to(sim.send(ROMEO, approval('Juliet', 'true', 'someone@localhost/x')), ROMEO)[0]), 'item-not-found');
    assert.equal(errorCondition(to(sim.send(ROMEO, approval('', 'true')), ROMEO)[0]), 'bad-request');
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'visitor');
  });

  it("treats a visitor's approval form as a request", () => {
    const sim = room();
    const out = sim.send(JULIET, approval('Juliet', 'true', JULIET));
    assert.equal(sim.room?.occupants.get('juliet')?.role, 'visitor');
    assert.deepEqual(out.map((o) => o.to).sort(), [ADMIN, ROMEO].sort());
  });

  it('ignores requests from occupants with voice and refuses non-occupants', () => {
    const sim = room();
    assert.deepEqual(sim.send(ROMEO, REQUEST), []);
    assert.equal(errorCondition(to(sim.send(ROSALINE, REQUEST), ROSALINE)[0]), 'not-acceptable');
  });

  it('refuses requests with forbidden when muc#roomconfig_allowvoicerequests is off, and stops advertising muc#request', () => {
    const disco = (sim: Sim) =>
      sim.send(ROMEO, `<iq type='get' id='d' to='${ROOM}'><query xmlns='${NS.DISCO_INFO}'/></iq>`)[0]?.stanza.getChild('query')?.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(disco(room())?.includes('http://jabber.org/protocol/muc#request'));
    const sim = room(`<field var='muc#roomconfig_allowvoicerequests'><value>0</value></field>`);
    assert.equal(sim.room?.config.allowVoiceRequests, false);
    assert.equal(errorCondition(to(sim.send(JULIET, REQUEST), JULIET)[0]), 'forbidden');
    assert.ok(!disco(sim)?.includes('http://jabber.org/protocol/muc#request'));
  });

  it('treats rooms stored without the option as allowing requests', () => {
    const sim = room();
    delete (sim.room!.config as { allowVoiceRequests?: boolean }).allowVoiceRequests;
    assert.equal(sim.send(JULIET, REQUEST).length, 2);
  });

  it('still handles invitations and refuses other normal messages', () => {
    const sim = room();
    assert.equal(errorCondition(to(sim.send(JULIET, `<message to='${ROOM}'><body>hi</body></message>`), JULIET)[0]), 'bad-request');
  });
});
