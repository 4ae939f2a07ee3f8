import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseElement, XmlError } from '@parley/xml';
import { HEADER, record, writeInChunks } from './recorder.js';

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><message><body>&lol9;</body></message>`;

function isRestricted(err: unknown): boolean {
  return err instanceof XmlError && err.condition === 'restricted-xml';
}

test('billion laughs: refused as restricted-xml, nothing delivered', () => {
  const r = record();
  r.parser.write(BILLION_LAUGHS);
  assert.deepEqual(r.events, [{ type: 'error', condition: 'restricted-xml' }]);
});

test('billion laughs: refused as soon as "<!D" is seen, before the DTD is read', () => {
  const r = record();
  r.parser.write('<?xml version="1.0"?>\n<!');
  assert.deepEqual(r.errors(), []);
  r.parser.write('D');
  assert.deepEqual(r.errors(), ['restricted-xml']);
});

test('a DOCTYPE inside the stream is refused', () => {
  const r = record();
  r.parser.write(`${HEADER}<!DOCTYPE x>`);
  assert.deepEqual(r.errors(), ['restricted-xml']);
});

const CASES: Record<string, string> = {
  'comment between stanzas': '<!-- hi -->',
  'comment inside a stanza': '<message><!-- hi --></message>',
  'processing instruction': "<?php echo 1; ?>",
  'processing instruction inside a stanza': '<message><?x y?></message>',
  'XML declaration after the start': "<?xml version='1.0'?>",
  'undefined entity': '<message><body>&nbsp;</body></message>',
  'undefined entity in an attribute': "<message to='&foo;'/>",
};

for (const [name, input] of Object.entries(CASES)) {
  test(`${name} → restricted-xml, whatever the chunking`, () => {
    for (const size of [1, 1 << 20]) {
      const r = record();
      writeInChunks(r.parser, HEADER + input, size);
      assert.deepEqual(r.errors(), ['restricted-xml'], `chunk size ${size}`);
      assert.equal(r.elements.length, 0);
    }
  });
}

test('the XML declaration at the start, the five predefined entities and character references are allowed', () => {
  const r = record();
  r.parser.write(`${HEADER}<message><body>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;</body></message>`);
  assert.deepEqual(r.errors(), []);
  assert.equal(r.elements[0]?.getChildText('body'), `<>&"'AB`);
});

test('"<!--" and "<?" inside CDATA are text, not markup', () => {
  const r = record();
  writeInChunks(r.parser, `${HEADER}<message><body><![CDATA[<!-- x --> <?y?> <!DOCTYPE ]]]]></body></message>`, 1);
  assert.deepEqual(r.errors(), []);
  assert.equal(r.elements[0]?.getChildText('body'), '<!-- x --> <?y?> <!DOCTYPE ]]');
});

test('parseElement refuses DOCTYPE (billion laughs), comments, PIs and undefined entities', () => {
  const billion = BILLION_LAUGHS.replace(/<stream:stream[^>]*>/, '').replace('</body></message>', '') + '</body></message>';
  for (const xml of [billion, '<a><!-- c --></a>', '<a><?pi?></a>', '<?pi?><a/>', '<a>&lol;</a>']) {
    assert.throws(() => parseElement(xml), isRestricted, xml.slice(0, 40));
  }
});
