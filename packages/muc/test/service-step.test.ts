import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS } from '@parley/xml';
import { serviceStep } from '@parley/muc';
import { ROMEO, errorCondition, makeCtx, xml } from './harness.js';

const origin = { gatewayId: 'gw1', sessionId: 's1' };
const rooms = [{ jid: 'room@conference.localhost', name: 'Room', occupants: 2 }];

function ask(text: string) {
  const stanza = xml(text);
  stanza.attrs.from = ROMEO;
  return serviceStep(stanza, origin, makeCtx(), rooms);
}

describe('service JID (XEP-0045 §6.1, §6.3)', () => {
  it('answers disco#info with the conference identity and the muc feature', () => {
    const out = ask(`<iq type='get' id='1' to='conference.localhost'><query xmlns='${NS.DISCO_INFO}'/></iq>`);
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]!.route, origin);
    assert.equal(out[0]!.to, ROMEO);
    const q = out[0]!.stanza.getChild('query', NS.DISCO_INFO)!;
    assert.equal(q.getChild('identity')?.attrs.category, 'conference');
    assert.equal(q.getChild('identity')?.attrs.type, 'text');
    assert.ok(q.getChildren('feature').some((f) => f.attrs.var === NS.MUC));
  });

  it('lists the given public rooms in disco#items', () => {
    const out = ask(`<iq type='get' id='2' to='conference.localhost'><query xmlns='${NS.DISCO_ITEMS}'/></iq>`);
    const items = out[0]!.stanza.getChild('query')!.getChildren('item');
    assert.deepEqual(items.map((i) => ({ ...i.attrs })), [{ jid: 'room@conference.localhost', name: 'Room' }]);
  });

  it('refuses other iq with service-unavailable; ignores results, errors and presence', () => {
    assert.equal(errorCondition(ask(`<iq type='get' id='3' to='conference.localhost'><vCard xmlns='vcard-temp'/></iq>`)[0]?.stanza), 'service-unavailable');
    assert.equal(errorCondition(ask(`<message to='conference.localhost'><body>hi</body></message>`)[0]?.stanza), 'service-unavailable');
    assert.deepEqual(ask(`<iq type='result' id='4' to='conference.localhost'/>`), []);
    assert.deepEqual(ask(`<message type='error' to='conference.localhost'/>`), []);
    assert.deepEqual(ask(`<presence to='conference.localhost'/>`), []);
  });
});

describe('unique room names (XEP-0307 §2)', () => {
  const UNIQUE = 'http://jabber.org/protocol/muc#unique';

  it('answers <unique/> with a fresh room name from RoomContext.newId, and advertises the feature', () => {
    const ctx = { ...makeCtx(), newId: () => 'F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6' };
    const stanza = xml(`<iq type='get' id='u1' to='conference.localhost'><unique xmlns='${UNIQUE}'/></iq>`);
    stanza.attrs.from = ROMEO;
    const out = serviceStep(stanza, origin, ctx, rooms);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.stanza.attrs.type, 'result');
    assert.equal(out[0]!.stanza.attrs.id, 'u1');
    assert.equal(out[0]!.stanza.getChild('unique', UNIQUE)?.getText(), 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
    const { newId: _unused, ...noId } = makeCtx();
    const uniqueName = (id: string) => {
      const req = xml(`<iq type='get' id='${id}' to='conference.localhost'><unique xmlns='${UNIQUE}'/></iq>`);
      req.attrs.from = ROMEO;
      return serviceStep(req, origin, noId, rooms)[0]!.stanza.getChildText('unique');
    };
    const a = uniqueName('u2');
    const b = uniqueName('u3');
    assert.ok(a && b && a !== b, 'two requests, two names (even without newId)');
    const info = ask(`<iq type='get' id='i' to='conference.localhost'><query xmlns='${NS.DISCO_INFO}'/></iq>`)[0]!.stanza.getChild('query')!;
    const vars = info.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(vars.includes(UNIQUE));
    assert.ok(vars.includes('urn:xmpp:occupant-id:0'), 'XEP-0421 §4: on in every room');
  });

  it('refuses a set with service-unavailable', () => {
    const out = ask(`<iq type='set' id='u4' to='conference.localhost'><unique xmlns='${UNIQUE}'/></iq>`);
    assert.equal(errorCondition(out[0]?.stanza), 'service-unavailable');
  });
});
