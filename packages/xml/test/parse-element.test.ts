import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseElement, XmlError } from '@parley/xml';

test('defaultNs applies when the document declares no default namespace (RFC 7395 frames)', () => {
  const el = parseElement("<message to='a@example.com'><body>hi</body></message>", { defaultNs: 'jabber:client' });
  assert.equal(el.toString(), '<message xmlns="jabber:client" to="a@example.com"><body>hi</body></message>');
});

test('a declared default namespace wins over defaultNs', () => {
  const el = parseElement("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>", {
    defaultNs: 'jabber:client',
  });
  assert.equal(el.getNS(), 'urn:ietf:params:xml:ns:xmpp-framing');
  assert.equal(el.attrs.to, 'example.com');
});

test('without defaultNs an undeclared root has no xmlns', () => {
  assert.equal(parseElement('<a><b/></a>').toString(), '<a><b/></a>');
});

test('namespaces are normalised as in the stream parser', () => {
  const el = parseElement("<c:iq xmlns:c='jabber:client' type='get'><q:query xmlns:q='jabber:iq:version'/></c:iq>");
  assert.equal(
    el.toString(),
    '<iq xmlns="jabber:client" xmlns:c="jabber:client" type="get"><query xmlns="jabber:iq:version" xmlns:q="jabber:iq:version"/></iq>',
  );
});

test('an XML declaration, a byte order mark and surrounding whitespace are allowed', () => {
  assert.equal(parseElement("\uFEFF<?xml version='1.0'?>\n<a/>\n").name, 'a');
});

test('maxBytes counts UTF-8 bytes, not characters', () => {
  const xml = '<a>éé</a>'; // 9 characters, 11 bytes
  assert.equal(parseElement(xml, { maxBytes: 11 }).getText(), 'éé');
  assert.throws(
    () => parseElement(xml, { maxBytes: 10 }),
    (err: unknown) => err instanceof XmlError && err.condition === 'policy-violation',
  );
});

test('the default maxBytes is 256 KiB', () => {
  const body = 'a'.repeat(256 * 1024);
  assert.throws(
    () => parseElement(`<a>${body}</a>`),
    (err: unknown) => err instanceof XmlError && err.condition === 'policy-violation',
  );
  assert.equal(parseElement(`<a>${body.slice(7)}</a>`).getText().length, 256 * 1024 - 7);
});
