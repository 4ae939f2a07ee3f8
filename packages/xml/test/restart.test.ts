import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NS } from '@parley/xml';
import { HEADER, record } from './recorder.js';

const AUTH = `<auth xmlns='${NS.SASL}' mechanism='PLAIN'>AGp1bGlldABy</auth>`;

test('after restart() a new stream header starts a new stream (RFC 6120 §6.4.6)', () => {
  const r = record();
  r.parser.write(HEADER + AUTH);
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'element']);
  r.parser.restart();
  r.parser.write(HEADER.replace("to='example.com'", "to='example.com' id='second'"));
  r.parser.write("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
  assert.deepEqual(r.errors(), []);
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'element', 'start', 'element']);
  const second = r.events[2];
  assert.equal(second?.type === 'start' && second.header.attrs.id, 'second');
  assert.equal(r.elements[1]?.getName(), 'iq');
});

test('restart() called from onElement works and the old stream is not closed', () => {
  const r = record({}, (el, parser) => {
    if (el.is('auth', NS.SASL)) parser.restart();
  });
  r.parser.write(HEADER + AUTH);
  r.parser.write(HEADER + "<presence/>");
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'element', 'start', 'element']);
});

test('bytes after the element that caused a restart, in the same write, are discarded', () => {
  // The STARTTLS command injection attack: plaintext pipelined after <starttls/> must not
  // be parsed as part of the stream negotiated afterwards.
  const r = record({}, (el, parser) => {
    if (el.is('starttls', NS.TLS)) parser.restart();
  });
  r.parser.write(`${HEADER}<starttls xmlns='${NS.TLS}'/><message to='victim@example.com'><body>injected</body></message>`);
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'element']);
  r.parser.write(`${HEADER}<presence/>`);
  assert.deepEqual(r.errors(), []);
  assert.deepEqual(r.elements.map((el) => el.getName()), ['starttls', 'presence']);
});

test('a pipelined stream after a restart is discarded even when it starts a new 4 KiB slice', () => {
  const r = record({}, (el, parser) => {
    if (el.is('starttls', NS.TLS)) parser.restart();
  });
  const first = `${HEADER}<starttls xmlns='${NS.TLS}'/>`;
  r.parser.write(`${first.padEnd(4096, ' ')}${HEADER}<message><body>injected</body></message>`);
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'element']);
});

test('without a restart, a second stream header is refused', () => {
  const r = record();
  r.parser.write(HEADER + AUTH + HEADER);
  assert.deepEqual(r.errors(), ['restricted-xml']); // the second <?xml ...?> is a processing instruction
});

test('a restart requires a new header: a stanza straight away is not a stream', () => {
  const r = record();
  r.parser.write(HEADER + AUTH);
  r.parser.restart();
  r.parser.write('<presence/>');
  assert.deepEqual(r.errors(), ['invalid-namespace']);
});

test('restart() does not revive a failed parser', () => {
  const r = record();
  r.parser.write(`${HEADER}<a></b>`);
  r.parser.restart();
  r.parser.write(HEADER);
  assert.deepEqual(r.events.map((e) => e.type), ['start', 'error']);
});
