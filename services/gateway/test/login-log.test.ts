// The fields of the `authentication failed` log line (issue #14 item 4).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { failedLoginFields, MAX_LOGGED_USERNAME_CHARS } from '../src/session/login-log.js';

test('condition, username and address; unknown ones are left out', () => {
  assert.deepEqual(failedLoginFields('not-authorized', 'alice', '192.0.2.7'), { condition: 'not-authorized', username: 'alice', address: '192.0.2.7' });
  assert.deepEqual(failedLoginFields('incorrect-encoding', undefined, '?'), { condition: 'incorrect-encoding' });
  assert.deepEqual(failedLoginFields('aborted', '', undefined), { condition: 'aborted', username: '' });
});

test('the username is cut to 256 code points, never inside a surrogate pair', () => {
  assert.equal(MAX_LOGGED_USERNAME_CHARS, 256);
  assert.equal(failedLoginFields('not-authorized', 'a'.repeat(10_000), undefined).username, 'a'.repeat(256));
  const emoji = '😀'.repeat(300);
  const cut = failedLoginFields('not-authorized', emoji, undefined).username!;
  assert.equal([...cut].length, 256);
  assert.equal(cut, '😀'.repeat(256));
  assert.equal(failedLoginFields('not-authorized', 'a'.repeat(256), undefined).username, 'a'.repeat(256));
});

test('written through a session-like child logger: one JSON line, a string username, no duplicate keys', () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(...String(chunk).split('\n').filter(Boolean)); done(); } });
  const base = pino({ base: { pid: 1, service: 'gateway' } }, sink);
  const log = base.child({ sessionId: 's1', transport: 'tcp', remote: '192.0.2.7:5555' });
  // A hostile name: quotes, a newline, a JSON fragment trying to add a key.
  log.info(failedLoginFields('not-authorized', 'eve"\n,"address":"10.0.0.1', '192.0.2.7'), 'authentication failed');
  assert.equal(lines.length, 1);
  const keys = [...lines[0]!.matchAll(/"([A-Za-z]+)":/g)].map((m) => m[1]);
  // Only the top-level keys: everything below is a flat object.
  assert.deepEqual(keys.filter((k, i) => keys.indexOf(k) !== i), [], `no repeated key in ${lines[0]}`);
  const obj = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(obj.username, 'eve"\n,"address":"10.0.0.1');
  assert.equal(obj.address, '192.0.2.7');
  assert.equal(obj.remote, '192.0.2.7:5555');
  assert.equal(obj.msg, 'authentication failed');
  // The fail2ban pattern of docs/operations.md finds the real address, not the forged one.
  const f2b = [...lines[0]!.matchAll(/"address":"([^"]+)","msg":"authentication failed"/g)].map((m) => m[1]);
  assert.deepEqual(f2b, ['192.0.2.7']);
  lines.length = 0;
  log.info(failedLoginFields('not-authorized', 'x","address":"10.0.0.1","msg":"authentication failed', '192.0.2.8'), 'authentication failed');
  assert.deepEqual([...lines[0]!.matchAll(/"address":"([^"]+)","msg":"authentication failed"/g)].map((m) => m[1]), ['192.0.2.8']);
});
