import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from 'ltx';
import { NS } from '@parley/xml';
import { answerIq, SERVER_FEATURES } from '../src/server/iq-handlers.js';

const query = (ns: string, name = 'query', attrs: Record<string, string> = {}) => new Element(name, { xmlns: ns, ...attrs });

test('the server answers disco#info with its identity and features (XEP-0030 §3.1)', () => {
  const answer = answerIq('get', query(NS.DISCO_INFO), { target: 'server', domain: 'localhost', node: undefined, mucDomain: 'conference.localhost' });
  assert.ok('payload' in answer && answer.payload);
  const identity = answer.payload.getChild('identity');
  assert.equal(identity?.attrs.category, 'server');
  assert.equal(identity?.attrs.type, 'im');
  const features = answer.payload.getChildren('feature').map((f) => f.attrs.var);
  assert.deepEqual(features, SERVER_FEATURES);
  assert.ok(features.includes(NS.PING));
});

test('an account answers disco#info as account/registered', () => {
  const answer = answerIq('get', query(NS.DISCO_INFO), { target: 'account', domain: 'localhost', node: undefined, mucDomain: 'conference.localhost' });
  assert.ok('payload' in answer);
  assert.equal(answer.payload?.getChild('identity')?.attrs.category, 'account');
});

test('an unknown disco node is item-not-found', () => {
  const answer = answerIq('get', query(NS.DISCO_INFO, 'query', { node: 'x', mucDomain: 'conference.localhost' }), { target: 'server', domain: 'localhost', node: 'x', mucDomain: 'conference.localhost' });
  assert.deepEqual(answer, { error: 'item-not-found' });
});

test('ping is an empty result (XEP-0199 §4.2)', () => {
  assert.deepEqual(answerIq('get', query(NS.PING, 'ping'), { target: 'server', domain: 'localhost', node: undefined, mucDomain: 'conference.localhost' }), {});
});

test('version names the software (XEP-0092)', () => {
  const answer = answerIq('get', query(NS.VERSION), { target: 'server', domain: 'localhost', node: undefined, mucDomain: 'conference.localhost' });
  assert.ok('payload' in answer);
  assert.equal(answer.payload?.getChildText('name'), 'parley');
  assert.match(answer.payload?.getChildText('version') ?? '', /^\d+\.\d+\.\d+/);
});

test('unknown namespaces, and set where only get is defined, are service-unavailable (RFC 6120 §8.4)', () => {
  const ctx = { target: 'server' as const, domain: 'localhost', node: undefined, mucDomain: 'conference.localhost' };
  assert.deepEqual(answerIq('get', query('urn:example:unknown'), ctx), { error: 'service-unavailable' });
  assert.deepEqual(answerIq('set', query(NS.VERSION), ctx), { error: 'service-unavailable' });
});

test('the server lists its MUC service among its disco#items (XEP-0045 §6.1); an account lists nothing', () => {
  const server = answerIq('get', query(NS.DISCO_ITEMS), { target: 'server', domain: 'localhost', node: undefined, mucDomain: 'conference.localhost' });
  assert.ok('payload' in server && server.payload);
  assert.deepEqual(server.payload.getChildren('item').map((i) => i.attrs.jid), ['conference.localhost']);
  const account = answerIq('get', query(NS.DISCO_ITEMS), { target: 'account', domain: 'localhost', node: undefined, mucDomain: 'conference.localhost' });
  assert.ok('payload' in account && account.payload);
  assert.equal(account.payload.getChildren('item').length, 0);
});
