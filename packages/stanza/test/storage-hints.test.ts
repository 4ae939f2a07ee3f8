import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NS, parseElement } from '@parley/xml';
import { keepForOffline, keepPermanently, storageHints } from '@parley/stanza';

const msg = (inner: string) => parseElement(`<message type='chat'>${inner}</message>`, { defaultNs: NS.CLIENT });
const H = "xmlns='urn:xmpp:hints'";

describe('XEP-0334 storage hints', () => {
  const cases: Array<[string, string, boolean, boolean]> = [
    // inner, what, permanent (room history), offline
    ['<body>hi</body>', 'a body', true, true],
    [`<body>hi</body><no-store ${H}/>`, 'no-store', false, false],
    [`<body>hi</body><no-permanent-store ${H}/>`, 'no-permanent-store (§4.1: temporary storage allowed)', false, true],
    ["<active xmlns='http://jabber.org/protocol/chatstates'/>", 'a bodiless chat state', false, false],
    [`<active xmlns='http://jabber.org/protocol/chatstates'/><store ${H}/>`, 'store without a body', true, true],
    [`<body>hi</body><store ${H}/><no-store ${H}/>`, 'store and no-store: no-store wins', false, false],
    ["<body>hi</body><no-store xmlns='urn:example'/>", 'no-store in another namespace is not a hint', true, true],
  ];
  for (const [inner, what, permanent, offline] of cases) {
    it(`${what}: history ${permanent}, offline ${offline}`, () => {
      assert.equal(keepPermanently(msg(inner)), permanent);
      assert.equal(keepForOffline(msg(inner)), offline);
    });
  }

  it('reads the hints', () => {
    assert.deepEqual(storageHints(msg(`<store ${H}/><no-permanent-store ${H}/>`)), { store: true, noStore: false, noPermanentStore: true });
  });
});
