/*
 * XEP-0156 Discovering Alternative XMPP Connection Methods, the HTTP lookup method (§3):
 * `/.well-known/host-meta` (RFC 6415 XRD) and `/.well-known/host-meta.json` (RFC 6415 JRD),
 * served by the WebSocket listener's HTTP server, advertising its RFC 7395 endpoint with the
 * link relation `urn:xmpp:alt-connections:websocket` (§3.2). The spec is not in
 * ../shared/specs: written from XEP-0156 1.4.0. Prosody 0.12 has no host-meta in core (the
 * community module mod_http_altconnect serves it), so there is nothing to compare with.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Element } from 'ltx';
import { serialize } from '@parley/xml';

/** XEP-0156 §3.2: the link relation of an XMPP over WebSocket endpoint. */
export const WEBSOCKET_REL = 'urn:xmpp:alt-connections:websocket';
const XRD_NS = 'http://docs.oasis-open.org/ns/xri/xrd-1.0';
const XRD_PATH = '/.well-known/host-meta';
const JRD_PATH = '/.well-known/host-meta.json';
/** Longest Host header looked at, characters (a DNS name is at most 253, plus a port). */
const MAX_HOST_CHARS = 300;

/** Where the advertised URL comes from. */
export interface HostMetaOptions {
  /** The served XMPP domains: a request's Host is used only when it is one of them. */
  hosts: readonly string[];
  /** `gateway.wsPublicUrl`: advertised as is when set. */
  publicUrl: string | undefined;
  /** Whether clients reach the listener over TLS (`tls.wss`, or a TLS proxy in front): `wss`. */
  secure: boolean;
  /** `gateway.wsPath`. */
  wsPath: string;
  /** The listener's port (known once it listens). */
  port: () => number;
}

/**
 * The WebSocket URL to advertise for a request: `publicUrl` when configured; otherwise
 * `ws[s]://<host>:<port><wsPath>` where host is the request's Host (without its port,
 * lower-cased) when that is a served domain, else the first served domain. The Host header
 * is never echoed otherwise (no reflection of untrusted input into what clients connect to).
 */
export function advertisedWebSocketUrl(opts: HostMetaOptions, hostHeader: string | undefined): string {
  if (opts.publicUrl !== undefined) return opts.publicUrl;
  const asked = hostHeader !== undefined && hostHeader.length <= MAX_HOST_CHARS ? /^([^:[\]]+)(?::\d{1,5})?$/.exec(hostHeader.trim())?.[1]?.toLowerCase() : undefined;
  const host = asked !== undefined && opts.hosts.includes(asked) ? asked : (opts.hosts[0] ?? 'localhost');
  return `${opts.secure ? 'wss' : 'ws'}://${host}:${opts.port()}${opts.wsPath}`;
}

/** The XRD document (XEP-0156 §3.2, Example 2). */
export function hostMetaXrd(url: string): string {
  const xrd = new Element('XRD', { xmlns: XRD_NS });
  xrd.c('Link', { rel: WEBSOCKET_REL, href: url });
  return `<?xml version='1.0' encoding='utf-8'?>\n${serialize(xrd)}\n`;
}

/** The JSON document (XEP-0156 §3.2, Example 3). */
export function hostMetaJson(url: string): string {
  return `${JSON.stringify({ links: [{ rel: WEBSOCKET_REL, href: url }] })}\n`;
}

/**
 * An HTTP request handler for the two host-meta paths (the query string ignored): `GET` and
 * `HEAD` answer 200 with `application/xrd+xml` or `application/json`; `OPTIONS` answers 204
 * (a CORS preflight); other methods 405 with `Allow`. Every answer carries
 * `Access-Control-Allow-Origin: *` (XEP-0156 §3's CORS note: browser clients read host-meta
 * across origins). Returns false, answering nothing, for any other path.
 */
export function hostMetaHandler(opts: HostMetaOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const raw = req.url ?? '';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    if (path !== XRD_PATH && path !== JRD_PATH) return false;
    const cors = { 'access-control-allow-origin': '*' };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, HEAD, OPTIONS', 'access-control-max-age': '86400' }).end();
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...cors, allow: 'GET, HEAD, OPTIONS' }).end();
      return true;
    }
    const url = advertisedWebSocketUrl(opts, req.headers.host);
    const json = path === JRD_PATH;
    const body = json ? hostMetaJson(url) : hostMetaXrd(url);
    res.writeHead(200, {
      ...cors,
      'content-type': json ? 'application/json' : 'application/xrd+xml; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'max-age=300',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
