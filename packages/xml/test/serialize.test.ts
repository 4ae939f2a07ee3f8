import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Element } from 'ltx';
import { NS, escapeAttrValue, parseElement, parseOwnElement, serialize, streamFooter, streamHeader } from '@parley/xml';

test('serialize omits a top-level xmlns equal to omitXmlnsOf, without mutating the element', () => {
  const el = new Element('message', { xmlns: NS.CLIENT, to: 'a@example.com' }).c('body').t('x & y').up();
  assert.equal(serialize(el, { omitXmlnsOf: NS.CLIENT }), '<message to="a@example.com"><body>x &amp; y</body></message>');
  assert.equal(el.attrs.xmlns, NS.CLIENT);
  assert.equal(serialize(el), '<message xmlns="jabber:client" to="a@example.com"><body>x &amp; y</body></message>');
});

test('serialize keeps an xmlns different from omitXmlnsOf, and nested ones', () => {
  const el = parseElement(`<features xmlns='${NS.STREAM}'><bind xmlns='${NS.BIND}'/></features>`);
  assert.equal(
    serialize(el, { omitXmlnsOf: NS.CLIENT }),
    `<features xmlns="${NS.STREAM}"><bind xmlns="${NS.BIND}"/></features>`,
  );
  const iq = parseElement(`<iq xmlns='${NS.CLIENT}'><ping xmlns='${NS.PING}'/></iq>`);
  assert.equal(serialize(iq, { omitXmlnsOf: NS.CLIENT }), `<iq><ping xmlns="${NS.PING}"/></iq>`);
});

test('a parsed element serialises back to equivalent XML', () => {
  const xml = `<message xmlns="jabber:client" to="r@muc.example.com" xml:lang="en"><body>&lt;3 &amp; "quotes"</body></message>`;
  const once = serialize(parseElement(xml));
  assert.equal(serialize(parseElement(once)), once);
  assert.equal(parseElement(once).getChildText('body'), '<3 & "quotes"');
});

test('streamHeader writes the declaration, both namespaces and escaped attributes in order', () => {
  assert.equal(
    streamHeader({ from: 'example.com', id: "a'b<c>&\"", to: undefined, version: '1.0', 'xml:lang': 'en' }),
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'" +
      " from='example.com' id='a&apos;b&lt;c&gt;&amp;&quot;' version='1.0' xml:lang='en'>",
  );
});

test('streamHeader lets xmlns be replaced but not xmlns:stream', () => {
  const header = streamHeader({ xmlns: 'jabber:server', 'xmlns:stream': 'urn:evil' });
  assert.equal(
    header,
    "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>",
  );
});

test('streamHeader refuses attribute names that are not QNames', () => {
  assert.throws(() => streamHeader({ "to='x' evil": 'y' }), TypeError);
});

test('streamFooter closes the stream', () => {
  assert.equal(streamFooter(), '</stream:stream>');
});

test('serialize escapes tab, LF and CR in attribute values and CR in text (XML 1.0 §3.3.3, §2.11)', () => {
  const el = new Element('message', { id: 'a\tb\nc\rd', type: "'\"<>&" }).c('body').t('x\ry\nz\t&').up();
  const xml = serialize(el);
  assert.equal(xml, '<message id="a&#9;b&#10;c&#13;d" type="&apos;&quot;&lt;&gt;&amp;"><body>x&#13;y\nz\t&amp;</body></message>');
  const back = parseElement(xml, { defaultNs: NS.CLIENT });
  assert.equal(back.attrs.id, 'a\tb\nc\rd');
  assert.equal(back.getChildText('body'), 'x\ry\nz\t&');
  assert.equal(parseOwnElement(xml).attrs.id, 'a\tb\nc\rd');
  assert.equal(parseOwnElement(xml).getChildText('body'), 'x\ry\nz\t&');
});

test('escapeAttrValue returns the value itself when nothing needs escaping', () => {
  const value = 'room@conference.example.org/alice';
  assert.equal(escapeAttrValue(value), value);
  assert.equal(escapeAttrValue('a\tb'), 'a&#9;b');
});
