import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@parley/testkit';
import { parseScript, ScriptSyntaxError } from '../lib/parse-script.js';
import { parseExpected } from '../lib/run-script.js';

const seeds = join(repoRoot(), '..', 'shared', 'scansion', 'seeds');
const ours = join(repoRoot(), 'test', 'scansion', 'scripts');

test('parses every seed script', { skip: existsSync(seeds) ? false : `${seeds} is absent (../shared not checked out)` }, () => {
  const files = readdirSync(seeds).filter((f) => f.endsWith('.scs'));
  assert.equal(files.length, 4);
  for (const file of files) {
    const script = parseScript(readFileSync(join(seeds, file), 'utf8'));
    assert.match(script.title, /^MUC: /, file);
    assert.ok(script.clients.length >= 2, file);
    assert.deepEqual(script.clients[0], { name: 'Romeo', jid: 'user@localhost', password: 'password' }, file);
    assert.equal(script.steps[0]?.action, 'connects', file);
    for (const step of script.steps) {
      assert.ok(script.clients.some((c) => c.name === step.client), `${file}:${step.line}`);
      if (step.action === 'sends' || step.action === 'receives') {
        assert.ok(step.xml?.startsWith('<'), `${file}:${step.line}`);
        // Every block is one well-formed element once variables are filled in.
        parseExpected((step.xml ?? '').replace(/\$\{[^}]+\}/g, 'x@localhost/r'));
      } else assert.equal(step.xml, undefined);
    }
  }
});

test('parses muc_password.scs step by step', { skip: existsSync(seeds) ? false : `${seeds} is absent` }, () => {
  const script = parseScript(readFileSync(join(seeds, 'muc_password.scs'), 'utf8'));
  assert.equal(script.title, 'MUC: Password-protected rooms');
  assert.deepEqual(script.clients.map((c) => c.name), ['Romeo', 'Juliet']);
  const first = script.steps.slice(0, 3);
  assert.deepEqual(first.map((s) => [s.client, s.action, s.line]), [['Romeo', 'connects', 13], ['Romeo', 'sends', 15], ['Romeo', 'receives', 20]]);
  assert.equal(first[1]?.xml, '<presence to="room@conference.localhost/Romeo">\n\t<x xmlns="http://jabber.org/protocol/muc"/>\n</presence>');
});

test('parses our own direct-message.scs', () => {
  const script = parseScript(readFileSync(join(ours, 'direct-message.scs'), 'utf8'));
  assert.equal(script.title, 'Direct messages and pings across gateways');
  assert.deepEqual(script.clients[0], { name: 'Romeo', jid: 'romeo@localhost/garden', password: 'password' });
  assert.deepEqual(script.steps.map((s) => s.action), ['connects', 'connects', 'sends', 'sends', 'receives', 'sends', 'receives', 'disconnects']);
});

test('optional keys, receives: nothing, comments and blank lines in blocks', () => {
  const script = parseScript(
    [
      '# T',
      '[Client] Ro Meo',
      '\tjid: a@localhost',
      '\tpassword: p',
      '\tconnect_host: 10.0.0.1',
      '\tconnect_port: 15222',
      '',
      '-----',
      '# c',
      'Ro Meo connects',
      'Ro Meo sends:',
      '\t<message>',
      '',
      '\t\t<body>${Ro Meo\'s JID}</body>',
      '\t</message>',
      '',
      'Ro Meo receives: nothing',
      'Ro Meo disconnects',
    ].join('\n'),
  );
  assert.deepEqual(script.clients, [{ name: 'Ro Meo', jid: 'a@localhost', password: 'p', connectHost: '10.0.0.1', connectPort: 15222 }]);
  assert.deepEqual(script.steps, [
    { client: 'Ro Meo', action: 'connects', line: 10 },
    { client: 'Ro Meo', action: 'sends', xml: "<message>\n\n\t<body>${Ro Meo's JID}</body>\n</message>", line: 11 },
    { client: 'Ro Meo', action: 'receives-nothing', line: 17 },
    { client: 'Ro Meo', action: 'disconnects', line: 18 },
  ]);
});

test('refuses malformed scripts with the line number', () => {
  const head = '[Client] Romeo\n\tjid: a@localhost\n\tpassword: p\n-----\n';
  assert.throws(() => parseScript(`${head}Juliet connects\n`), (e: unknown) => e instanceof ScriptSyntaxError && e.line === 5);
  assert.throws(() => parseScript(`${head}Romeo dances\n`), ScriptSyntaxError);
  assert.throws(() => parseScript(`${head}Romeo sends:\nRomeo disconnects\n`), /without an indented XML block/);
  assert.throws(() => parseScript('[Client] Romeo\n\tjid: a@localhost\n-----\n'), /needs jid and password/);
});

const HEADER = '# t\n\n[Client] Romeo\n\tjid: romeo@localhost\n\tpassword: p\n\n-----\n\nRomeo connects\n\n';

test('a # prosody-... directive marks the next step, with its kind, reason and line', () => {
  const script = parseScript(
    HEADER +
      '# prosody-diverges: XEP-0045 §10.2 says MUST\n# an ordinary comment in between\n\nRomeo receives:\n\t<presence/>\n\n' +
      '# prosody-may-diverge: XEP-0045 §7.2.3 order\nRomeo receives: nothing\n\n' +
      '# prosody-diverges-stop: not in Prosody 0.12\nRomeo disconnects\n',
  );
  assert.equal(script.steps[0]?.prosody, undefined);
  assert.deepEqual(script.steps[1]?.prosody, { kind: 'diverges', reason: 'XEP-0045 §10.2 says MUST', line: 11 });
  assert.equal(script.steps[1]?.line, 14);
  assert.deepEqual(script.steps[2]?.prosody, { kind: 'may-diverge', reason: 'XEP-0045 §7.2.3 order', line: 17 });
  assert.deepEqual(script.steps[3]?.prosody, { kind: 'diverges-stop', reason: 'not in Prosody 0.12', line: 20 });
});

test('a directive that is unknown, has no reason, is doubled or precedes no step is a syntax error', () => {
  const cases: [string, RegExp, number][] = [
    ['# prosody-diverge: typo\nRomeo disconnects\n', /unknown directive prosody-diverge/, 11],
    ['# prosody-diverges no colon\nRomeo disconnects\n', /unknown directive prosody-diverges/, 11],
    ['# prosody-diverges:\nRomeo disconnects\n', /needs a reason/, 11],
    ['# prosody-diverges: a\n# prosody-may-diverge: b\nRomeo disconnects\n', /second prosody directive .*line 11/, 12],
    ['Romeo disconnects\n# prosody-diverges: nothing after\n', /not followed by a step/, 12],
  ];
  for (const [tail, message, line] of cases) {
    assert.throws(
      () => parseScript(HEADER + tail),
      (err: unknown) => err instanceof ScriptSyntaxError && err.line === line && message.test(err.message),
      tail,
    );
  }
});

test('our scripts parse, directives included', () => {
  const files = readdirSync(ours).filter((f) => f.endsWith('.scs'));
  assert.ok(files.length > 0);
  for (const file of files) assert.ok(parseScript(readFileSync(join(ours, file), 'utf8')).steps.length > 0, file);
});
