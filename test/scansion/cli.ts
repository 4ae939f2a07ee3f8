/*
 * Runs scansion scripts against a running server:
 *   node --import tsx test/scansion/cli.ts --host 127.0.0.1 --port 5222[,5223,...] <dir-or-files...>
 * The clients of each script are spread round-robin over the ports. Prints `PASS name` or
 * `FAIL name` with the difference, skipped stanzas indented as warnings, then
 * `N passed, M failed`; exits 1 if any script failed (2 on bad usage).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseScript } from './lib/parse-script.js';
import { runScript } from './lib/run-script.js';

const { values, positionals } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '5222' },
  },
  allowPositionals: true,
});

const ports = values.port.split(',').map((p) => Number(p.trim()));
if (positionals.length === 0 || ports.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535)) {
  process.stderr.write('usage: cli.ts [--host 127.0.0.1] [--port 5222[,5223,...]] <dir-or-file.scs...>\n');
  process.exit(2);
}

const files: string[] = [];
for (const arg of positionals) {
  if (statSync(arg).isDirectory()) {
    for (const name of readdirSync(arg).sort()) if (name.endsWith('.scs')) files.push(join(arg, name));
  } else files.push(arg);
}

let passed = 0;
let failed = 0;
for (const file of files) {
  const name = basename(file, '.scs');
  let result;
  try {
    result = await runScript(parseScript(readFileSync(file, 'utf8')), { host: values.host, ports });
  } catch (err) {
    result = { ok: false, error: err instanceof Error ? err.message : String(err), warnings: [] };
  }
  if (result.ok) passed++;
  else failed++;
  process.stdout.write(`${result.ok ? 'PASS' : 'FAIL'} ${name}\n`);
  if (!result.ok && result.error !== undefined) process.stdout.write(indent(result.error, '    ') + '\n');
  for (const w of result.warnings) process.stdout.write(indent(`warning: ${w}`, '    ') + '\n');
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed > 0 ? 1 : 0;

function indent(text: string, pad: string): string {
  return text.split('\n').map((l) => pad + l).join('\n');
}
