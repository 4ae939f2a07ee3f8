// The fast parser for the cluster's own serialisations must give what the strict parser
// gives for the same text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NS, parseElement, parseOwnElement, serialize } from '@parley/xml';

describe('parseOwnElement', () => {
  const inputs = [
    `<message xmlns='jabber:client' from='a@b/c' to='r@conference.b' type='groupchat' id='x&amp;y'><body>1 &lt; 2 &amp;&amp; "q" 'a' &gt; é 😀</body></message>`,
    `<presence xmlns='jabber:client' from='a@b/c' xml:lang='en'><show>away</show><status>  spaced\n text </status><x xmlns='http://jabber.org/protocol/muc'><password>p&apos;w</password></x><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v='/></presence>`,
    `<iq xmlns='jabber:client' type='set' id='1'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member' jid='x@y'><reason/></item></query></iq>`,
    `<message xmlns='jabber:client'><x:html xmlns:x='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><p>hi<br/>there</p></body></x:html><foo xmlns=''/></message>`,
  ];
  for (const input of inputs) {
    it(`reads back ${input.slice(0, 40)}… as the strict parser does`, () => {
      const strict = parseElement(input, { defaultNs: NS.CLIENT });
      const text = serialize(strict);
      const own = parseOwnElement(text, NS.CLIENT);
      assert.equal(serialize(own), text);
      assert.deepEqual(own.attrs, strict.attrs);
      assert.equal(own.toString(), strict.toString());
    });
  }

  it('sets the default namespace as the first attribute when the root has none', () => {
    const el = parseOwnElement('<presence from="r@c/n"><x xmlns="urn:x"/></presence>', NS.CLIENT);
    assert.deepEqual(Object.keys(el.attrs), ['xmlns', 'from']);
    assert.equal(el.attrs.xmlns, NS.CLIENT);
    assert.equal(el.getChild('x')?.attrs.xmlns, 'urn:x');
    assert.equal(parseOwnElement('<presence from="r@c/n"/>').attrs.xmlns, undefined);
  });

  it('throws on text that is not well-formed', () => {
    assert.throws(() => parseOwnElement('<message><body></message>'));
    assert.throws(() => parseOwnElement('not xml'));
  });
});
