// A session's logger made at its first line written (issue #15): the same lines as a pino
// child made up front, and no child while nothing is written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { SessionLog } from '../src/session/session-log.js';

function sinkLogger(level: string): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  // A fixed time: lines of the two loggers compare equal.
  return { log: pino({ level, base: { pid: 1, service: 'gateway' }, timestamp: () => ',"time":1' }, sink), lines };
}

test('writes what a child with the same bindings writes, at every level, with and without a JID', () => {
  const eager = sinkLogger('debug');
  const lazy = sinkLogger('debug');
  for (const jid of [undefined, 'alice@localhost/balcony']) {
    const bindings: Record<string, string> = { sessionId: 's1', transport: 'tcp', remote: '192.0.2.7:5555' };
    if (jid !== undefined) bindings.jid = jid;
    const child = eager.log.child(bindings);
    const mine = new SessionLog(lazy.log, 's1', 'tcp', '192.0.2.7:5555', jid);
    child.debug('connected');
    mine.debug('connected');
    child.info({ condition: 'not-authorized', username: 'a"b' }, 'authentication failed');
    mine.info({ condition: 'not-authorized', username: 'a"b' }, 'authentication failed');
    child.warn({ err: new Error('boom') }, 'session cleanup failed');
    mine.warn({ err: new Error('boom') }, 'session cleanup failed');
    child.error('session handler failed');
    mine.error('session handler failed');
  }
  assert.equal(lazy.lines.length, 8);
  // Error stacks differ by line number; everything else is the same.
  const strip = (l: string) => l.replace(/"stack":"[^"]*"/, '"stack":""');
  assert.deepEqual(lazy.lines.map(strip), eager.lines.map(strip));
  assert.match(lazy.lines[7]!, /"jid":"alice@localhost\/balcony"/);
  assert.doesNotMatch(lazy.lines[0]!, /"jid"/);
});

test('makes no child logger while its lines are below the level, one child after', () => {
  const { log, lines } = sinkLogger('warn');
  let children = 0;
  const counting = new Proxy(log, {
    get(target, prop, receiver) {
      if (prop === 'child') return (...args: Parameters<Logger['child']>) => (children++, target.child(...args));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const mine = new SessionLog(counting, 's2', 'websocket', '[::1]:1', 'bob@localhost');
  mine.debug('connected');
  mine.info('authenticated');
  assert.equal(children, 0);
  assert.equal(lines.length, 0);
  mine.warn({ clientH: 3 }, 'the client acknowledged more than the dead gateway recorded');
  mine.error('session handler failed');
  assert.equal(children, 1);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /"sessionId":"s2","transport":"websocket","remote":"\[::1\]:1","jid":"bob@localhost","clientH":3/);
});
