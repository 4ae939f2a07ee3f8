/**
 * A self-contained HTML report of a {@link LoadResult}: a summary table and inline SVG plots
 * (delivery latency p50/p99/max per second on a log scale; deliveries/s and sends/s;
 * generator CPU). No script, no external resource: it opens offline.
 */
import type { LatencySummary } from './histogram.js';
import type { LoadResult, TimelinePoint } from './result.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 3 });

interface Series {
  name: string;
  color: string;
  values: number[];
}

/** A line chart of `series` over `t`, 720×240 px; `log` for a log10 y axis. */
function chart(title: string, unit: string, t: number[], series: Series[], opts: { log?: boolean; shadeUntil?: number } = {}): string {
  const W = 720;
  const H = 240;
  const L = 64;
  const R = 12;
  const T = 28;
  const B = 32;
  const xs = t.length ? t : [0];
  const xMax = Math.max(1, ...xs) + 1;
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  const positive = all.filter((v) => v > 0);
  const log = opts.log === true && positive.length > 0;
  const yMinRaw = log ? Math.min(...positive) : 0;
  const yMaxRaw = Math.max(log ? yMinRaw * 10 : 1, ...all);
  const yMin = log ? 10 ** Math.floor(Math.log10(yMinRaw)) : 0;
  const yMax = log ? 10 ** Math.ceil(Math.log10(yMaxRaw)) : niceCeil(yMaxRaw);
  const fy = (v: number) => {
    const f = log ? (Math.log10(Math.max(v, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1) : v / (yMax || 1);
    return T + (H - T - B) * (1 - f);
  };
  const fx = (x: number) => L + ((W - L - R) * (x + 0.5)) / xMax;
  const ticks: number[] = [];
  if (log) for (let v = yMin; v <= yMax * 1.0001; v *= 10) ticks.push(v);
  else for (let i = 0; i <= 4; i++) ticks.push((yMax * i) / 4);
  const grid = ticks
    .map((v) => `<line x1="${L}" x2="${W - R}" y1="${fy(v).toFixed(1)}" y2="${fy(v).toFixed(1)}" stroke="#ddd"/><text x="${L - 6}" y="${(fy(v) + 4).toFixed(1)}" text-anchor="end">${num(v)}</text>`)
    .join('');
  const xStep = Math.max(1, Math.ceil(xMax / 12));
  const xTicks: string[] = [];
  for (let x = 0; x < xMax; x += xStep) xTicks.push(`<text x="${fx(x).toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${x}</text>`);
  const shade =
    opts.shadeUntil && opts.shadeUntil > 0
      ? `<rect x="${L}" y="${T}" width="${(fx(opts.shadeUntil - 0.5) - L).toFixed(1)}" height="${H - T - B}" fill="#f3f3f3"/><text x="${L + 4}" y="${T + 12}" fill="#999">warm-up</text>`
      : '';
  const lines = series
    .map((s) => {
      const pts = s.values.map((v, i) => `${fx(xs[i] ?? i).toFixed(1)},${fy(v).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${s.color}" stroke-width="1.6" points="${pts}"/>`;
    })
    .join('');
  const legend = series.map((s, i) => `<text x="${L + 8 + i * 110}" y="${T - 10}" fill="${s.color}">■ ${esc(s.name)}</text>`).join('');
  return `<figure><figcaption>${esc(title)} (${esc(unit)}${log ? ', log scale' : ''}; x: seconds since sending started)</figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-size="11" font-family="sans-serif">
${shade}${grid}${xTicks.join('')}<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#888"/><line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#888"/>${lines}${legend}
</svg></figure>`;
}

function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function latencyRow(name: string, s: LatencySummary): string {
  return `<tr><th>${esc(name)}</th><td>${num(s.count)}</td><td>${num(s.p50Ms)}</td><td>${num(s.p90Ms)}</td><td>${num(s.p99Ms)}</td><td>${num(s.p999Ms)}</td><td>${num(s.maxMs)}</td></tr>`;
}

const kv = (rows: [string, string | number][]) => `<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'number' ? num(v) : v)}</td></tr>`).join('')}</table>`;

/** Renders the report as one HTML document. */
export function renderHtml(r: LoadResult): string {
  const tl: TimelinePoint[] = r.timeline;
  const t = tl.map((p) => p.t);
  const m = r.messages;
  const verdict = r.ok ? '<p class="ok">PASS: every expected delivery arrived exactly once; no failures.</p>' : `<p class="fail">FAIL: ${r.reasons.map(esc).join('; ')}</p>`;
  const counts = (o: Record<string, number>) => (Object.keys(o).length ? Object.entries(o).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${num(v)}</td></tr>`).join('') : '<tr><td>none</td></tr>');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>loadgen: ${esc(r.scenario.name)}</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:60em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f6f6f6;text-align:left}
.ok{color:#060;font-weight:bold}.fail{color:#a00;font-weight:bold}figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:4px}
</style></head><body>
<h1>${esc(r.scenario.name)}</h1>
<p>${esc(r.scenario.description ?? '')}</p>
${verdict}
<p>Run ${esc(r.runId)}, ${esc(r.startedAt)} → ${esc(r.finishedAt)}; ${esc(r.transport)} to ${esc(r.targets.join(', '))}; ${r.workers} worker thread(s).</p>
<h2>Summary</h2>
${kv([
  ['clients planned / logged in / joined', `${num(r.clients.planned)} / ${num(r.clients.loggedIn)} / ${num(r.clients.joined)}`],
  ['rooms created', r.clients.roomsCreated],
  ['logins/s', r.logins.perSec],
  ['join storm (ms, clients)', r.joins.stormMs === null ? 'n/a (ramp)' : `${num(r.joins.stormMs)} ms, ${num(r.joins.stormClients)} clients`],
  ['senders × rate', `${num(m.senders)} × ${num(m.ratePerSender)}/s, ${num(r.scenario.messages.bodyBytes)}-byte bodies`],
  ['warm-up / measured', `${num(m.warmupSec)} s / ${num(m.durationSec)} s`],
  ['sent', m.sent],
  ['expected deliveries (sent × occupants)', m.expected],
  ['delivered (distinct)', m.delivered],
  ['lost', m.lost],
  ['duplicates', m.duplicates],
  ['deliveries/s (measured window)', m.deliveriesPerSec],
  ['generator CPU, messaging (% of one core; cores)', `${num(r.generator.messagingCpuPctOfOneCore)}% (${r.generator.cores} cores)`],
  ['generator peak worker event-loop use', r.generator.peakWorkerElu],
  ['generator saturated?', r.generator.saturated ? `YES: ${r.generator.saturationNote ?? ''}; the figures may measure the generator` : 'no'],
  ['phases (ms)', Object.entries(r.phasesMs).map(([k, v]) => `${k} ${num(v)}`).join(', ')],
])}
<h2>Latency (ms)</h2>
<table><tr><th></th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>
${latencyRow('groupchat delivery (after warm-up)', m.latency)}${latencyRow('connect', r.logins.connect)}${latencyRow('login', r.logins.login)}${latencyRow('join', r.joins.latency)}</table>
${tl.length ? chart('Delivery latency per second', 'ms', t, [
  { name: 'p50', color: '#1f77b4', values: tl.map((p) => p.p50Ms) },
  { name: 'p99', color: '#d62728', values: tl.map((p) => p.p99Ms) },
  { name: 'max', color: '#999', values: tl.map((p) => p.maxMs) },
], { log: true, shadeUntil: m.warmupSec }) : ''}
${tl.length ? chart('Throughput', 'per second', t, [
  { name: 'deliveries/s', color: '#2ca02c', values: tl.map((p) => p.deliveries) },
  { name: 'sent/s', color: '#ff7f0e', values: tl.map((p) => p.sent) },
], { shadeUntil: m.warmupSec }) : ''}
${tl.length ? chart('Generator CPU', '% of one core', t, [{ name: 'cpu', color: '#9467bd', values: tl.map((p) => p.cpuPct) }], { shadeUntil: m.warmupSec }) : ''}
<h2>Errors</h2>
<table><tr><th colspan="2">client failures by phase</th></tr>${counts(r.errors.failures)}</table>
<table><tr><th colspan="2">stanza errors by condition</th></tr>${counts(r.errors.stanza)}</table>
<p>Misrouted deliveries: ${num(r.errors.misrouted)}</p>
<h2>Scenario</h2>
<pre>${esc(JSON.stringify(r.scenario, null, 2))}</pre>
</body></html>
`;
}
