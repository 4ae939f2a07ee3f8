// Linear-time check for @parley/xml's StreamParser: feeds one unterminated token of
// 256 KiB (and 1 MiB, to compare) in 16-byte chunks and prints the time taken.
// Run: node --import tsx bench/xml-parser.ts
// Quadratic behaviour (re-concatenating the partial token on every chunk) would make the
// 1 MiB case about 16x slower than the 256 KiB one instead of about 4x.
import { StreamParser } from '../packages/xml/src/index.js';

const HEADER =
  "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";
const CHUNK_BYTES = 16;

const TOKENS: Record<string, (n: number) => string> = {
  'tag name': (n) => `<m${'a'.repeat(n)}`,
  'attribute value': (n) => `<message to='${'a'.repeat(n)}`,
  'text': (n) => `<message><body>${'a'.repeat(n)}`,
  'CDATA': (n) => `<message><body><![CDATA[${'a'.repeat(n)}`,
};

function run(token: string): number {
  let failed = false;
  const parser = new StreamParser(
    {
      onStreamStart: () => {},
      onElement: () => {},
      onStreamEnd: () => {},
      onError: () => {
        failed = true;
      },
    },
    { maxStanzaBytes: 4 * 1024 * 1024, maxDepth: 32 },
  );
  parser.write(HEADER);
  const bytes = Buffer.from(token, 'utf8');
  const start = process.hrtime.bigint();
  for (let i = 0; i < bytes.length; i += CHUNK_BYTES) parser.write(bytes.subarray(i, i + CHUNK_BYTES));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (failed) throw new Error('parser refused the input; the bench measures nothing');
  return ms;
}

for (const [name, make] of Object.entries(TOKENS)) {
  run(make(64 * 1024)); // warm-up
  const small = run(make(256 * 1024));
  const large = run(make(1024 * 1024));
  console.log(
    `${name.padEnd(16)} 256 KiB: ${small.toFixed(1).padStart(7)} ms   1 MiB: ${large.toFixed(1).padStart(7)} ms   ratio ${(large / small).toFixed(1)}`,
  );
}
