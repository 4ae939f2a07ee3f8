import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { connectSocket } from '@parley/client';
import { TestkitError } from './errors.js';

/** What {@link RawClient.waitFor} looks for in the received text. */
export type RawMatch = RegExp | ((text: string) => boolean);

/** Options of {@link RawClient.waitFor}. */
export interface RawWaitOptions {
  /** Give up after this many ms (default 5000). */
  timeoutMs?: number;
  /** Only look at text received from this offset on (a value of {@link RawClient.length}). */
  from?: number;
}

/** How {@link RawClient.pump} ended. */
export interface PumpResult {
  /** Bytes handed to the socket (the kernel may not have delivered all of them). */
  bytesSent: number;
  /** `done`: every chunk was written; `closed`: the socket closed first; `matched`: `stopWhen` matched. */
  stoppedBy: 'done' | 'closed' | 'matched';
}

const TAIL = 2000;

/**
 * A deliberately dumb XMPP client on a raw TCP socket, for sending bytes a real client never
 * would (garbage, DOCTYPEs, huge stanzas, half a tag) and reading back exactly what the
 * server wrote. Everything received is kept as one UTF-8 string ({@link RawClient.text}).
 */
export class RawClient {
  readonly #socket: Socket;
  readonly #decoder = new StringDecoder('utf8');
  readonly #closed: Promise<void>;
  readonly #listeners = new Set<() => void>();
  #text = '';
  #isClosed = false;
  #endedByServer = false;
  #error: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#text += this.#decoder.write(chunk);
      this.#notify();
    });
    socket.on('end', () => (this.#endedByServer = true));
    socket.on('error', (err) => (this.#error = err));
    this.#closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#text += this.#decoder.end();
        this.#isClosed = true;
        this.#notify();
        resolve();
      }),
    );
  }

  /**
   * Opens a TCP connection to `host:port` (default host 127.0.0.1), through @parley/client.
   * @throws Error on connection failure (e.g. `code` ECONNREFUSED) or after 10 s
   */
  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new RawClient(await connectSocket({ host, port }));
  }

  /** Everything received so far, decoded as UTF-8. */
  get text(): string {
    return this.#text;
  }

  /** Length of {@link RawClient.text}; pass it as `from` to wait only for what comes next. */
  get length(): number {
    return this.#text.length;
  }

  /** Whether the socket has closed (either side). */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Whether the server ended its side of the connection (TCP FIN), as opposed to a reset. */
  get endedByServer(): boolean {
    return this.#endedByServer;
  }

  /** The socket error, if any (e.g. ECONNRESET, EPIPE after the server closed). */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Writes `data`; resolves once it is handed to the kernel, rejects if the socket fails first. */
  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#socket.destroyed) {
        reject(new Error('RawClient.send: socket already closed'));
        return;
      }
      this.#socket.write(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  /**
   * Writes chunks one after another, respecting back-pressure, until they run out, the socket
   * closes, or `stopWhen` matches the received text. Never rejects for a socket error (a
   * server closing mid-stream is the point of most callers); see {@link RawClient.error}.
   * Chunks are pulled lazily, so a generator can produce gigabytes without holding them.
   */
  async pump(chunks: Iterable<string | Buffer>, opts: { stopWhen?: RawMatch } = {}): Promise<PumpResult> {
    let bytesSent = 0;
    for (const chunk of chunks) {
      if (this.#isClosed || this.#socket.destroyed) return { bytesSent, stoppedBy: 'closed' };
      if (opts.stopWhen && matches(opts.stopWhen, this.#text)) return { bytesSent, stoppedBy: 'matched' };
      const flushed = this.#socket.write(chunk, () => {});
      bytesSent += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (!flushed) {
        await new Promise<void>((resolve) => {
          const done = () => {
            this.#socket.off('drain', done);
            this.#socket.off('close', done);
            resolve();
          };
          this.#socket.once('drain', done);
          this.#socket.once('close', done);
        });
      } else {
        // Let 'data' and 'close' events in between writes.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (this.#isClosed || this.#socket.destroyed) return { bytesSent, stoppedBy: 'closed' };
    return { bytesSent, stoppedBy: 'done' };
  }

  /**
   * Waits until the received text (from `opts.from` on) matches.
   * @returns the RegExp match, or for a predicate the text it accepted
   * @throws TestkitError `RAW_TIMEOUT` (quoting the end of what was received) after the
   *   timeout, or as soon as the socket closes without a match
   */
  waitFor(match: RegExp, opts?: RawWaitOptions | number): Promise<RegExpExecArray>;
  waitFor(match: (text: string) => boolean, opts?: RawWaitOptions | number): Promise<string>;
  waitFor(match: RawMatch, opts: RawWaitOptions | number = {}): Promise<RegExpExecArray | string> {
    const { timeoutMs = 5000, from = 0 } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
    const check = (): RegExpExecArray | string | undefined => {
      const text = this.#text.slice(from);
      if (typeof match === 'function') return match(text) ? text : undefined;
      match.lastIndex = 0;
      return match.exec(text) ?? undefined;
    };
    const first = check();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise((resolve, reject) => {
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        fn();
      };
      const fail = (why: string) =>
        finish(() => reject(new TestkitError('RAW_TIMEOUT', `${why} waiting for ${String(match)}; received (last ${TAIL} chars): ${JSON.stringify(this.#text.slice(-TAIL))}`)));
      const listener = () => {
        const hit = check();
        if (hit !== undefined) finish(() => resolve(hit));
        else if (this.#isClosed) fail('socket closed');
      };
      const timer = setTimeout(() => fail(`${timeoutMs} ms passed`), timeoutMs);
      this.#listeners.add(listener);
      if (this.#isClosed) listener();
    });
  }

  /**
   * Resolves when the socket has closed (normally: the server closed it).
   * @throws Error if it is still open after `timeoutMs` (default 10 000)
   */
  async closed(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`RawClient: socket still open after ${timeoutMs} ms; received: ${JSON.stringify(this.#text.slice(-TAIL))}`)), timeoutMs);
    });
    try {
      await Promise.race([this.#closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Half-closes: sends TCP FIN but keeps reading. */
  end(): void {
    this.#socket.end();
  }

  /** Closes the socket at once (no FIN handshake wait). Safe to call twice. */
  destroy(): void {
    this.#socket.destroy();
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }
}

function matches(match: RawMatch, text: string): boolean {
  if (typeof match === 'function') return match(text);
  match.lastIndex = 0;
  return match.test(text);
}
