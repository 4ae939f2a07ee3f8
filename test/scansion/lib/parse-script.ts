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

/**
 * Parses the text of a `.scs` file.
 * @throws ScriptSyntaxError on an unknown line, a step of an undeclared client, a client
 *   without `jid` or `password`, or a `sends:`/`receives:` without an XML block
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
  while (i < lines.length) {
    const line = lines[i]!;
    const lineNo = i + 1;
    i++;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    if (INDENTED.test(line)) throw new ScriptSyntaxError(lineNo, 'indented line outside a sends:/receives: block');
    const name = names.find((n) => line.startsWith(`${n} `));
    if (name === undefined) throw new ScriptSyntaxError(lineNo, `no declared client starts ${JSON.stringify(line)}`);
    const rest = line.slice(name.length).trim();
    if (rest === 'connects' || rest === 'disconnects') {
      steps.push({ client: name, action: rest, line: lineNo });
    } else if (/^receives:\s*nothing$/.test(rest)) {
      steps.push({ client: name, action: 'receives-nothing', line: lineNo });
    } else if (rest === 'sends:' || rest === 'receives:') {
      // The XML block: indented lines (blank lines inside it are kept).
      const block: string[] = [];
      while (i < lines.length && (INDENTED.test(lines[i]!) || (lines[i]!.trim() === '' && nextIndented(lines, i)))) {
        block.push(lines[i]!);
        i++;
      }
      const xml = dedent(block).trim();
      if (xml === '') throw new ScriptSyntaxError(lineNo, `${rest} without an indented XML block`);
      steps.push({ client: name, action: rest === 'sends:' ? 'sends' : 'receives', xml, line: lineNo });
    } else {
      throw new ScriptSyntaxError(lineNo, `unknown step ${JSON.stringify(rest)}`);
    }
  }
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
