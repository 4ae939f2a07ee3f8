import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NS } from '@parley/xml';
import { HEADER, record } from './recorder.js';

function elementsOf(xml: string, header = HEADER): string[] {
  const r = record();
  r.parser.write(header + xml);
  assert.deepEqual(r.errors(), []);
  return r.elements.map((el) => el.toString());
}

test('the top-level element gets the stream default namespace as xmlns', () => {
  assert.deepEqual(elementsOf("<message to='a@example.com'><body>x</body></message>"), [
    '<message xmlns="jabber:client" to="a@example.com"><body>x</body></message>',
  ]);
});

test('prefixed elements are emitted by local name with their resolved namespace', () => {
  assert.deepEqual(
    elementsOf("<c:message xmlns:c='jabber:client'><c:body>x</c:body><m:x xmlns:m='http://jabber.org/protocol/muc#user'><m:item/></m:x></c:message>"),
    [
      '<message xmlns="jabber:client" xmlns:c="jabber:client"><body>x</body><x xmlns="http://jabber.org/protocol/muc#user" xmlns:m="http://jabber.org/protocol/muc#user"><item/></x></message>',
    ],
  );
});

test('stream-prefixed children are in the stream namespace', () => {
  const r = record();
  r.parser.write(`${HEADER}<stream:features><bind xmlns='${NS.BIND}'/></stream:features>`);
  const el = r.elements[0];
  assert.ok(el);
  assert.equal(el.name, 'features');
  assert.equal(el.getNS(), NS.STREAM);
  assert.equal(el.getChild('bind')?.getNS(), NS.BIND);
});

test('a descendant back in its grandparent namespace gets xmlns again', () => {
  // <item/> is unprefixed, so in jabber:client, although its parent is q:query.
  assert.deepEqual(elementsOf("<iq id='1' type='get'><q:query xmlns:q='jabber:iq:version'><item/></q:query></iq>"), [
    '<iq xmlns="jabber:client" id="1" type="get"><query xmlns="jabber:iq:version" xmlns:q="jabber:iq:version"><item xmlns="jabber:client"/></query></iq>',
  ]);
});

test('an element whose default namespace is undeclared gets xmlns=""', () => {
  assert.deepEqual(elementsOf("<message><x xmlns=''/></message>"), [
    '<message xmlns="jabber:client"><x xmlns=""/></message>',
  ]);
});

test('xml:lang and other attributes are kept as written', () => {
  assert.deepEqual(elementsOf("<message xml:lang='fr' type='chat'><body xml:lang='de'>Hallo</body></message>"), [
    '<message xmlns="jabber:client" xml:lang="fr" type="chat"><body xml:lang="de">Hallo</body></message>',
  ]);
});

test('an attribute prefix declared on the stream header is declared on the element', () => {
  const header = HEADER.replace("xml:lang='en'>", "xml:lang='en' xmlns:ext='urn:example:ext'>");
  const [xml] = elementsOf("<message ext:flag='1'/>", header);
  assert.equal(xml, '<message xmlns="jabber:client" ext:flag="1" xmlns:ext="urn:example:ext"/>');
});

test('text and CDATA are kept as character data', () => {
  const r = record();
  r.parser.write(`${HEADER}<message><body>a &lt; b <![CDATA[<not-a-tag/> & ]]>c</body></message>`);
  assert.equal(r.elements[0]?.getChildText('body'), 'a < b <not-a-tag/> & c');
});
