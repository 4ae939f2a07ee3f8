import { randomBytes } from 'node:crypto';

/** A Redis key prefix no other test run uses, e.g. `it:offline:3fa9c1:`. */
export function uniquePrefix(testName: string): string {
  return `it:${testName}:${randomBytes(3).toString('hex')}:`;
}

/** The XMPP domain every test gateway serves (`PARLEY_HOSTS` default). */
export const DOMAIN = 'localhost';

/** Namespaces used across the tests. */
export const NS = {
  client: 'jabber:client',
  stream: 'http://etherx.jabber.org/streams',
  streams: 'urn:ietf:params:xml:ns:xmpp-streams',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  discoInfo: 'http://jabber.org/protocol/disco#info',
  discoItems: 'http://jabber.org/protocol/disco#items',
  ping: 'urn:xmpp:ping',
  version: 'jabber:iq:version',
  delay: 'urn:xmpp:delay',
} as const;
