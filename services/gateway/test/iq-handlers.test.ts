import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { parseJid } from '@parley/jid';
import { NS } from '@parley/xml';
import { coreIqHandlers, type IqContext } from '../src/server/iq-handlers.js';

const query = (ns: string, name = 'query', attrs: Record<string, string> = {}) => new Element(name, { xmlns: ns, ...attrs });

function ctx(target: 'server' | 'account', node?: string): IqContext {
  const from = parseJid('alice@localhost/phone');
  const to = parseJid(target === 'server' ? 'localhost' : 'bob@localhost');
  return { target, domain: 'localhost', node, mucDomain: 'conference.localhost', from, to, self: false, iq: new Element('iq', { type: 'get', id: '1' }) };
}

test('the server answers disco#info with its identity and every feature it answers (XEP-0030 §3.1)', async () => {
  const table = coreIqHandlers();
  const answer = await table.answer('get', query(NS.DISCO_INFO), ctx('server'));
  assert.ok('payload' in answer && answer.payload);
  const identity = answer.payload.getChild('identity');
  assert.equal(identity?.attrs.category, 'server');
  assert.equal(identity?.attrs.type, 'im');
  const features: string[] = answer.payload.getChildren('feature').map((f) => String(f.attrs.var));
  assert.deepEqual(features, [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.PING, NS.VERSION, 'msgoffline'].sort());
});

test('an account answers disco#info as account/registered, listing what is answered for it', async () => {
  const answer = await coreIqHandlers(async () => true).answer('get', query(NS.DISCO_INFO), ctx('account'));
  assert.ok('payload' in answer && answer.payload);
  assert.equal(answer.payload.getChild('identity')?.attrs.category, 'account');
  const features: string[] = answer.payload.getChildren('feature').map((f) => String(f.attrs.var));
  assert.ok(!features.includes(NS.VERSION), 'version is the server’s only');
  assert.deepEqual(features, [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.PING].sort());
});

test('a registered handler is advertised and answered only where it was registered', async () => {
  const table = coreIqHandlers().on('get', 'urn:example:x', 'query', ['account'], () => ({})).feature('urn:example:x', ['account']);
  assert.deepEqual(await table.answer('get', query('urn:example:x'), ctx('account')), {});
  assert.deepEqual(await table.answer('get', query('urn:example:x'), ctx('server')), { error: 'service-unavailable' });
  assert.ok(table.featuresOf('account').includes('urn:example:x'));
  assert.ok(!table.featuresOf('server').includes('urn:example:x'));
  assert.throws(() => table.on('get', 'urn:example:x', 'query', ['server'], () => ({})), /twice/);
});

test('an account is discoverable by itself and by whom the guard allows; others get service-unavailable', async () => {
  const asked: Array<[string, string]> = [];
  const table = coreIqHandlers(async (owner, requester) => {
    asked.push([owner, requester]);
    return requester === 'carol@localhost';
  });
  for (const ns of [NS.DISCO_INFO, NS.DISCO_ITEMS]) {
    assert.deepEqual(await table.answer('get', query(ns), ctx('account')), { error: 'service-unavailable' });
    const own = await table.answer('get', query(ns), { ...ctx('account'), from: parseJid('bob@localhost/pc'), self: true });
    assert.ok('payload' in own && own.payload, 'the account itself');
    const contact = await table.answer('get', query(ns), { ...ctx('account'), from: parseJid('carol@localhost/pc') });
    assert.ok('payload' in contact && contact.payload, 'a contact the guard allows');
  }
  assert.deepEqual(asked[0], ['bob@localhost', 'alice@localhost']);
  const server = await table.answer('get', query(NS.DISCO_INFO), ctx('server'));
  assert.ok('payload' in server, 'the server is discoverable by anyone');
});

test('an unknown disco node is item-not-found', async () => {
  assert.deepEqual(await coreIqHandlers().answer('get', query(NS.DISCO_INFO, 'query', { node: 'x' }), ctx('server', 'x')), { error: 'item-not-found' });
});

test('ping is an empty result (XEP-0199 §4.2)', async () => {
  assert.deepEqual(await coreIqHandlers().answer('get', query(NS.PING, 'ping'), ctx('server')), {});
});

test('version names the software (XEP-0092)', async () => {
  const answer = await coreIqHandlers().answer('get', query(NS.VERSION), ctx('server'));
  assert.ok('payload' in answer);
  assert.equal(answer.payload?.getChildText('name'), 'parley');
  assert.match(answer.payload?.getChildText('version') ?? '', /^\d+\.\d+\.\d+/);
});

test('unknown namespaces, and set where only get is defined, are service-unavailable (RFC 6120 §8.4)', async () => {
  const table = coreIqHandlers();
  assert.deepEqual(await table.answer('get', query('urn:example:unknown'), ctx('server')), { error: 'service-unavailable' });
  assert.deepEqual(await table.answer('set', query(NS.VERSION), ctx('server')), { error: 'service-unavailable' });
  assert.deepEqual(await table.answer('get', query(NS.VERSION), ctx('account')), { error: 'service-unavailable' });
});

test('the server lists its MUC service among its disco#items (XEP-0045 §6.1); an account lists nothing', async () => {
  const table = coreIqHandlers();
  const server = await table.answer('get', query(NS.DISCO_ITEMS), ctx('server'));
  assert.ok('payload' in server && server.payload);
  assert.deepEqual(server.payload.getChildren('item').map((i) => i.attrs.jid), ['conference.localhost']);
  const account = await table.answer('get', query(NS.DISCO_ITEMS), { ...ctx('account'), self: true });
  assert.ok('payload' in account && account.payload);
  assert.equal(account.payload.getChildren('item').length, 0);
});
