import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseElement } from '@parley/xml';
import { matches } from '../lib/match.js';
import { parseExpected } from '../lib/run-script.js';

/** Whether `received` (as the server would send it) matches the script's `expected`. */
function check(expected: string, received: string): { ok: boolean; reason?: string } {
  return matches(parseExpected(expected), parseElement(received, { defaultNs: 'jabber:client' }));
}
const ok = (e: string, r: string) => assert.deepEqual(check(e, r), { ok: true }, `${e} should match ${r}`);
const no = (e: string, r: string, reason?: RegExp) => {
  const res = check(e, r);
  assert.equal(res.ok, false, `${e} should not match ${r}`);
  if (reason) assert.match(res.reason ?? '', reason);
};

const MUC_USER = 'http://jabber.org/protocol/muc#user';

test('non-strict (jabber:client): extra attributes and children are ignored, order too', () => {
  ok(`<presence from='r@c/Romeo'/>`, `<presence from='r@c/Romeo' to='u@l/x' id='1'><x xmlns='${MUC_USER}'><status code='110'/></x></presence>`);
  ok(`<message><body/><subject/></message>`, `<message type='groupchat'><subject>s</subject><thread>t</thread><body>b</body></message>`);
  no(`<presence from='r@c/Romeo' type='unavailable'/>`, `<presence from='r@c/Romeo'/>`, /missing attribute type/);
  no(`<presence from='r@c/Romeo'/>`, `<presence from='r@c/Juliet'/>`, /attribute from="r@c\/Juliet" instead of "r@c\/Romeo"/);
  no(`<message><subject/></message>`, `<message><body>b</body></message>`, /missing child <subject>/);
  no(`<presence/>`, `<message/>`, /element <message> instead of <presence>/);
});

test('strict (other namespaces): an extra child or attribute fails', () => {
  const expected = `<presence><x xmlns='${MUC_USER}'><status code='201'/><status code='110'/></x></presence>`;
  ok(expected, `<presence><x xmlns='${MUC_USER}'><status code='201'/><status code='110'/></x></presence>`);
  no(expected, `<presence><x xmlns='${MUC_USER}'><status code='201'/><status code='110'/><status code='100'/></x></presence>`, /unexpected child <status>/);
  no(expected, `<presence><x xmlns='${MUC_USER}'><status code='201'/></x></presence>`, /missing child <status>/);
  no(`<presence><x xmlns='${MUC_USER}'><item role='moderator'/></x></presence>`, `<presence><x xmlns='${MUC_USER}'><item role='moderator' nick='n'/></x></presence>`, /unexpected attribute nick/);
});

test('strict: order matters', () => {
  no(
    `<presence><x xmlns='${MUC_USER}'><status code='201'/><status code='110'/></x></presence>`,
    `<presence><x xmlns='${MUC_USER}'><status code='110'/><status code='201'/></x></presence>`,
    /status\[1\]: attribute code="110" instead of "201"/,
  );
});

test('{scansion:any} means present with any value', () => {
  ok(`<iq id='{scansion:any}' type='result'/>`, `<iq id='abc' type='result'/>`);
  no(`<iq id='{scansion:any}' type='result'/>`, `<iq type='result'/>`, /missing attribute id/);
  ok(`<presence><x xmlns='${MUC_USER}'><item jid='{scansion:any}' role='participant'/></x></presence>`, `<presence><x xmlns='${MUC_USER}'><item jid='a@b/c' role='participant'/></x></presence>`);
});

test('scansion:strict overrides the default both ways', () => {
  // A strict namespace made non-strict: extra child and attribute accepted, order ignored.
  ok(
    `<presence><x xmlns='${MUC_USER}' scansion:strict='false'><status code='110'/></x></presence>`,
    `<presence><x xmlns='${MUC_USER}' extra='1'><status code='201'/><status code='110'/></x></presence>`,
  );
  // jabber:client made strict: the extra attribute or child fails.
  const strictPresence = `<presence from='r@c/Romeo' scansion:strict='true'/>`;
  ok(strictPresence, `<presence from='r@c/Romeo'/>`);
  no(strictPresence, `<presence from='r@c/Romeo' to='u@l'/>`, /unexpected attribute to/);
  no(strictPresence, `<presence from='r@c/Romeo'><status/></presence>`, /unexpected child <status>/);
  // Neither scansion:strict nor xmlns declarations count as attributes, even in strict mode.
  ok(`<iq xmlns='jabber:client' type='result' scansion:strict='true'/>`, `<iq type='result'/>`);
});

test('strictDefault replaces the namespace rule', () => {
  const expected = parseExpected(`<presence from='a'/>`);
  const received = parseElement(`<presence from='a' to='b'/>`, { defaultNs: 'jabber:client' });
  assert.equal(matches(expected, received).ok, true);
  assert.equal(matches(expected, received, true).ok, false);
});

test('text is compared, trimmed, only where the expected element has some', () => {
  ok(`<message><body>hello</body></message>`, `<message><body>\n  hello \n</body></message>`);
  ok(`<message><body/></message>`, `<message><body>anything</body></message>`);
  ok(`<message><body>\n\t</body></message>`, `<message><body>anything</body></message>`);
  no(`<message><body>hello</body></message>`, `<message><body>bye</body></message>`, /text "bye" instead of "hello"/);
});

test('namespaces must match exactly', () => {
  no(`<presence><x xmlns='${MUC_USER}'/></presence>`, `<presence><x xmlns='http://jabber.org/protocol/muc'/></presence>`, /namespace/);
  no(`<iq type='error'><error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`, `<iq type='error'><error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></error></iq>`, /namespace/);
  ok(`<iq type='error'><error type='auth'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`, `<iq type='error'><error type='auth' by='r@c'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>t</text></error></iq>`);
});
