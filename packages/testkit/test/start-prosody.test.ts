import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prosodyReferenceDir, startProsody, TestkitError } from '../src/index.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Opens a client stream to `localhost` (RFC 6120 §4.2) and resolves with what arrives until the features end. */
function streamFeatures(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    let got = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no stream features from ${port}: ${got}`));
    }, 5000);
    s.once('connect', () => s.write("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"));
    s.on('data', (d: Buffer) => {
      got += d.toString('utf8');
      if (got.includes('</stream:features>')) {
        clearTimeout(timer);
        s.destroy();
        resolve(got);
      }
    });
    s.once('error', reject);
  });
}

test('startProsody: parallel private Prosodys on their own ports, stop() ends them and removes their directory', async () => {
  const [a, b] = await Promise.all([startProsody(), startProsody()]);
  try {
    assert.notEqual(a.c2sPort, b.c2sPort);
    assert.notEqual(a.dir, b.dir);
    for (const p of [a, b]) {
      const features = await streamFeatures(p.c2sPort);
      assert.match(features, /<mechanism>PLAIN<\/mechanism>/, 'reference config: PLAIN without TLS');
      assert.match(p.output(), new RegExp(`Activated service 'c2s' on \\[127\\.0\\.0\\.1\\]:${p.c2sPort}`));
      assert.match(readFileSync(join(p.dir, 'prosody.cfg.lua'), 'utf8'), new RegExp(`^c2s_ports = \\{ ${p.c2sPort} \\}$`, 'm'));
      assert.ok(alive(p.pid));
    }
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  for (const p of [a, b]) {
    assert.equal(alive(p.pid), false);
    assert.equal(existsSync(p.dir), false);
    await assert.rejects(streamFeatures(p.c2sPort));
  }
});

test('startProsody: a reference config without the port lines is refused with PROSODY_START_FAILED', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-prosody-ref-'));
  try {
    const config = readFileSync(join(prosodyReferenceDir(), 'prosody.cfg.lua'), 'utf8').replace(/^c2s_ports.*$/m, '');
    writeFileSync(join(dir, 'prosody.cfg.lua'), config);
    await assert.rejects(startProsody({ referenceDir: dir }), (err: unknown) => err instanceof TestkitError && err.code === 'PROSODY_START_FAILED' && /c2s_ports/.test(err.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
