import {
  authenticate,
  bindResource as bindOnChannel,
  ClientError,
  login,
  offeredMechanisms as mechanismsOf,
  openStream as openOnChannel,
  parseTopLevel,
  StreamScanner,
  streamHeader,
  type StreamChannel,
  type TopElement,
} from '@parley/client';
import type { ScramMechanism } from '@parley/sasl';
import { TestkitError } from './errors.js';
import type { RawClient } from './raw-client.js';

/*
 * RFC 6120 over a raw socket: stream header (§4.2), SASL (§6; PLAIN per RFC 4616, SCRAM per
 * RFC 5802 / RFC 7677), stream restart (§6.4.6), resource binding (§7), and the legacy
 * session when it is offered without <optional/> (RFC 3921 §3). The negotiation itself is
 * @parley/client's; here it runs over the RawClient's received text (RawTextChannel), so
 * what the helpers return and quote is the server's exact text.
 */

/** Request ids of the bind and session iqs (scripted test servers answer these). */
const IDS = { bind: 'raw-bind', session: 'raw-session' };
const TAIL = 2000;

/**
 * @parley/client's {@link StreamChannel} over a RawClient: the text received from the moment
 * it is created (or the stream is reopened) is split into top-level elements with the
 * shared StreamScanner. Nothing is consumed from the RawClient: its text stays whole.
 */
class RawTextChannel implements StreamChannel {
  readonly #raw: RawClient;
  readonly #pending: string[] = [];
  readonly #scanner = new StreamScanner({ onStreamOpen: () => {}, onElement: (xml) => this.#pending.push(xml), onStreamClose: () => {} });
  #fed: number;

  /** @param inStream - the stream is already open (features received): read its children from now on */
  constructor(raw: RawClient, inStream: boolean) {
    this.#raw = raw;
    this.#fed = raw.length;
    this.#scanner.reset(inStream);
  }

  async openStream(domain: string): Promise<void> {
    this.#pending.length = 0;
    this.#scanner.reset();
    this.#fed = this.#raw.length;
    await this.#raw.send(streamHeader(domain));
  }

  send(xml: string): Promise<void> {
    return this.#raw.send(xml);
  }

  async next(timeoutMs: number, what: string): Promise<TopElement> {
    if (this.#catchUp() === 0) {
      try {
        await this.#raw.waitFor(() => this.#catchUp() > 0, { from: this.#raw.length, timeoutMs });
      } catch {
        const received = JSON.stringify(this.#raw.text.slice(-TAIL));
        if (this.#raw.isClosed) throw new ClientError('closed', 'login', `socket closed while waiting for ${what}`, received);
        throw new ClientError('timeout', 'login', `timeout waiting for ${what}`, received);
      }
    }
    const xml = this.#pending.shift()!;
    try {
      return { xml, el: parseTopLevel(xml) };
    } catch (err) {
      throw new ClientError('closed', 'login', `unparsable element while waiting for ${what} (${(err as Error).message})`, xml);
    }
  }

  /** Feeds the text received since the last call to the scanner; returns how many elements wait. */
  #catchUp(): number {
    const text = this.#raw.text;
    if (text.length > this.#fed) {
      this.#scanner.push(text.slice(this.#fed));
      this.#fed = text.length;
    }
    return this.#pending.length;
  }
}

/** Runs a negotiation step; a ClientError becomes a TestkitError (`RAW_TIMEOUT` when nothing came, `LOGIN_FAILED` otherwise). */
async function step<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    throw new TestkitError(err.code === 'timeout' || err.code === 'closed' ? 'RAW_TIMEOUT' : 'LOGIN_FAILED', err.message);
  }
}

/**
 * Sends a stream header and waits for the server's `<stream:features>` (the next element).
 * @returns the features element's text
 * @throws TestkitError `RAW_TIMEOUT` when none arrives in time (or the socket closes), `LOGIN_FAILED` for a stream error or another element
 */
export async function openStream(raw: RawClient, domain: string, timeoutMs = 5000): Promise<string> {
  return (await step(() => openOnChannel(new RawTextChannel(raw, false), domain, { timeoutMs }))).xml;
}

/** The SASL mechanisms listed in a features element's text. */
export function offeredMechanisms(features: string): string[] {
  return mechanismsOf(parseTopLevel(features));
}

/** Who logs in, and where. */
export interface RawLogin {
  domain: string;
  user: string;
  password: string;
  /** Requested resource; the server picks one when absent. */
  resource?: string;
  /** Per step, ms (default 5000). */
  timeoutMs?: number;
}

/** The result of a raw login. */
export interface RawSession {
  /** The full JID the server bound. */
  jid: string;
  /** The stream features offered after authentication. */
  features: string;
}

/**
 * Logs in over a raw socket with SASL PLAIN and binds a resource. The server must offer
 * PLAIN (e.g. `PARLEY_ALLOW_PLAIN_WITHOUT_TLS=true`).
 * @throws TestkitError `LOGIN_FAILED` with the server's answer when a step is refused,
 *   `RAW_TIMEOUT` when an answer does not come
 */
export async function loginPlain(raw: RawClient, opts: RawLogin): Promise<RawSession> {
  const { jid, features } = await step(() => login(new RawTextChannel(raw, false), { ...opts, mechanism: 'PLAIN', ids: IDS }));
  return { jid, features: features.xml };
}

/**
 * Logs in over a raw socket with SCRAM-SHA-1 or SCRAM-SHA-256 and binds a resource; checks
 * the server signature (RFC 5802 §3 `v=`), whether it comes in `<success>` or in a last
 * `<challenge>`.
 * @throws TestkitError `LOGIN_FAILED` when refused or when the server signature is wrong
 */
export async function loginScram(raw: RawClient, opts: RawLogin & { mechanism: ScramMechanism }): Promise<RawSession> {
  const { jid, features } = await step(() => login(new RawTextChannel(raw, false), { ...opts, ids: IDS }));
  return { jid, features: features.xml };
}

/**
 * Runs the SCRAM exchange on a stream whose features were already received.
 * @returns the final `<success>` element's text
 * @throws TestkitError `LOGIN_FAILED` with the server's answer (e.g. `<failure>...<not-authorized/>`)
 */
export async function authenticateScram(raw: RawClient, opts: RawLogin & { mechanism: ScramMechanism }): Promise<string> {
  return (await step(() => authenticate(new RawTextChannel(raw, true), opts))).xml;
}

/**
 * After a SASL `<success>`: restarts the stream (RFC 6120 §6.4.6), binds a resource and, when
 * offered as required, opens the legacy session.
 * @throws TestkitError `LOGIN_FAILED` with the server's answer
 */
export async function bindResource(raw: RawClient, opts: Pick<RawLogin, 'domain' | 'resource' | 'timeoutMs'>): Promise<RawSession> {
  const { jid, features } = await step(() => bindOnChannel(new RawTextChannel(raw, false), { ...opts, ids: IDS }));
  return { jid, features: features.xml };
}
