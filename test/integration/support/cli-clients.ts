import { spawn, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { repoRoot } from '@parley/testkit';

/** Each client run is bounded, ms; then it is killed. */
export const CLIENT_RUN_TIMEOUT_MS = 30_000;

/** Debian's interpreter, where python3-slixmpp is installed (a pyenv `python3` on the PATH would not see it). */
export const PYTHON = process.env['PARLEY_PYTHON'] ?? '/usr/bin/python3';

/**
 * Runs a command-line client (go-sendxmpp, sendxmpp, …) with `input` on its stdin and `HOME`
 * set to `home` (so no user configuration file of the machine is read), killed after
 * {@link CLIENT_RUN_TIMEOUT_MS}. Asynchronous, so the test's event loop keeps reading its
 * other children's output meanwhile.
 * @returns the exit status (null when killed or not started) and stdout, stderr and any spawn error as one text
 */
export function runClient(bin: string, args: string[], input: string, home: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env: { ...process.env, HOME: home }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let error = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined); // the client may exit without reading it
    child.stdin.end(input);
    const timer = setTimeout(() => {
      error = `killed after ${CLIENT_RUN_TIMEOUT_MS} ms`;
      child.kill('SIGKILL');
    }, CLIENT_RUN_TIMEOUT_MS);
    child.once('error', (err) => (error = err.message));
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code, out: `${stdout}\n${stderr}${error ? `\n${error}` : ''}` });
    });
  });
}

/** What test/interop/slixmpp/tls_login.py reports. */
export interface SlixmppLogin {
  /** The session started (bound). */
  ok: boolean;
  /** The SASL mechanism that succeeded, or null. */
  mechanism: string | null;
  /** SASL failure conditions, in order. */
  failures: string[];
  /** The channel binding data slixmpp would send (base64), or null. */
  binding: string | null;
}

/**
 * One slixmpp login over STARTTLS to 127.0.0.1:`port` (test/interop/slixmpp/tls_login.py,
 * certificate not verified), bounded by {@link CLIENT_RUN_TIMEOUT_MS}.
 * @throws AssertionError when the driver itself fails (exit status non-zero), with its stderr
 */
export async function slixmppTlsLogin(opts: { jid: string; password: string; port: number; timeoutS?: number }): Promise<SlixmppLogin> {
  const config = JSON.stringify({ jid: opts.jid, password: opts.password, port: opts.port, timeout: opts.timeoutS ?? 15 });
  const r = await runClient(PYTHON, [join(repoRoot(), 'test', 'interop', 'slixmpp', 'tls_login.py'), config], '', process.env['HOME'] ?? '/tmp');
  assert.equal(r.status, 0, `slixmpp driver: ${r.out}`);
  const last = r.out.split('\n').filter((l) => l.startsWith('{')).pop();
  assert.ok(last, `slixmpp driver printed no result: ${r.out}`);
  return JSON.parse(last) as SlixmppLogin;
}

/**
 * Fails (never skips) unless go-sendxmpp, sendxmpp and Debian's python3 with slixmpp are
 * installed: `npm test` installs them (`scripts/bootstrap.mjs --with-sendxmpp --with-slixmpp`).
 */
export function assertInteropClientsInstalled(): void {
  for (const [bin, args] of [['go-sendxmpp', ['--version']], ['sendxmpp', ['--version']]] as const) {
    const r = spawnSync(bin, [...args], { encoding: 'utf8', timeout: 10_000 });
    assert.ok(!r.error, `${bin} is not installed (run \`node scripts/bootstrap.mjs --with-sendxmpp\`): ${r.error?.message}`);
  }
  const probe = spawnSync(PYTHON, ['-c', 'import slixmpp'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(probe.status, 0, `slixmpp is not importable by ${PYTHON} (run \`node scripts/bootstrap.mjs --with-slixmpp\`): ${probe.stderr}`);
}
