/*
 * The gateway's part of the per-hop trace of groupchat messages (issue #15 item 1, the
 * `debug.hopTrace` setting; the format and the points are in @parley/bus hop-trace.ts).
 * Ingress: the TCP transport stamps a message element when it is parsed ({@link markIngress}),
 * the router adds its own stamps and puts the trace in the shard stream entry. Delivery: the
 * delivery consumer sets {@link deliveryTrace} around the synchronous hand-over of a traced
 * envelope to a session; the TCP transport keeps it with the queued text and, at the
 * `socket.write` that sends it, logs the whole trace ({@link traceWritten}).
 * Everything here is a no-op unless `hopTracing.on`.
 */
import type { Element } from 'ltx';
import type { Logger } from 'pino';
import { extendHopTrace, hopNowUs, namedHopStamps, type HopTrace } from '@parley/bus';

/** The stamps `gw.read`, `gw.parsed` of message elements read from clients, until routed. */
const ingress = new WeakMap<Element, number[]>();

let log: Logger | undefined;
let gatewayId = 'gw';
let counter = 0;

/** Where the traces are logged and what their ids start with; called once by the gateway when tracing is on. */
export function configureHopTrace(logger: Logger, id: string): void {
  log = logger;
  gatewayId = id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 48);
}

/** The transport parsed a message element whose last bytes were read at `readUs` (µs since the epoch). */
export function markIngress(el: Element, readUs: number): void {
  ingress.set(el, [readUs, hopNowUs()]);
}

/**
 * Starts the trace of a stanza the router sends to a room, or undefined when it is not a
 * traced groupchat message: its ingress stamps and `gw.toRoom` now; the caller appends
 * `gw.xadd` just before the XADD.
 */
export function ingressTrace(stanza: Element): HopTrace | undefined {
  const stamps = ingress.get(stanza);
  if (stamps === undefined || stanza.name !== 'message' || stanza.attrs.type !== 'groupchat') return undefined;
  ingress.delete(stanza);
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return { id: `${gatewayId}.${counter}`, stamps: [...stamps, hopNowUs()] };
}

/** Logs the reply to a traced write that is off the message's path (the ingress XADD): `sent` and `reply` in µs. */
export function traceAck(id: string, point: string, sent: number, reply: number): void {
  log?.info({ hopTrace: id, point, sent, reply }, 'hop trace ack');
}

/**
 * The traced delivery being handed to sessions right now (set by the delivery consumer around
 * its synchronous part, with the stamps up to `gd.handle`); the transport's write picks it up.
 */
export const deliveryTrace: { current: HopTrace | undefined } = { current: undefined };

/** A traced delivery queued at `queuedUs` left in a socket write at `writtenUs`: logs its whole trace (one line per recipient). */
export function traceWritten(trace: HopTrace, to: string | undefined, queuedUs: number, writtenUs: number): void {
  const full = extendHopTrace(trace, queuedUs, writtenUs);
  log?.info({ hopTrace: full.id, to, hop: namedHopStamps(full) }, 'hop trace');
}
