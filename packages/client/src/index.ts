/**
 * @parley/client: the XMPP client side shared by the test kit, the scansion runner and the
 * load generator: TCP c2s and WebSocket (RFC 7395) connections, stream open and restart
 * (RFC 6120 §4.2, §6.4.6), top-level element framing (text, parsed with ltx on demand),
 * SASL PLAIN and SCRAM (through @parley/sasl), resource binding and the legacy session.
 */
export { XmppConnection, type ConnectOptions } from './connection.js';
export { connectTransport, connectSocket, splitTarget, type Transport, type TransportHandlers, type TransportSpec } from './transport.js';
export { StreamScanner, DEFAULT_MAX_ELEMENT_CHARS, type ScannerEvents } from './stream-scanner.js';
export { login, openStream, authenticate, bindResource, offeredMechanisms } from './negotiate.js';
export type { StreamChannel, TopElement, LoginOptions, LoginResult, LoginMechanism, StepTiming } from './negotiate.js';
export { ClientError, type ClientErrorCode } from './errors.js';
export { CLIENT_NS, escapeXml, streamHeader, wsOpen, WS_CLOSE, parseTopLevel, isStreamError, streamCondition, saslCondition, stanzaCondition } from './xml.js';
