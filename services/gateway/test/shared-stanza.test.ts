// A fanout stanza serialised once and written to each recipient with its own `to`: the text
// must be what serialising a copy with `to` set gives, byte for byte.
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
      const shared = new SharedStanza(el);
      for (const to of ['u@x/r', "o'd&<>@x/\"r\""]) {
        assert.equal(shared.text(to, true), serialize(withTo(el, to), { omitXmlnsOf: NS.CLIENT }));
        assert.equal(shared.text(to, false), serialize(withTo(el, to)));
      }
      assert.equal(el.attrs.to, undefined);
    });
  }

  it('adds xmlns for WebSocket when the element has none', () => {
    const shared = new SharedStanza(new Element('message', { from: 'r@c/n' }).c('body').t('x').root());
    assert.equal(shared.text('u@x/r', false), `<message xmlns="${NS.CLIENT}" from="r@c/n" to="u@x/r"><body>x</body></message>`);
    assert.equal(shared.text('u@x/r', true), `<message from="r@c/n" to="u@x/r"><body>x</body></message>`);
  });
});
