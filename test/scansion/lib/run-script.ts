/*
 * Runs one parsed scansion script against a server (../shared/scansion/README.md):
 * `receives:` takes this client's stanzas in arrival order until one matches (the others
 * are skipped and reported as warnings), failing after RECEIVE_TIMEOUT_MS; `receives:
 * nothing` fails if a stanza arrives within NOTHING_WINDOW_MS; `disconnects` closes the stream.
 */
import { parseElement } from '@parley/xml';
import type { Element } from 'ltx';
import { ScansionClient, type Received } from './client.js';
import { matches } from './match.js';
import type { ProsodyDivergence, Script, ScriptClient, ScriptStep } from './parse-script.js';

/** How long `receives:` waits for a matching stanza, ms. */
export const RECEIVE_TIMEOUT_MS = 3000;
/** How long `receives: nothing` listens, ms. */
export const NOTHING_WINDOW_MS = 1000;
const SCANSION_NS = 'https://matthewwild.co.uk/projects/scansion';

/** Where the clients connect: client i of the script uses `ports[i % ports.length]`. */
export interface RunOptions {
  host: string;
  ports: number[];
  receiveTimeoutMs?: number;
  nothingWindowMs?: number;
  /**
   * The server is reference Prosody 0.12: honour the steps' `# prosody-...` directives
   * (see {@link ProsodyDivergence}). A marked step that fails is recorded in
   * {@link RunResult.divergences} and the run goes on (the stanzas it skipped while waiting
   * are put back) or, for `diverges-stop`, ends there as a pass; a step marked `diverges`
   * or `diverges-stop` that passes fails the run (the directive is stale). Default false:
   * directives are ignored and every step must pass.
   */
  prosody?: boolean;
}

/** What a step marked with a `# prosody-...` directive did in a run with {@link RunOptions.prosody}. */
export interface DivergenceOutcome {
  /** Line of the step. */
  line: number;
  directive: ProsodyDivergence;
  /** The step's failure (it diverged), or undefined when it passed. */
  error?: string;
}

/** Outcome of one script. */
export interface RunResult {
  ok: boolean;
  /** On failure: the step, and expected vs the closest received stanza. */
  error?: string;
  /** Stanzas skipped by `receives:` (not failures, but each should be one the XEPs call for). */
  warnings: string[];
  /** With {@link RunOptions.prosody}: every marked step that ran, in order. */
  divergences: DivergenceOutcome[];
}

/** Runs `script`; never throws (every failure is in the result). Closes its clients. */
export async function runScript(script: Script, opts: RunOptions): Promise<RunResult> {
  const warnings: string[] = [];
  const divergences: DivergenceOutcome[] = [];
  const clients = new Map<string, ScansionClient>();
  /** Full JID each client bound on its latest connection. */
  const boundJids = new Map<string, string>();
  const configs = new Map(script.clients.map((c, i) => [c.name, { config: c, index: i }]));
  try {
    for (const [index, step] of script.steps.entries()) {
      for (const c of clients.values()) c.step = index;
      const marked = opts.prosody === true ? step.prosody : undefined;
      const error = await runStep(step, index, marked !== undefined);
      const where = `line ${step.line} (${step.client} ${step.action})`;
      if (marked === undefined) {
        if (error !== undefined) return { ok: false, error: `${where}: ${error}`, warnings, divergences };
        continue;
      }
      divergences.push(error === undefined ? { line: step.line, directive: marked } : { line: step.line, directive: marked, error });
      if (error === undefined) {
        if (marked.kind === 'may-diverge') continue;
        return {
          ok: false,
          error: `${where}: passed, but line ${marked.line} says prosody-${marked.kind}: ${marked.reason}\n  the directive is stale: remove it (or fix the step)`,
          warnings,
          divergences,
        };
      }
      warnings.push(`${where} diverged as marked (prosody-${marked.kind}, line ${marked.line}): ${marked.reason}\n  ${error.split('\n').join('\n  ')}`);
      if (marked.kind === 'diverges-stop') return { ok: true, warnings, divergences };
    }
    return { ok: true, warnings, divergences };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), warnings, divergences };
  } finally {
    for (const c of clients.values()) c.destroy();
  }

  /** Runs one step; `mayFail`: a failing `receives` puts back what it took (the run goes on after it). */
  async function runStep(step: ScriptStep, index: number, mayFail: boolean): Promise<string | undefined> {
    const entry = configs.get(step.client);
    if (entry === undefined) return `unknown client ${step.client}`;
    const client = clients.get(step.client);
    if (step.action === 'connects') {
      if (client !== undefined) return 'already connected';
      const port = entry.config.connectPort ?? opts.ports[entry.index % opts.ports.length];
      if (port === undefined) return 'no port to connect to';
      try {
        const c = await ScansionClient.connect({ host: entry.config.connectHost ?? opts.host, port, jid: entry.config.jid, password: entry.config.password });
        c.step = index;
        clients.set(step.client, c);
        boundJids.set(step.client, c.jid);
      } catch (err) {
        return `connect failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      return undefined;
    }
    if (client === undefined) return 'not connected';
    switch (step.action) {
      case 'disconnects':
        await client.disconnect();
        clients.delete(step.client);
        return undefined;
      case 'sends': {
        const xml = substitute(step.xml ?? '');
        if (client.closed) return `cannot send, ${client.closeReason}`;
        client.send(xml);
        return undefined;
      }
      case 'receives': {
        const expected = parseExpected(substitute(step.xml ?? ''));
        return receive(step.client, client, expected, mayFail);
      }
      case 'receives-nothing': {
        // Stanzas queued before the previous step began were left over: skipped, not failures.
        while (client.pending.length > 0 && client.pending[0]!.step < index - 1) {
          warnings.push(skipped(step.client, (client.pending[0] as Received).el));
          await client.next(0);
        }
        const got = await client.next(opts.nothingWindowMs ?? NOTHING_WINDOW_MS);
        if (got === undefined) return undefined;
        if (mayFail) client.requeue(asLeftOver([got]));
        return `expected nothing, received:\n    ${got.el.toString()}`;
      }
    }
  }

  async function receive(name: string, client: ScansionClient, expected: Element, requeueOnFailure: boolean): Promise<string | undefined> {
    const deadline = Date.now() + (opts.receiveTimeoutMs ?? RECEIVE_TIMEOUT_MS);
    const seen: Received[] = [];
    for (;;) {
      const got = await client.next(Math.max(0, deadline - Date.now()));
      if (got === undefined) {
        const failure = notReceived(expected, seen.map((r) => r.el), client);
        if (requeueOnFailure) client.requeue(asLeftOver(seen));
        else for (const r of seen) warnings.push(skipped(name, r.el));
        return failure;
      }
      if (matches(expected, got.el).ok) {
        for (const r of seen) warnings.push(skipped(name, r.el));
        return undefined;
      }
      seen.push(got);
    }
  }

  function substitute(xml: string): string {
    return xml.replace(/\$\{([^}]+?)'s (full )?JID\}/g, (whole, who: string, full: string | undefined) => {
      const entry = configs.get(who);
      if (entry === undefined) throw new Error(`unknown variable ${whole}`);
      if (full === undefined) return escapeXml(bareOf(entry.config));
      // The JID bound by the client's latest connection (still known after it disconnects).
      const bound = boundJids.get(who);
      if (bound === undefined) throw new Error(`${whole}: ${who} has not connected yet`);
      return escapeXml(bound);
    });
  }
}

/**
 * Stanzas a diverging step took, to put back: a later `receives:` may still match them, and
 * a later `receives: nothing` treats them as left over from before (warnings), as it would
 * had a passing step skipped them.
 */
function asLeftOver(items: readonly Received[]): Received[] {
  return items.map((r) => ({ el: r.el, step: -1 }));
}

function bareOf(c: ScriptClient): string {
  const slash = c.jid.indexOf('/');
  return slash < 0 ? c.jid : c.jid.slice(0, slash);
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/**
 * Parses the XML of a `receives:` step, in `jabber:client` and with the `scansion:` prefix
 * bound (for `scansion:strict`).
 * @throws Error when it is not exactly one well-formed element
 */
export function parseExpected(xml: string): Element {
  const wrapper = parseElement(`<wrapper xmlns:scansion='${SCANSION_NS}'>${xml}</wrapper>`, { defaultNs: 'jabber:client' });
  const children = wrapper.getChildElements();
  if (children.length !== 1 || children[0] === undefined) throw new Error(`a receives: block must hold exactly one element, found ${children.length}`);
  const el = children[0];
  el.parent = null;
  return el;
}

function skipped(name: string, el: Element): string {
  return `${name} skipped: ${el.toString()}`;
}

/** The failure text: expected, then the closest stanza received (same name, most reasons shared). */
function notReceived(expected: Element, seen: Element[], client: ScansionClient): string {
  const lines = ['timed out waiting for', `  expected: ${expected.toString()}`];
  if (seen.length === 0) {
    lines.push('  received: nothing' + (client.closed ? ` (${client.closeReason})` : ''));
    return lines.join('\n');
  }
  const score = (el: Element): number => {
    let s = el.name === expected.name ? 100 : 0;
    for (const [k, v] of Object.entries(expected.attrs as Record<string, unknown>)) if (Object.hasOwn(el.attrs, k) && el.attrs[k] === v) s += 10;
    for (const child of expected.getChildElements()) if (el.getChild(child.name)) s += 1;
    return s;
  };
  const closest = seen.reduce((best, el) => (score(el) > score(best) ? el : best));
  const result = matches(expected, closest);
  lines.push(`  closest received: ${closest.toString()}`);
  if (!result.ok) lines.push(`  difference: ${result.reason}`);
  if (seen.length > 1) lines.push(`  (${seen.length} stanzas received in all, skipped)`);
  return lines.join('\n');
}
