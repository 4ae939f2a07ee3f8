// The public id of a deletion (`delete-user:<jid>`) and BullMQ's (which may not contain `:`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteUserJobId, internalJobId, publicJobId } from '../src/job-id.js';
import { delayStamp } from '../src/offline-trim.js';

test('deletion ids map to BullMQ ids without colons and back', () => {
  for (const jid of ['alice@localhost', 'a%b@[::1]', 'x%3Ay@example.org']) {
    const id = deleteUserJobId(jid);
    assert.equal(id, `delete-user:${jid}`);
    const internal = internalJobId(id);
    assert.ok(!internal.includes(':'), internal);
    assert.equal(publicJobId(internal), id);
  }
  for (const other of ['17', 'repeat:cleanup-offline:1700000000000']) {
    assert.equal(internalJobId(other), other);
    assert.equal(publicJobId(other), other);
  }
});

test('delayStamp reads the last top-level XEP-0203 delay', () => {
  const xml = "<message xmlns='jabber:client'><delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/><delay xmlns='urn:xmpp:delay' stamp='2021-01-01T00:00:00.000Z'/></message>";
  assert.equal(delayStamp(xml), Date.parse('2021-01-01T00:00:00Z'));
  assert.equal(delayStamp("<message xmlns='jabber:client'><body>x</body></message>"), undefined);
  assert.equal(delayStamp("<message xmlns='jabber:client'><delay xmlns='urn:xmpp:delay' stamp='soon'/></message>"), undefined);
  assert.equal(delayStamp('<message'), undefined);
});
