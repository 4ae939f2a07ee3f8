/*
 * Runs scansion scripts against a running server:
 *   node --import tsx test/scansion/cli.ts --host 127.0.0.1 --port 5222[,5223,...] [--prosody] <dir-or-files...>
 * `--prosody`: the server is reference Prosody 0.12; the scripts' `# prosody-...` directives
 * apply (marked steps are expected to fail there; see README.md). `--start-prosody`: start a
 * private Prosody 0.12 for the run (testkit startProsody: reference config, free ports),
 * implies `--prosody`, ignores `--host`/`--port`; its log is printed when a script fails.
 * The clients of each script are spread round-robin over the ports. Prints `PASS name` or
 * `FAIL name` with the difference, skipped stanzas (and divergences) indented as warnings,
 * then `N passed, M failed`; exits 1 if any script failed (2 on bad usage).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startProsody, type ProsodyServer } from '@parley/testkit';
import { parseScript } from './lib/parse-script.js';
import { runScript } from './lib/run-script.js';

const { values, positionals } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '5222' },
    prosody: { type: 'boolean', default: false },
    'start-prosody': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

const ports = values.port.split(',').map((p) => Number(p.trim()));
if (positionals.length === 0 || ports.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535)) {
  process.stderr.write('usage: cli.ts [--host 127.0.0.1] [--port 5222[,5223,...]] [--prosody | --start-prosody] <dir-or-file.scs...>\n');
  process.exit(2);
}

const files: string[] = [];
for (const arg of positionals) {
  if (statSync(arg).isDirectory()) {
    for (const name of readdirSync(arg).sort()) if (name.endsWith('.scs')) files.push(join(arg, name));
  } else files.push(arg);
}

let prosody: ProsodyServer | undefined;
if (values['start-prosody']) {
  prosody = await startProsody();
  process.stdout.write(`prosody started: c2s 127.0.0.1:${prosody.c2sPort}, ${prosody.dir}\n`);
}
const target = prosody ? { host: '127.0.0.1', ports: [prosody.c2sPort], prosody: true } : { host: values.host, ports, prosody: values.prosody };

let passed = 0;
let failed = 0;
for (const file of files) {
  const name = basename(file, '.scs');
  let result;
  try {
    result = await runScript(parseScript(readFileSync(file, 'utf8')), target);
  } catch (err) {
    result = { ok: false, error: err instanceof Error ? err.message : String(err), warnings: [], divergences: [] };
  }
  if (result.ok) passed++;
  else failed++;
  process.stdout.write(`${result.ok ? 'PASS' : 'FAIL'} ${name}\n`);
  if (!result.ok && result.error !== undefined) process.stdout.write(indent(result.error, '    ') + '\n');
  for (const w of result.warnings) process.stdout.write(indent(`warning: ${w}`, '    ') + '\n');
}
if (prosody) {
  if (failed > 0) process.stdout.write(prosody.output(100) + '\n');
  await prosody.stop();
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;

function indent(text: string, pad: string): string {
  return text.split('\n').map((l) => pad + l).join('\n');
}
