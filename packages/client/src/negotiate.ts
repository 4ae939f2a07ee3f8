/*
 * The client's half of stream negotiation, over any {@link StreamChannel}: stream header and
 * features (RFC 6120 §4.2, §4.3), SASL (§6; PLAIN per RFC 4616, SCRAM-SHA-1 / SCRAM-SHA-256
 * per RFC 5802 / RFC 7677 through @parley/sasl's ScramClient), the stream restart after
 * success (§6.4.6), resource binding (§7) and the legacy session when it is offered without
 * `<optional/>` (RFC 3921 §3; draft-cridland-xmpp-session).
 */
import type { Element } from 'ltx';
import { ScramClient, type ScramMechanism } from '@parley/sasl';
import { ClientError } from './errors.js';
import { CLIENT_NS, escapeXml, isStreamError, saslCondition, stanzaCondition, streamCondition } from './xml.js';

/** One top-level element as the server wrote it (`xml`) and parsed (`el`, see {@link parseTopLevel}). */
export interface TopElement {
  readonly xml: string;
  readonly el: Element;
}

/**
 * What negotiation needs from a connection. Implemented by {@link XmppConnection}; the test
 * kit implements it over its raw-text client.
 */
export interface StreamChannel {
  /** Sends the stream header (TCP) or `<open/>` (WebSocket) and forgets the previous stream's framing (RFC 6120 §4.2, §6.4.6). */
  openStream(domain: string): void | Promise<void>;
  /** Writes raw XML. */
  send(xml: string): void | Promise<void>;
  /**
   * The next top-level element received since the stream was (re)opened.
   * @throws ClientError `timeout` after `timeoutMs`, `closed` when the connection closes first
   */
  next(timeoutMs: number, what: string): Promise<TopElement>;
}

/** The SASL mechanisms a client here speaks. */
export type LoginMechanism = 'PLAIN' | ScramMechanism;

/** Timing of the steps: each waits at most `timeoutMs` (default 5000), and never past `deadline`. */
export interface StepTiming {
  /** Per step, ms. */
  timeoutMs?: number;
  /** Absolute time (`Date.now()` ms) no step waits past. */
  deadline?: number;
}

/** Who logs in, where, and how. */
export interface LoginOptions extends StepTiming {
  /** The domain in the stream header (`to`). */
  domain: string;
  /** The username (localpart), as typed; SASLprep is applied for SCRAM. */
  user: string;
  password: string;
  /** Default `PLAIN`. */
  mechanism?: LoginMechanism;
  /** Requested resource; the server picks one when absent. */
  resource?: string;
  /** `id`s of the bind and session requests (default `bind-1`, `session-1`). */
  ids?: { bind: string; session: string };
}

/** A bound session. */
export interface LoginResult {
  /** The full JID the server bound (RFC 6120 §7.6.1). */
  jid: string;
  /** The stream features offered after authentication. */
  features: TopElement;
}

const DEFAULT_STEP_MS = 5000;

/**
 * Opens (or restarts) the stream and waits for `<stream:features>` (RFC 6120 §4.3.2).
 * @throws ClientError `stream-error`, `no-features`, `timeout`, `closed`
 */
export async function openStream(ch: StreamChannel, domain: string, timing: StepTiming = {}): Promise<TopElement> {
  await ch.openStream(domain);
  const got = await nextNonError(ch, timing, 'stream features');
  if (got.el.name !== 'features' || got.el.attrs.xmlns !== CLIENT_NS.stream) throw new ClientError('no-features', 'login', `expected stream features, got <${got.el.name}>`, got.xml);
  return got;
}

/** The SASL mechanisms a features element offers (RFC 6120 §6.4.1). */
export function offeredMechanisms(features: Element): string[] {
  return (features.getChild('mechanisms', CLIENT_NS.sasl)?.getChildren('mechanism') ?? []).map((m) => m.getText().trim());
}

/**
 * Authenticates on a stream whose features were just received. For SCRAM it checks the
 * server signature (RFC 5802 §3 `v=`) whether it comes in `<success>` or in a last
 * `<challenge>` answered with an empty `<response/>` (RFC 6120 §6.4.3).
 * @returns the `<success>` element
 * @throws ClientError `sasl-failure` (reason: the RFC 6120 §6.5 condition, e.g. `not-authorized`), `server-signature`, `stream-error`, `timeout`, `closed`
 */
export async function authenticate(ch: StreamChannel, opts: Pick<LoginOptions, 'user' | 'password' | 'timeoutMs' | 'deadline'> & { mechanism: LoginMechanism }): Promise<TopElement> {
  if (opts.mechanism === 'PLAIN') {
    await ch.send(`<auth xmlns='${CLIENT_NS.sasl}' mechanism='PLAIN'>${b64(`\0${opts.user}\0${opts.password}`)}</auth>`);
    const outcome = await nextNonError(ch, opts, 'SASL outcome');
    if (outcome.el.name !== 'success') throw new ClientError('sasl-failure', 'login', saslCondition(outcome.el), outcome.xml);
    return outcome;
  }
  const scram = new ScramClient(opts.mechanism, opts.user, opts.password);
  await ch.send(`<auth xmlns='${CLIENT_NS.sasl}' mechanism='${opts.mechanism}'>${b64(scram.first())}</auth>`);
  const serverFirst = await nextNonError(ch, opts, 'SCRAM challenge');
  if (serverFirst.el.name !== 'challenge') throw new ClientError('sasl-failure', 'login', saslCondition(serverFirst.el), serverFirst.xml);
  let final: string;
  try {
    final = await scram.final(unb64(serverFirst.el.getText()));
  } catch (err) {
    throw new ClientError('server-signature', 'login', (err as Error).message, serverFirst.xml);
  }
  await ch.send(`<response xmlns='${CLIENT_NS.sasl}'>${b64(final)}</response>`);
  let outcome = await nextNonError(ch, opts, 'SASL outcome');
  let serverFinal = outcome.el.getText();
  if (outcome.el.name === 'challenge') {
    await ch.send(`<response xmlns='${CLIENT_NS.sasl}'/>`);
    outcome = await nextNonError(ch, opts, 'SASL outcome');
  }
  if (outcome.el.name !== 'success') throw new ClientError('sasl-failure', 'login', saslCondition(outcome.el), outcome.xml);
  if (!scram.verify(unb64(serverFinal))) throw new ClientError('server-signature', 'login', 'SCRAM server signature does not verify', JSON.stringify(unb64(serverFinal)));
  return outcome;
}

/**
 * After SASL success: restarts the stream (RFC 6120 §6.4.6), binds a resource (§7) and, when
 * offered without `<optional/>`, opens the legacy session (RFC 3921 §3). Elements other
 * than the awaited iq reply are skipped.
 * @throws ClientError `no-bind`, `bind-failed`, `session-failed` (reason: the stanza error condition), `stream-error`, `timeout`, `closed`
 */
export async function bindResource(ch: StreamChannel, opts: Pick<LoginOptions, 'domain' | 'resource' | 'ids' | 'timeoutMs' | 'deadline'>): Promise<LoginResult> {
  const ids = opts.ids ?? { bind: 'bind-1', session: 'session-1' };
  const features = await openStream(ch, opts.domain, opts);
  if (!features.el.getChild('bind', CLIENT_NS.bind)) throw new ClientError('no-bind', 'bind', 'no bind feature after SASL', features.xml);
  const resource = opts.resource === undefined ? '' : `<resource>${escapeXml(opts.resource)}</resource>`;
  await ch.send(`<iq type='set' id='${escapeXml(ids.bind)}'><bind xmlns='${CLIENT_NS.bind}'>${resource}</bind></iq>`);
  const bound = await iqReply(ch, ids.bind, opts, 'bind result');
  const jid = bound.el.getChild('bind', CLIENT_NS.bind)?.getChildText('jid')?.trim();
  if (bound.el.attrs.type !== 'result' || !jid) throw new ClientError('bind-failed', 'bind', stanzaCondition(bound.el), bound.xml);
  const session = features.el.getChild('session', CLIENT_NS.session);
  if (session && !session.getChild('optional')) {
    await ch.send(`<iq type='set' id='${escapeXml(ids.session)}'><session xmlns='${CLIENT_NS.session}'/></iq>`);
    const reply = await iqReply(ch, ids.session, opts, 'session result');
    if (reply.el.attrs.type !== 'result') throw new ClientError('session-failed', 'bind', `session: ${stanzaCondition(reply.el)}`, reply.xml);
  }
  return { jid, features };
}

/**
 * The whole login: stream, features, SASL with `opts.mechanism` (default PLAIN), restart,
 * bind, legacy session if required. Sends no presence.
 * @throws ClientError `not-offered` when the mechanism is not offered, or any error of
 *   {@link openStream}, {@link authenticate} and {@link bindResource}
 */
export async function login(ch: StreamChannel, opts: LoginOptions): Promise<LoginResult> {
  const mechanism = opts.mechanism ?? 'PLAIN';
  const features = await openStream(ch, opts.domain, opts);
  const offered = offeredMechanisms(features.el);
  if (!offered.includes(mechanism)) throw new ClientError('not-offered', 'login', `${mechanism} not offered (offered: ${offered.join(' ') || 'none'})`, features.xml);
  await authenticate(ch, { ...opts, mechanism });
  return bindResource(ch, opts);
}

/** Waits for the iq answering `id` (RFC 6120 §8.2.3), skipping anything else. */
async function iqReply(ch: StreamChannel, id: string, timing: StepTiming, what: string): Promise<TopElement> {
  const until = stepDeadline(timing);
  for (;;) {
    const got = await nextNonError(ch, { deadline: until }, what);
    if (got.el.name === 'iq' && got.el.attrs.id === id) return got;
  }
}

/** The next element; a stream error becomes a ClientError (phase `login`, like timeouts: the stream failed, not a request). */
async function nextNonError(ch: StreamChannel, timing: StepTiming, what: string): Promise<TopElement> {
  const got = await ch.next(Math.max(0, stepDeadline(timing) - Date.now()), what);
  if (isStreamError(got.el)) throw new ClientError('stream-error', 'login', `stream error ${streamCondition(got.el)} while waiting for ${what}`, got.xml);
  return got;
}

function stepDeadline(timing: StepTiming): number {
  const step = timing.timeoutMs === undefined && timing.deadline !== undefined ? Infinity : Date.now() + (timing.timeoutMs ?? DEFAULT_STEP_MS);
  return Math.min(step, timing.deadline ?? Infinity);
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string): string => Buffer.from(s.trim(), 'base64').toString('utf8');
