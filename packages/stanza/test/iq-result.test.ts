import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Element } from 'ltx';
import { iqPayload, iqResult } from '@parley/stanza';
import { parseElement } from '@parley/xml';

const GET = "<iq xmlns='jabber:client' from='a@example.com/r' to='muc.example.com' id='v1' type='get'><query xmlns='jabber:iq:version'/></iq>";

test('iqResult swaps to/from, keeps id and xmlns, and has no child by default', () => {
  assert.equal(
    iqResult(parseElement(GET)).toString(),
    '<iq xmlns="jabber:client" from="muc.example.com" to="a@example.com/r" id="v1" type="result"/>',
  );
});

test('iqResult carries the payload', () => {
  const payload = new Element('query', { xmlns: 'jabber:iq:version' }).c('name').t('parley').up();
  const result = iqResult(parseElement(GET), payload);
  assert.equal(
    result.toString(),
    '<iq xmlns="jabber:client" from="muc.example.com" to="a@example.com/r" id="v1" type="result"><query xmlns="jabber:iq:version"><name>parley</name></query></iq>',
  );
  assert.equal(iqPayload(result), payload);
});

test('iqResult refuses to answer a result, an error or a non-iq', () => {
  for (const xml of ["<iq type='result' id='1'/>", "<iq type='error' id='1'/>", "<message type='get'/>"]) {
    assert.throws(() => iqResult(parseElement(xml)), TypeError, xml);
  }
});

test('iqPayload returns the single child element, ignoring whitespace', () => {
  assert.equal(iqPayload(parseElement(GET))?.getNS(), 'jabber:iq:version');
  assert.equal(iqPayload(parseElement("<iq type='get'>\n  <ping xmlns='urn:xmpp:ping'/>\n</iq>"))?.getName(), 'ping');
});

test('iqPayload is undefined for no child or more than one', () => {
  assert.equal(iqPayload(parseElement("<iq type='get'/>")), undefined);
  assert.equal(iqPayload(parseElement("<iq type='get'>text</iq>")), undefined);
  assert.equal(iqPayload(parseElement("<iq type='set'><a/><b/></iq>")), undefined);
});
