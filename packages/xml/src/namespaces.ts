// XML namespace names used by the server (RFC 6120, RFC 7395 and the XEPs named below).

/**
 * XMPP namespace names, keyed by a short constant name.
 *
 * - `CLIENT` `jabber:client`: default content namespace of client streams (RFC 6120 §4.8.3).
 * - `STREAM` `http://etherx.jabber.org/streams`: the `<stream:stream>` root and
 *   `<stream:features>`, `<stream:error>` (RFC 6120 §4.8.1).
 * - `FRAMING` `urn:ietf:params:xml:ns:xmpp-framing`: WebSocket `<open/>`/`<close/>` (RFC 7395 §3.3).
 * - `STREAMS` `urn:ietf:params:xml:ns:xmpp-streams`: stream error conditions (RFC 6120 §4.9.3).
 * - `STANZAS` `urn:ietf:params:xml:ns:xmpp-stanzas`: stanza error conditions (RFC 6120 §8.3.3).
 * - `SASL`, `BIND`, `TLS`: stream negotiation (RFC 6120 §6, §7, §5); `SESSION` (RFC 3921 §3, kept
 *   for old clients).
 * - `DISCO_INFO`, `DISCO_ITEMS` (XEP-0030), `PING` (XEP-0199), `VERSION` (XEP-0092),
 *   `DELAY` (XEP-0203), `MUC`, `MUC_USER`, `MUC_ADMIN`, `MUC_OWNER` (XEP-0045),
 *   `DATA` (XEP-0004), `REGISTER` (XEP-0077).
 */
export const NS = {
  CLIENT: 'jabber:client',
  STREAM: 'http://etherx.jabber.org/streams',
  FRAMING: 'urn:ietf:params:xml:ns:xmpp-framing',
  STREAMS: 'urn:ietf:params:xml:ns:xmpp-streams',
  STANZAS: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  SASL: 'urn:ietf:params:xml:ns:xmpp-sasl',
  BIND: 'urn:ietf:params:xml:ns:xmpp-bind',
  SESSION: 'urn:ietf:params:xml:ns:xmpp-session',
  TLS: 'urn:ietf:params:xml:ns:xmpp-tls',
  DISCO_INFO: 'http://jabber.org/protocol/disco#info',
  DISCO_ITEMS: 'http://jabber.org/protocol/disco#items',
  PING: 'urn:xmpp:ping',
  VERSION: 'jabber:iq:version',
  DELAY: 'urn:xmpp:delay',
  MUC: 'http://jabber.org/protocol/muc',
  MUC_USER: 'http://jabber.org/protocol/muc#user',
  MUC_ADMIN: 'http://jabber.org/protocol/muc#admin',
  MUC_OWNER: 'http://jabber.org/protocol/muc#owner',
  DATA: 'jabber:x:data',
  REGISTER: 'jabber:iq:register',
} as const;

/** Any of the namespace names in {@link NS}. */
export type KnownNamespace = (typeof NS)[keyof typeof NS];
