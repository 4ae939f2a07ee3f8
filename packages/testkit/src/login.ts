import { TestkitError } from './errors.js';
import type { RawClient } from './raw-client.js';
import { ScramClient, type ScramMechanism } from '@parley/sasl';
import { elementRe, escapeXml, FEATURES_RE, streamHeader, unescapeXml } from './xml-text.js';

/*
 * RFC 6120 over a raw socket: stream header (§4.2), SASL (§6; PLAIN per RFC 4616, SCRAM per
 * RFC 5802 / RFC 7677), stream restart (§6.4.6), resource binding (§7), and the legacy
 * session when it is offered without <optional/> (RFC 3921 §3).
 */

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';
const SASL_REPLY_RE = /<(challenge|success|failure)\b[^>]*?(?:\/>|>[\s\S]*?<\/\1>)/;

/**
 * Sends a stream header and waits for the server's `<stream:features>`.
 * @returns the features element's text
 */
export async function openStream(raw: RawClient, domain: string, timeoutMs = 5000): Promise<string> {
  const from = raw.length;
  await raw.send(streamHeader(domain));
  const [features] = await raw.waitFor(FEATURES_RE, { from, timeoutMs });
  return features;
}

/** The SASL mechanisms listed in a features element's text. */
export function offeredMechanisms(features: string): string[] {
  return [...features.matchAll(/<mechanism>([^<]+)<\/mechanism>/g)].map((m) => m[1]!);
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
 * @throws TestkitError `LOGIN_FAILED` with the server's answer when a step is refused
 */
export async function loginPlain(raw: RawClient, opts: RawLogin): Promise<RawSession> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  await offering(raw, opts, 'PLAIN');
  const token = Buffer.from(`\0${opts.user}\0${opts.password}`, 'utf8').toString('base64');
  const from = raw.length;
  await raw.send(`<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${token}</auth>`);
  const [outcome] = await raw.waitFor(SASL_REPLY_RE, { from, timeoutMs });
  if (!outcome.startsWith('<success')) throw new TestkitError('LOGIN_FAILED', `SASL PLAIN: ${outcome}`);
  return bindResource(raw, opts);
}

/**
 * Logs in over a raw socket with SCRAM-SHA-1 or SCRAM-SHA-256 and binds a resource; checks
 * the server signature (RFC 5802 §3 `v=`), whether it comes in `<success>` or in a last
 * `<challenge>`.
 * @throws TestkitError `LOGIN_FAILED` when refused or when the server signature is wrong
 */
export async function loginScram(raw: RawClient, opts: RawLogin & { mechanism: ScramMechanism }): Promise<RawSession> {
  await offering(raw, opts, opts.mechanism);
  await authenticateScram(raw, opts);
  return bindResource(raw, opts);
}

/**
 * Runs the SCRAM exchange on a stream whose features were already received.
 * @returns the final `<success>` element's text
 * @throws TestkitError `LOGIN_FAILED` with the server's answer (e.g. `<failure>...<not-authorized/>`)
 */
export async function authenticateScram(raw: RawClient, opts: RawLogin & { mechanism: ScramMechanism }): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const scram = new ScramClient(opts.mechanism, opts.user, opts.password);
  const step = async (send: string): Promise<{ name: string; text: string; payload: string }> => {
    const from = raw.length;
    await raw.send(send);
    const m = await raw.waitFor(SASL_REPLY_RE, { from, timeoutMs });
    const payloadB64 = /^<[^>]*>([^<]*)</.exec(m[0])?.[1] ?? '';
    return { name: m[1]!, text: m[0], payload: Buffer.from(payloadB64.trim(), 'base64').toString('utf8') };
  };
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

  const serverFirst = await step(`<auth xmlns='${NS_SASL}' mechanism='${opts.mechanism}'>${b64(scram.first())}</auth>`);
  if (serverFirst.name !== 'challenge') throw new TestkitError('LOGIN_FAILED', `${opts.mechanism}: ${serverFirst.text}`);
  let outcome = await step(`<response xmlns='${NS_SASL}'>${b64(await scram.final(serverFirst.payload))}</response>`);
  let serverFinal = outcome.payload;
  if (outcome.name === 'challenge') {
    // RFC 6120 §6.4.3: server-final may come as a challenge, answered with an empty response.
    serverFinal = outcome.payload;
    outcome = await step(`<response xmlns='${NS_SASL}'/>`);
  }
  if (outcome.name !== 'success') throw new TestkitError('LOGIN_FAILED', `${opts.mechanism}: ${outcome.text}`);
  if (!scram.verify(serverFinal)) throw new TestkitError('LOGIN_FAILED', `${opts.mechanism}: wrong server signature in ${JSON.stringify(serverFinal)}`);
  return outcome.text;
}

async function offering(raw: RawClient, opts: RawLogin, mechanism: string): Promise<string> {
  const features = await openStream(raw, opts.domain, opts.timeoutMs);
  if (!offeredMechanisms(features).includes(mechanism)) throw new TestkitError('LOGIN_FAILED', `${mechanism} not offered: ${features}`);
  return features;
}

/**
 * After a SASL `<success>`: restarts the stream (RFC 6120 §6.4.6), binds a resource and, when
 * offered as required, opens the legacy session.
 * @throws TestkitError `LOGIN_FAILED` with the server's answer
 */
export async function bindResource(raw: RawClient, opts: Pick<RawLogin, 'domain' | 'resource' | 'timeoutMs'>): Promise<RawSession> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const features = await openStream(raw, opts.domain, timeoutMs);
  if (!features.includes(NS_BIND)) throw new TestkitError('LOGIN_FAILED', `no bind feature after SASL: ${features}`);

  let from = raw.length;
  const resource = opts.resource === undefined ? '' : `<resource>${escapeXml(opts.resource)}</resource>`;
  await raw.send(`<iq type='set' id='raw-bind'><bind xmlns='${NS_BIND}'>${resource}</bind></iq>`);
  const [bound] = await raw.waitFor(elementRe('iq', { id: 'raw-bind' }), { from, timeoutMs });
  const jid = /<jid>([^<]+)<\/jid>/.exec(bound)?.[1];
  if (!/\stype=(['"])result\1/.test(bound) || jid === undefined) throw new TestkitError('LOGIN_FAILED', `bind: ${bound}`);

  const session = /<session\b[^>]*?(?:\/>|>[\s\S]*?<\/session>)/.exec(features)?.[0];
  if (session !== undefined && session.includes(NS_SESSION) && !session.includes('<optional')) {
    from = raw.length;
    await raw.send(`<iq type='set' id='raw-session'><session xmlns='${NS_SESSION}'/></iq>`);
    const [reply] = await raw.waitFor(elementRe('iq', { id: 'raw-session' }), { from, timeoutMs });
    if (!/\stype=(['"])result\1/.test(reply)) throw new TestkitError('LOGIN_FAILED', `session: ${reply}`);
  }
  return { jid: unescapeXml(jid), features };
}
