/**
 * Scenario files: JSON or YAML, validated by a zod schema. Every problem is reported as
 * `path.to.field: what is wrong`, all at once. Defaults fill what a scenario leaves out.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LoadgenError } from './errors.js';

/** `host:port` or `[v6addr]:port`. */
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):(\d{1,5})$/;

/** Validates one `host:port` target; returns a message or undefined when valid. */
export function checkTarget(t: string): string | undefined {
  const m = HOST_PORT.exec(t);
  if (!m) return `"${t}" is not host:port`;
  const port = Number(m[1]);
  return port >= 1 && port <= 65535 ? undefined : `"${t}": port must be 1..65535`;
}

const target = z.string().superRefine((t, ctx) => {
  const problem = checkTarget(t);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const positive = z.number().positive();
const count = z.number().int().nonnegative();

const accountsSchema = z.strictObject({
  /** Usernames are `<prefix><index>`, index from 0. */
  prefix: z.string().regex(/^[a-z0-9._-]+$/, 'lower-case letters, digits, ".", "_", "-" only').default('load'),
  /** Number of simulated clients (one account each). */
  count: z.number().int().positive(),
  password: z.string().min(1).default('password'),
  /**
   * `pre-created`: the accounts exist with `password`. `open`: the server accepts any login
   * (our `--open-auth`, Prosody's test config); with SCRAM the accounts must exist anyway.
   */
  mode: z.enum(['pre-created', 'open']).default('open'),
});

const loginSchema = z.strictObject({
  /** Logins started per second over all workers. */
  ratePerSec: positive.default(200),
  mechanism: z.enum(['PLAIN', 'SCRAM-SHA-1']).default('PLAIN'),
  /** Logins in flight at most, per worker thread. */
  maxInFlight: z.number().int().positive().default(500),
  /** Send initial presence after binding (RFC 6121 §4.2). */
  initialPresence: z.boolean().default(true),
  /** One login (connect to bound) must finish within this, s. */
  timeoutSec: positive.default(30),
});

const roomsSchema = z.strictObject({
  count: count.default(0),
  occupantsPerRoom: z.number().int().positive().default(1),
  /** Room localparts are `<namePrefix><index>` (plus `-<runId>` when `fresh`). */
  namePrefix: z.string().regex(/^[a-z0-9._-]+$/, 'lower-case letters, digits, ".", "_", "-" only').default('room'),
  /** Append the run id to room names, so each run creates its rooms anew. */
  fresh: z.boolean().default(true),
  /** `ramp`: joins at `joinRatePerSec`; `storm`: every non-owner join sent at once. */
  joinPattern: z.enum(['ramp', 'storm']).default('ramp'),
  /** Joins per second over all workers (ramp; owners always ramp at this rate). */
  joinRatePerSec: positive.default(200),
  /** The first occupant submits the instant-room form when the room is new (XEP-0045 §10.1.2). */
  configureInstant: z.boolean().default(true),
  /**
   * Fields the first occupant submits in the room's configuration form instead of the empty
   * instant-room form (XEP-0045 §10.2; `FORM_TYPE` is added): field var → its values, e.g.
   * `{"muc#roomconfig_presencebroadcast": ["moderator"]}` for a room that broadcasts only
   * moderators' presence. Needs `configureInstant`.
   */
  config: z.record(z.string().min(1).max(256), z.array(z.string().max(1024)).max(64)).default({}),
  /** A join (presence sent → self-presence 110) must finish within this, s. */
  joinTimeoutSec: positive.default(60),
});

const messagesSchema = z.strictObject({
  /** The first N occupants of each room send (0: nobody sends). */
  sendersPerRoom: count.default(0),
  /**
   * How many rooms have senders (at most `rooms.count`; default: every room). The others
   * are joined but quiet, e.g. 100 of 1,000 rooms for "1 % of the clients sending". The
   * sending rooms are spread evenly over the room indexes: room r sends when
   * ⌊(r+1)·N / rooms.count⌋ > ⌊r·N / rooms.count⌋.
   */
  sendingRooms: count.optional(),
  /** Messages per second per sender. */
  ratePerSender: positive.default(1),
  /** Body length, bytes (at least the stamp's length, about 30). */
  bodyBytes: z.number().int().positive().max(65536).default(64),
  /** Measured sending time, s (after the warm-up). */
  durationSec: z.number().nonnegative().default(0),
  /** Sending time before measuring starts, s: delivered and accounted, but not in the latency figures. */
  warmupSec: z.number().nonnegative().default(0),
  /** After the last send, wait at most this long for the expected deliveries, s. */
  drainTimeoutSec: positive.default(10),
  /**
   * Respect backpressure: a sender skips a scheduled message while more than this many bytes
   * it wrote earlier are still unsent (the server is not reading its socket), as a client
   * whose writes block would; skipped sends are counted in `messages.deferred`. 0 (default):
   * every scheduled message is written, whatever the socket's state.
   */
  deferAboveBytes: z.number().int().nonnegative().default(0),
});

const resumeSchema = z.strictObject({
  /**
   * Share of the clients (0..1, spread evenly over the client indexes) that enable XEP-0198
   * stream management with resumption (§3, `<enable resume='true'/>`), ack what they receive
   * (§4) and, during the messaging phase, drop their connection abruptly (socket destroyed,
   * no `</stream>`) every `everySec` and resume (§5, `<resume previd h/>`) on the next target
   * in `targets` (another gateway when there are several). 0: nobody does.
   */
  share: z.number().min(0).max(1).default(0),
  /** Seconds between two drops of one resuming client (each client has its own phase). */
  everySec: positive.default(10),
  /** A resumption (drop → `<resumed/>`) must finish within this, s; otherwise it is a failure. */
  timeoutSec: positive.default(30),
  /** The client asks for an ack (`<r/>`, §4) after this many stanzas it sent. */
  ackEvery: z.number().int().positive().max(1000).default(5),
});

/** The scenario schema (zod); {@link parseScenario} applies it. */
export const scenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().optional(),
    /** Servers to connect to, `host:port` (TCP c2s or WebSocket); clients are spread round-robin. */
    targets: z.array(target).min(1),
    transport: z.enum(['tcp', 'websocket']).default('tcp'),
    /** WebSocket URL path (RFC 7395), e.g. `/xmpp-websocket`. */
    websocketPath: z.string().startsWith('/').default('/xmpp-websocket'),
    /** The XMPP domain the accounts live on. */
    domain: z.string().min(1),
    /** The MUC service's domain; default `conference.<domain>`. */
    mucService: z.string().min(1).optional(),
    accounts: accountsSchema,
    login: loginSchema.prefault({}),
    rooms: roomsSchema.prefault({}),
    messages: messagesSchema.prefault({}),
    /** XEP-0198 drop-and-resume by a share of the clients during messaging. */
    resume: resumeSchema.prefault({}),
    /** Stay connected (and joined) this long without messages, s (idle / memory scenarios). */
    idleSec: z.number().nonnegative().default(0),
  })
  .superRefine((s, ctx) => {
    const needed = s.rooms.count * s.rooms.occupantsPerRoom;
    if (needed > s.accounts.count) {
      ctx.addIssue({ code: 'custom', path: ['rooms'], message: `${s.rooms.count} rooms × ${s.rooms.occupantsPerRoom} occupants need ${needed} accounts; accounts.count is ${s.accounts.count}` });
    }
    if (s.messages.sendersPerRoom > s.rooms.occupantsPerRoom) {
      ctx.addIssue({ code: 'custom', path: ['messages', 'sendersPerRoom'], message: `more senders (${s.messages.sendersPerRoom}) than occupants per room (${s.rooms.occupantsPerRoom})` });
    }
    if (s.messages.sendingRooms !== undefined && s.messages.sendingRooms > s.rooms.count) {
      ctx.addIssue({ code: 'custom', path: ['messages', 'sendingRooms'], message: `more sending rooms (${s.messages.sendingRooms}) than rooms (${s.rooms.count})` });
    }
    if (s.messages.durationSec + s.messages.warmupSec > 0 && (s.rooms.count === 0 || s.messages.sendersPerRoom === 0 || s.messages.sendingRooms === 0)) {
      ctx.addIssue({ code: 'custom', path: ['messages'], message: 'sending needs rooms.count > 0, messages.sendersPerRoom > 0 and messages.sendingRooms > 0' });
    }
  });

/** A scenario as written in a file (defaults not yet applied). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/** A validated scenario, every default applied (`mucService` resolved). */
export type Scenario = z.output<typeof scenarioSchema> & { mucService: string };

/** Formats zod issues as `path: message` lines. */
function issueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(scenario)'}: ${i.message}`);
}

/**
 * Validates a scenario object and applies defaults.
 * @throws LoadgenError `BAD_SCENARIO` listing every problem in `issues`
 */
export function parseScenario(input: unknown, source = 'scenario'): Scenario {
  const r = scenarioSchema.safeParse(input);
  if (!r.success) {
    const issues = issueLines(r.error);
    throw new LoadgenError('BAD_SCENARIO', `${source}:\n  ${issues.join('\n  ')}`, issues);
  }
  return { ...r.data, mucService: r.data.mucService ?? `conference.${r.data.domain}` };
}

/**
 * Reads a `.json`, `.yaml` or `.yml` scenario file (by extension; other names are tried as
 * JSON, then YAML) and validates it.
 * @throws LoadgenError `BAD_SCENARIO` when unreadable, unparsable or invalid
 */
export async function loadScenarioFile(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new LoadgenError('BAD_SCENARIO', `cannot read ${path}: ${(err as Error).message}`);
  }
  return parseScenarioText(text, path);
}

/** {@link loadScenarioFile} on text already read; `name` picks the syntax by extension. */
export function parseScenarioText(text: string, name: string): Scenario {
  const ext = extname(name).toLowerCase();
  let data: unknown;
  try {
    data = ext === '.yaml' || ext === '.yml' ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    if (ext === '.json' || ext === '.yaml' || ext === '.yml') throw new LoadgenError('BAD_SCENARIO', `${name} does not parse: ${(err as Error).message}`);
    try {
      data = parseYaml(text);
    } catch (err2) {
      throw new LoadgenError('BAD_SCENARIO', `${name} is neither JSON nor YAML: ${(err2 as Error).message}`);
    }
  }
  return parseScenario(data, name);
}
