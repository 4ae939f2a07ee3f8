/*
 * Differential run (issues #11 and #12, "How to know it matches real servers"): every
 * scansion script that muc-seeds.test.ts runs against our cluster also runs against
 * reference Prosody 0.12 (Debian's `prosody` with ../shared/reference/prosody's config),
 * each script against a fresh private Prosody (startProsody: free ports, its own data), a
 * few at a time. Prosody's seed scripts must pass as they are. In our scripts, a step where
 * Prosody is known to behave differently carries a `# prosody-diverges: <reason>` (or
 * `-stop`, or `prosody-may-diverge`) comment naming the spec section (README.md,
 * "Differential run against Prosody"): the run fails when a step fails on Prosody without
 * one, and when a step marked `diverges` passes (the mark is stale).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prosodyInstalled, repoRoot, startProsody, type ProsodyServer } from '@parley/testkit';
import { parseScript } from '../lib/parse-script.js';
import { runScript, type RunOptions, type RunResult } from '../lib/run-script.js';

const SEEDS = join(repoRoot(), '..', 'shared', 'scansion', 'seeds');
const OURS = join(repoRoot(), 'test', 'scansion', 'scripts');
/** Scripts run at the same time, each against its own Prosody (mostly waiting on timers). */
const CONCURRENCY = 4;

const scripts = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.scs')).sort().map((f) => join(dir, f)) : []);

async function withProsody<T>(fn: (server: ProsodyServer) => Promise<T>): Promise<T> {
  const server = await startProsody();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

async function runOn(server: ProsodyServer, text: string, extra: Partial<RunOptions> = {}): Promise<RunResult> {
  return runScript(parseScript(text), { host: '127.0.0.1', ports: [server.c2sPort], prosody: true, ...extra });
}

test('Prosody is installed (npm test / npm run setup install Debian\'s prosody)', () => {
  assert.ok(prosodyInstalled(), 'prosody is not on PATH: run `npm run setup`');
  assert.ok(existsSync(join(repoRoot(), '..', 'shared', 'reference', 'prosody', 'prosody.cfg.lua')), 'the reference config ../shared/reference/prosody is missing');
});

test('the seed scripts are present beside the repository', () => {
  assert.ok(scripts(SEEDS).length >= 4, `expected Prosody's seed scripts in ${SEEDS}`);
});

describe('scripts against Prosody 0.12', { concurrency: CONCURRENCY }, () => {
  for (const file of [...scripts(SEEDS), ...scripts(OURS)]) {
    const seed = file.startsWith(SEEDS);
    test(`${seed ? 'seed' : 'ours'}: ${file.split('/').pop()}`, () =>
      withProsody(async (server) => {
        const text = readFileSync(file, 'utf8');
        const result = await runOn(server, text);
        // Only the divergences: the stanzas Prosody sends that a script skips are in the CLI's output.
        for (const w of result.warnings) if (/ diverged as marked /.test(w)) process.stderr.write(`    ${w}\n`);
        assert.equal(result.error, undefined, `${result.error}\n${server.output()}`);
        assert.equal(result.ok, true);
        // Every step marked `diverges` before the run ended did diverge (else `ok` is false).
        for (const d of result.divergences) if (d.directive.kind !== 'may-diverge') assert.notEqual(d.error, undefined, `line ${d.line}`);
        if (seed) assert.equal(parseScript(text).steps.filter((s) => s.prosody !== undefined).length, 0, 'seed scripts come from Prosody: they carry no directive');
      }),
    );
  }
});

/*
 * The directive semantics, on a small script against Prosody: Romeo sends Juliet a message
 * she then expects. STEP is replaced by the step(s) under test.
 */
const BASE = `# directive semantics
[Client] Romeo
\tjid: romeo@localhost/garden
\tpassword: password

[Client] Juliet
\tjid: juliet@localhost
\tpassword: password

-----

Romeo connects

Juliet connects

Romeo sends:
\t<message to="\${Juliet's full JID}" type="chat" id="m1"><body>Wherefore art thou?</body></message>

STEP
`;
const receives = (body: string) => `Juliet receives:\n\t<message from="\${Romeo's full JID}" type="chat"><body>${body}</body></message>\n`;
const script = (step: string) => BASE.replace('STEP', step);
const FAST = { receiveTimeoutMs: 700 };

describe('prosody directives in the runner', { concurrency: CONCURRENCY }, () => {
  test('a marked step that fails is recorded, and what it skipped is there for the next step', () =>
    withProsody(async (server) => {
      const r = await runOn(server, script(`# prosody-diverges: test reason\n${receives('Where art thou?')}\n${receives('Wherefore art thou?')}`), FAST);
      assert.equal(r.error, undefined);
      assert.equal(r.ok, true);
      assert.equal(r.divergences.length, 1);
      assert.equal(r.divergences[0]?.directive.reason, 'test reason');
      assert.match(r.divergences[0]?.error ?? '', /timed out waiting for[\s\S]*closest received: <message/);
      assert.ok(r.warnings.some((w) => /diverged as marked \(prosody-diverges, line \d+\): test reason/.test(w)));
    }));

  test('what a diverging step put back is left over for a following receives: nothing (a warning, not a failure)', () =>
    withProsody(async (server) => {
      const r = await runOn(server, script(`# prosody-diverges: test reason\n${receives('Where art thou?')}\nJuliet receives: nothing\n`), FAST);
      assert.equal(r.error, undefined);
      assert.equal(r.ok, true);
      assert.ok(r.warnings.some((w) => /^Juliet skipped: <message[\s\S]*Wherefore art thou\?/.test(w)), r.warnings.join('\n'));
    }));

  test('a step marked prosody-diverges that passes fails the run: the mark is stale', () =>
    withProsody(async (server) => {
      const r = await runOn(server, script(`# prosody-diverges: test reason\n${receives('Wherefore art thou?')}`), FAST);
      assert.equal(r.ok, false);
      assert.match(r.error ?? '', /passed, but line \d+ says prosody-diverges: test reason[\s\S]*stale/);
    }));

  test('a step marked prosody-may-diverge may pass', () =>
    withProsody(async (server) => {
      const r = await runOn(server, script(`# prosody-may-diverge: test reason\n${receives('Wherefore art thou?')}`), FAST);
      assert.equal(r.error, undefined);
      assert.equal(r.ok, true);
      assert.deepEqual(r.divergences.map((d) => d.error), [undefined]);
    }));

  test('prosody-diverges-stop ends the run there; an unmarked failure fails it', () =>
    withProsody(async (server) => {
      const stop = await runOn(server, script(`# prosody-diverges-stop: test reason\n${receives('Where art thou?')}\n${receives('never sent')}`), FAST);
      assert.equal(stop.error, undefined);
      assert.equal(stop.ok, true);
      assert.equal(stop.divergences.length, 1);
      const unmarked = await runOn(server, script(receives('Where art thou?')), FAST);
      assert.equal(unmarked.ok, false);
      assert.match(unmarked.error ?? '', /line \d+ \(Juliet receives\): timed out waiting for/);
    }));

  test('without the prosody option (our cluster), directives are ignored: the marked step must pass', () =>
    withProsody(async (server) => {
      const r = await runOn(server, script(`# prosody-diverges: test reason\n${receives('Where art thou?')}`), { ...FAST, prosody: false });
      assert.equal(r.ok, false);
      assert.match(r.error ?? '', /timed out waiting for/);
      assert.deepEqual(r.divergences, []);
    }));
});
