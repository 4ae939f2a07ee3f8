import type { Socket } from 'node:net';
import { streamError } from '@parley/stanza';
import { serialize, streamFooter, streamHeader } from '@parley/xml';

/**
 * The remote IP address of a connection as a map key: IPv4-mapped IPv6 addresses
 * (`::ffff:10.0.0.1`) are written as IPv4, so one client is one key on a dual-stack listener.
 * @param address - `socket.remoteAddress`; undefined (a socket already closed) gives `"?"`
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') return '?';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The address part of a transport's `remote` (`"<ip>:<port>"`, IPv6 without brackets). */
export function addressOfRemote(remote: string): string {
  const colon = remote.lastIndexOf(':');
  return addressKey(colon > 0 ? remote.slice(0, colon) : remote);
}

/** One admitted connection's hold on its address's counts; every method is idempotent. */
export interface AddressTicket {
  readonly address: string;
  /** The connection authenticated (SASL success): it no longer counts as unauthenticated. */
  authenticated(): void;
  /** The connection is gone: it no longer counts at all. */
  release(): void;
}

interface Counts {
  open: number;
  unauthenticated: number;
}

/**
 * Per remote IP address caps on one gateway's client connections (issue #10): at most
 * `maxOpen` open connections and, of those, at most `maxUnauthenticated` that have not
 * completed SASL. Loopback is not exempt. Counts live in a `Map` keyed by the address
 * (never a plain object: the key is remote input in spirit) and an address's entry goes
 * when its last connection does.
 */
export class AddressLimits {
  private readonly counts = new Map<string, Counts>();

  constructor(private readonly maxOpen: number, private readonly maxUnauthenticated: number) {}

  /** Number of addresses with at least one connection (for tests and metrics). */
  get addresses(): number {
    return this.counts.size;
  }

  /** Why a new connection from `address` would be refused now, or undefined when it would be admitted. */
  refusal(address: string): string | undefined {
    const c = this.counts.get(address);
    if (!c) return undefined;
    if (c.open >= this.maxOpen) return `too many connections from ${address} (at most ${this.maxOpen})`;
    if (c.unauthenticated >= this.maxUnauthenticated) return `too many unauthenticated connections from ${address} (at most ${this.maxUnauthenticated})`;
    return undefined;
  }

  /**
   * Admits a new, unauthenticated connection from `address`.
   * @returns its ticket, or a string saying why it is refused (then nothing was counted)
   */
  admit(address: string): AddressTicket | string {
    const refused = this.refusal(address);
    if (refused !== undefined) return refused;
    let c = this.counts.get(address);
    if (!c) {
      c = { open: 0, unauthenticated: 0 };
      this.counts.set(address, c);
    }
    c.open += 1;
    c.unauthenticated += 1;
    let unauthenticated = true;
    let released = false;
    const counts = c;
    return {
      address,
      authenticated: () => {
        if (!unauthenticated || released) return;
        unauthenticated = false;
        counts.unauthenticated -= 1;
      },
      release: () => {
        if (released) return;
        released = true;
        counts.open -= 1;
        if (unauthenticated) counts.unauthenticated -= 1;
        unauthenticated = false;
        if (counts.open === 0 && this.counts.get(address) === counts) this.counts.delete(address);
      },
    };
  }
}

/**
 * Refuses a c2s TCP connection at once: our stream header, then the stream error
 * `policy-violation` (RFC 6120 §4.9.3.14, "the entity has violated some local service
 * policy") with `text`, then our closing tag (RFC 6120 §4.9.1.1 allows sending the error
 * right after our header, before reading the client's); the socket is ended and destroyed
 * after at most 1 s. Nothing of the client's input is read.
 */
export function refuseTcp(socket: Socket, domain: string, text: string): void {
  socket.on('error', () => socket.destroy());
  socket.end(streamHeader({ from: domain, version: '1.0', 'xml:lang': 'en' }) + serialize(streamError('policy-violation', text)) + streamFooter());
  setTimeout(() => socket.destroy(), 1000).unref();
}
