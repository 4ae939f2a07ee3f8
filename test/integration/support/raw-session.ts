import { elementRe, loginPlain, RawClient, type GatewayProcess } from '@parley/testkit';
import { DOMAIN, NS } from './names.js';

let counter = 0;

/** A raw-socket session, logged in with PLAIN (the gateway must allow it). */
export interface RawSession {
  raw: RawClient;
  jid: string;
}

/** Connects to the gateway's c2s port and logs in with SASL PLAIN over the raw socket. */
export async function rawLogin(gw: GatewayProcess, user: string, password: string, resource?: string): Promise<RawSession> {
  const raw = await RawClient.connect(gw.c2sPort);
  try {
    const { jid } = await loginPlain(raw, { domain: DOMAIN, user, password, ...(resource !== undefined ? { resource } : {}) });
    return { raw, jid };
  } catch (err) {
    raw.destroy();
    throw err;
  }
}

/**
 * Sends an XEP-0199 ping to the server and waits for the reply.
 * @returns the reply element's text
 */
export async function rawPing(raw: RawClient, timeoutMs = 5000): Promise<string> {
  const id = `ping-${++counter}`;
  const from = raw.length;
  await raw.send(`<iq type='get' to='${DOMAIN}' id='${id}'><ping xmlns='${NS.ping}'/></iq>`);
  const [reply] = await raw.waitFor(elementRe('iq', { id }), { from, timeoutMs });
  return reply;
}
