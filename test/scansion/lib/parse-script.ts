/*
 * Parser of scansion scripts (`.scs`), the format described in
 * ../shared/scansion/README.md: a `#` title and description, `[Client] Name` blocks with
 * tab-indented `key: value` lines, a `-----` separator, then one step per line, `sends:` and
 * `receives:` followed by an indented XML block. Variables (`${Romeo's JID}`) are left in
 * place: they are substituted when the step runs.
 */

/** One `[Client]` block. */
export interface ScriptClient {
  name: string;
  /** Bare (`user@host`) or full (`user@host/res`, binds exactly that resource). */
  jid: string;
  password: string;
  connectHost?: string;
  connectPort?: number;
}

/** What a step does. */
export type StepAction = 'connects' | 'sends' | 'receives' | 'receives-nothing' | 'disconnects';

/** One step of the script. */
export interface ScriptStep {
  /** The client's name, as in its `[Client]` block. */
  client: string;
  action: StepAction;
  /** The XML of `sends:` / `receives:`, de-indented, variables not yet substituted. */
  xml?: string;
  /** 1-based line number of the step in the file. */
  line: number;
  /** The `# prosody-...:` directive on the comment line(s) just before the step, if any. */
  prosody?: ProsodyDivergence;
}

/**
 * How a step is expected to behave on reference Prosody 0.12 where it differs from us
 * (test/scansion/README.md, "Differential run against Prosody"), from a comment line
 * `# prosody-diverges: <reason>` (the step fails there; the run goes on),
 * `# prosody-diverges-stop: <reason>` (the step fails there; the rest of the script is not
 * run against Prosody) or `# prosody-may-diverge: <reason>` (the step may fail there, e.g.
 * an order Prosody leaves to its hash tables; the run goes on). Other servers ignore it.
 */
export interface ProsodyDivergence {
  kind: 'diverges' | 'diverges-stop' | 'may-diverge';
  /** Why: the spec section and what Prosody does instead. */
  reason: string;
  /** 1-based line of the directive. */
  line: number;
}

/** A parsed script. */
export interface Script {
  /** The first comment line, without `#` (or `''`). */
  title: string;
  clients: ScriptClient[];
  steps: ScriptStep[];
}

/** A script that does not follow the format; the message names the line. */
export class ScriptSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'ScriptSyntaxError';
  }
}

const SEPARATOR = /^-{3,}\s*$/;
const CLIENT_HEADER = /^\[Client\]\s+(.+?)\s*$/;
const KEY_VALUE = /^\s+([A-Za-z_]+)\s*:\s*(.*?)\s*$/;
const INDENTED = /^[ \t]/;
const DIRECTIVE = /^\s*#\s*prosody-([a-z-]*)(:?)\s*(.*?)\s*$/;
const DIRECTIVE_KINDS: readonly string[] = ['diverges', 'diverges-stop', 'may-diverge'];

/**
 * Parses the text of a `.scs` file.
 * @throws ScriptSyntaxError on an unknown line, a step of an undeclared client, a client
 *   without `jid` or `password`, a `sends:`/`receives:` without an XML block, or a
 *   `# prosody-...` comment that is not a known directive with a reason, or not followed by
 *   a step, or is the second one before the same step
 */
export function parseScript(text: string): Script {
  const lines = text.split(/\r?\n/);
  let title = '';
  const clients: ScriptClient[] = [];
  let i = 0;

  // Header: comments and [Client] blocks, up to the separator.
  let current: { name: string; fields: Map<string, string>; line: number } | undefined;
  const finishClient = (): void => {
    if (current === undefined) return;
    const jid = current.fields.get('jid');
    const password = current.fields.get('password');
    if (jid === undefined || password === undefined) throw new ScriptSyntaxError(current.line, `client ${current.name} needs jid and password`);
    const client: ScriptClient = { name: current.name, jid, password };
    const host = current.fields.get('connect_host');
    if (host !== undefined) client.connectHost = host;
    const port = current.fields.get('connect_port');
    if (port !== undefined) {
      const n = Number(port);
      if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new ScriptSyntaxError(current.line, `bad connect_port ${port}`);
      client.connectPort = n;
    }
    clients.push(client);
    current = undefined;
  };
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (SEPARATOR.test(line)) {
      i++;
      break;
    }
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      if (title === '' && clients.length === 0 && current === undefined) title = line.slice(1).trim();
      continue;
    }
    const header = CLIENT_HEADER.exec(line);
    if (header) {
      finishClient();
      current = { name: header[1]!, fields: new Map(), line: i + 1 };
      continue;
    }
    const kv = KEY_VALUE.exec(line);
    if (kv && current !== undefined) {
      current.fields.set(kv[1]!, kv[2]!);
      continue;
    }
    throw new ScriptSyntaxError(i + 1, `unexpected line in the header: ${JSON.stringify(line)}`);
  }
  finishClient();

  // Steps. Longest names first, so that "Romeo Jr" is not read as "Romeo".
  const names = clients.map((c) => c.name).sort((a, b) => b.length - a.length);
  const steps: ScriptStep[] = [];
  let directive: ProsodyDivergence | undefined;
  const push = (step: ScriptStep): void => {
    if (directive !== undefined) step.prosody = directive;
    directive = undefined;
    steps.push(step);
  };
  while (i < lines.length) {
    const line = lines[i]!;
    const lineNo = i + 1;
    i++;
    const d = DIRECTIVE.exec(line);
    if (d) {
      const kind = d[1]!;
      if (!DIRECTIVE_KINDS.includes(kind) || d[2] !== ':') throw new ScriptSyntaxError(lineNo, `unknown directive prosody-${kind}: (known: ${DIRECTIVE_KINDS.map((k) => `prosody-${k}`).join(', ')})`);
      if (d[3] === '') throw new ScriptSyntaxError(lineNo, `prosody-${kind}: needs a reason (spec section, what Prosody does)`);
      if (directive !== undefined) throw new ScriptSyntaxError(lineNo, `a second prosody directive before the same step (first on line ${directive.line})`);
      directive = { kind: kind as ProsodyDivergence['kind'], reason: d[3]!, line: lineNo };
      continue;
    }
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (INDENTED.test(line)) throw new ScriptSyntaxError(lineNo, 'indented line outside a sends:/receives: block');
    const name = names.find((n) => line.startsWith(`${n} `));
    if (name === undefined) throw new ScriptSyntaxError(lineNo, `no declared client starts ${JSON.stringify(line)}`);
    const rest = line.slice(name.length).trim();
    if (rest === 'connects' || rest === 'disconnects') {
      push({ client: name, action: rest, line: lineNo });
    } else if (/^receives:\s*nothing$/.test(rest)) {
      push({ client: name, action: 'receives-nothing', line: lineNo });
    } else if (rest === 'sends:' || rest === 'receives:') {
      // The XML block: indented lines (blank lines inside it are kept).
      const block: string[] = [];
      while (i < lines.length && (INDENTED.test(lines[i]!) || (lines[i]!.trim() === '' && nextIndented(lines, i)))) {
        block.push(lines[i]!);
        i++;
      }
      const xml = dedent(block).trim();
      if (xml === '') throw new ScriptSyntaxError(lineNo, `${rest} without an indented XML block`);
      push({ client: name, action: rest === 'sends:' ? 'sends' : 'receives', xml, line: lineNo });
    } else {
      throw new ScriptSyntaxError(lineNo, `unknown step ${JSON.stringify(rest)}`);
    }
  }
  if (directive !== undefined) throw new ScriptSyntaxError(directive.line, `prosody-${directive.kind}: is not followed by a step`);
  return { title, clients, steps };
}

/** Whether a run of blank lines from `i` is followed by an indented line. */
function nextIndented(lines: string[], i: number): boolean {
  let j = i;
  while (j < lines.length && lines[j]!.trim() === '') j++;
  return j < lines.length && INDENTED.test(lines[j]!);
}

function dedent(block: string[]): string {
  const indents = block.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return block.map((l) => l.slice(cut)).join('\n');
}
