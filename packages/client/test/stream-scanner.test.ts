import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamScanner } from '@parley/client';

function scan(chunks: string[]): { opens: number; elements: string[]; closes: number } {
  const out = { opens: 0, elements: [] as string[], closes: 0 };
  const s = new StreamScanner({ onStreamOpen: () => out.opens++, onElement: (x) => out.elements.push(x), onStreamClose: () => out.closes++ });
  for (const c of chunks) s.push(c);
  return out;
}

const stream =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1' version='1.0'>" +
  "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>" +
  "<message from='a' type='groupchat' x='1 &gt; 0 &apos;q&apos;' y=\"a>b\"><body>hi &lt;b&gt;</body><x><y/></x></message>" +
  "<presence from='b'/>" +
  ' \n ' +
  "<iq type='result' id='1'><![CDATA[ <not-a-tag> ]]></iq>" +
  '</stream:stream>';

test('splits a stream into top-level elements, whole', () => {
  const r = scan([stream]);
  assert.equal(r.opens, 1);
  assert.equal(r.closes, 1);
  assert.equal(r.elements.length, 4);
  assert.ok(r.elements[0]!.startsWith('<stream:features>') && r.elements[0]!.endsWith('</stream:features>'));
  assert.ok(r.elements[1]!.startsWith('<message') && r.elements[1]!.endsWith('</message>'));
  assert.equal(r.elements[2], "<presence from='b'/>");
  assert.ok(r.elements[3]!.startsWith('<iq') && r.elements[3]!.endsWith('</iq>'));
});

test('gives the same elements however the stream is cut', () => {
  const whole = scan([stream]).elements;
  for (const size of [1, 2, 3, 7, 13, 64]) {
    const chunks: string[] = [];
    for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
    assert.deepEqual(scan(chunks).elements, whole, `chunks of ${size}`);
  }
});

test('a stream restart after SASL opens a new stream', () => {
  const r = scan(["<stream:stream xmlns:stream='x'><success xmlns='s'/>", "<stream:stream xmlns:stream='x' id='2'><stream:features><bind/></stream:features>"]);
  assert.equal(r.opens, 2);
  assert.deepEqual(r.elements, ["<success xmlns='s'/>", '<stream:features><bind/></stream:features>']);
});

test('reset(true) reads the inside of an already open stream', () => {
  const out: string[] = [];
  let closes = 0;
  const s = new StreamScanner({ onStreamOpen: () => assert.fail('no header here'), onElement: (x) => out.push(x), onStreamClose: () => closes++ });
  s.reset(true);
  s.push("<challenge xmlns='s'>YQ==</challenge><success xmlns='s'/></stream:stream>");
  assert.deepEqual(out, ["<challenge xmlns='s'>YQ==</challenge>", "<success xmlns='s'/>"]);
  assert.equal(closes, 1);
});

test('an element over the bound is refused once, and nothing is reported after it', () => {
  const out: string[] = [];
  const errors: string[] = [];
  const s = new StreamScanner({ onStreamOpen: () => {}, onElement: (x) => out.push(x), onStreamClose: () => {}, onError: (r) => errors.push(r) }, 100);
  s.push("<stream:stream><message><body>");
  s.push('x'.repeat(60));
  assert.deepEqual(errors, []);
  s.push('x'.repeat(60));
  assert.deepEqual(errors, ['an element over 100 characters']);
  s.push('</body></message><presence/>');
  assert.deepEqual(out, []);
  assert.equal(errors.length, 1);
});

test('an over-long element that arrives whole in one chunk is refused too', () => {
  const out: string[] = [];
  const errors: string[] = [];
  const s = new StreamScanner({ onStreamOpen: () => {}, onElement: (x) => out.push(x), onStreamClose: () => {}, onError: (r) => errors.push(r) }, 100);
  s.push(`<stream:stream><presence/><message><body>${'x'.repeat(200)}</body></message><presence/>`);
  assert.deepEqual(out, ['<presence/>']);
  assert.deepEqual(errors, ['an element over 100 characters']);
});
