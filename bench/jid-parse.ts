// parseJid throughput on typical and international JIDs.
// Run: node --import tsx bench/jid-parse.ts
import { parseJid } from '../packages/jid/src/index.js';

const INPUTS = [
  'juliet@example.com/balcony',
  'Juliet@Example.COM',
  'room@conference.localhost/Nick Name',
  'élodie@bücher.de/tél',
  'ＪＵＬＩＥＴ@xn--bcher-kva.de/\u00A0x',
];
const ROUNDS = 200_000;

for (const input of INPUTS) {
  for (let i = 0; i < 10_000; i++) parseJid(input); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) parseJid(input);
  const ns = Number(process.hrtime.bigint() - start) / ROUNDS;
  console.log(`${ns.toFixed(0).padStart(6)} ns/op  ${JSON.stringify(input)}`);
}
