/** One line of live progress, e.g. `[ 12.0s] messaging  sent 2,000/s? deliv 20,000/s p50 0.81 ms p99 3.20 ms …`. */
import type { Progress } from './run-scenario.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** Formats a {@link Progress} report as one line (no newline). */
export function formatProgress(p: Progress): string {
  const head = `[${p.elapsedSec.toFixed(1).padStart(6)}s] ${p.phase.padEnd(11)}`;
  const errs = `errors ${int(p.stanzaErrors)} failures ${int(p.failures)} cpu ${Math.round(p.cpuPct)}%`;
  if (p.phase === 'login') return `${head} logged in ${int(p.loggedIn)}/${int(p.planned)}  ${errs}`;
  if (p.phase.startsWith('join') || p.phase === 'idle') return `${head} logged in ${int(p.loggedIn)} joined ${int(p.joined)}  ${errs}`;
  return `${head} sent ${int(p.sent)} delivered ${int(p.delivered)}/${int(p.expected)} (${int(p.deliveriesPerSec)}/s) dup ${int(p.duplicates)} p50 ${p.p50Ms.toFixed(2)} ms p99 ${p.p99Ms.toFixed(2)} ms  ${errs}`;
}
