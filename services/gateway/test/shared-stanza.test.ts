// A room's stanza kept as text and written to each recipient with its own `to`: the text
// must be what serialising a copy with `to` set gives, byte for byte, whether it came as
// room stanza text (no parse) or as an element.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clone, Element } from 'ltx';
import { NS, parseElement, serialize } from '@parley/xml';
import { SharedStanza } from '../src/routing/shared-stanza.js';

const withTo = (el: Element, to: string) => {
  const copy = clone(el);
  copy.attrs.to = to;
  return copy;
};

describe('SharedStanza', () => {
  const cases = [
    `<message xmlns='${NS.CLIENT}' from='r@c/n' type='groupchat' id='a&gt;b'><body>1 &lt; 2 &amp; "q"</body><x xmlns='urn:x'/></message>`,
    `<presence xmlns='${NS.CLIENT}' from='r@c/n'/>`,
    `<message xmlns='${NS.CLIENT}' from='r@c/n' type='groupchat'><subject/></message>`,
  ];
  for (const xml of cases) {
    it(`writes ${xml.slice(0, 30)}… as a copy with to would be, on TCP and WebSocket`, () => {
      const el = parseElement(xml, { defaultNs: NS.CLIENT });
      const roomText = serialize(el, { omitXmlnsOf: NS.CLIENT });
      assert.ok(!roomText.includes('xmlns="jabber:client"'));
      for (const shared of [SharedStanza.fromElement(el), SharedStanza.fromText(roomText), SharedStanza.fromText(xml)]) {
        for (const to of ['u@x/r', "o'd&<>@x/\"r\""]) {
          assert.equal(shared.text(to, true), serialize(withTo(el, to), { omitXmlnsOf: NS.CLIENT }));
          assert.equal(shared.text(to, false), serialize(withTo(el, to)));
          assert.equal(shared.element(to).toString(), withTo(el, to).toString());
        }
        assert.equal(shared.name, el.name);
      }
      assert.equal(el.attrs.to, undefined);
    });
  }

  it('adds xmlns for WebSocket when the element has none', () => {
    const shared = SharedStanza.fromElement(new Element('message', { from: 'r@c/n' }).c('body').t('x').root());
    assert.equal(shared.text('u@x/r', false), `<message xmlns="${NS.CLIENT}" from="r@c/n" to="u@x/r"><body>x</body></message>`);
    assert.equal(shared.text('u@x/r', true), `<message from="r@c/n" to="u@x/r"><body>x</body></message>`);
  });
});

describe('SharedStanza.fromText', () => {
  it('leaves out a `to` the text carries', () => {
    const shared = SharedStanza.fromText(`<presence xmlns='${NS.CLIENT}' from='r@c/n' to='old@x/r'/>`);
    assert.equal(shared.text('u@x/r', true), '<presence from="r@c/n" to="u@x/r"/>');
  });

  it('throws on text that is not XML', () => {
    assert.throws(() => SharedStanza.fromText('not xml'));
  });
});
