import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Config } from '@parley/config';

/** A certificate that could not be loaded; `message` is one line naming the setting and the file. */
export class TlsCertificateError extends Error {
  override readonly name = 'TlsCertificateError';
}

/** One certificate/key pair as read from disk (PEM). */
interface LoadedPair {
  cert: Buffer;
  key: Buffer;
  context: SecureContext;
}

/** Where a pair comes from: the setting that named it, for error messages. */
interface PairSource {
  setting: string;
  certFile: string;
  keyFile: string;
}

function readPem(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new TlsCertificateError(`${setting}: cannot read ${file} (${code}: ${reason})`);
  }
}

function loadPair(src: PairSource): LoadedPair {
  const cert = readPem(`${src.setting}.certFile`, src.certFile);
  const key = readPem(`${src.setting}.keyFile`, src.keyFile);
  try {
    return { cert, key, context: createSecureContext({ cert, key }) };
  } catch (err) {
    // e.g. "key values mismatch", "no start line" (not PEM).
    throw new TlsCertificateError(`${src.setting}: ${src.certFile} / ${src.keyFile} are not a usable PEM certificate and key (${(err as Error).message})`);
  }
}

/**
 * The gateway's TLS certificates: a default pair (`tls.certFile`/`tls.keyFile`, else the
 * first of `tls.certificates`) and one per host of `tls.certificates`, chosen by the
 * server name the client sends (SNI, RFC 6066 §3; RFC 7590 §3.1 on XMPP's use of it).
 * Host names are matched case-insensitively and exactly (no wildcards); a name matching no
 * entry, or no name, gets the default pair.
 *
 * {@link reload} reads every file again and swaps the contexts in one step: connections
 * handshaking afterwards get the new certificates, established ones keep theirs (their TLS
 * state does not depend on the context once the handshake is done).
 */
export class TlsCertificates {
  /** Lower-cased host name → context. A Map: the SNI name is client input. */
  private byHost = new Map<string, SecureContext>();
  private fallback!: LoadedPair;
  /** Called after each successful {@link reload} (e.g. to update an https server's default). */
  private readonly listeners: Array<(pair: { cert: Buffer; key: Buffer }) => void> = [];

  private constructor(private readonly sources: { fallback: PairSource | undefined; hosts: Array<PairSource & { host: string }> }) {
    this.apply(this.loadAll());
  }

  /**
   * Reads the configured certificates, or returns `undefined` when none is configured.
   * @throws TlsCertificateError when a file cannot be read or is not a matching PEM pair
   */
  static fromConfig(config: Config): TlsCertificates | undefined {
    const t = config.tls;
    const fallback = t.certFile && t.keyFile ? { setting: 'tls', certFile: t.certFile, keyFile: t.keyFile } : undefined;
    const hosts = t.certificates.map((c, i) => ({ setting: `tls.certificates[${i}]`, host: c.host, certFile: c.certFile, keyFile: c.keyFile }));
    if (!fallback && hosts.length === 0) return undefined;
    return new TlsCertificates({ fallback, hosts });
  }

  private loadAll(): { fallback: LoadedPair; byHost: Map<string, SecureContext> } {
    const byHost = new Map<string, SecureContext>();
    let first: LoadedPair | undefined;
    for (const src of this.sources.hosts) {
      const pair = loadPair(src);
      first ??= pair;
      byHost.set(src.host.toLowerCase(), pair.context);
    }
    const fallback = this.sources.fallback ? loadPair(this.sources.fallback) : first!;
    return { fallback, byHost };
  }

  private apply(loaded: { fallback: LoadedPair; byHost: Map<string, SecureContext> }): void {
    this.fallback = loaded.fallback;
    this.byHost = loaded.byHost;
  }

  /** The context of connections that name no configured host. */
  get defaultContext(): SecureContext {
    return this.fallback.context;
  }

  /** The default pair's PEM, for servers built from `cert`/`key` options (https). */
  get defaultPem(): { cert: Buffer; key: Buffer } {
    return { cert: this.fallback.cert, key: this.fallback.key };
  }

  /** The context for an SNI `servername` (any string a client sent). */
  contextFor(servername: string | undefined): SecureContext {
    if (servername === undefined || servername.length > 1023) return this.fallback.context;
    return this.byHost.get(servername.toLowerCase()) ?? this.fallback.context;
  }

  /** A `SNICallback` for `tls.TLSSocket`/`tls.Server`/`https.Server` options. */
  readonly sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    cb(null, this.contextFor(servername));
  };

  /** Options for a server-side `new TLSSocket(socket, …)`. */
  socketOptions(): { isServer: true; secureContext: SecureContext; SNICallback: TlsCertificates['sniCallback'] } {
    return { isServer: true, secureContext: this.fallback.context, SNICallback: this.sniCallback };
  }

  /** Registers `fn` to run with the new default pair after each successful reload. */
  onReload(fn: (pair: { cert: Buffer; key: Buffer }) => void): void {
    this.listeners.push(fn);
  }

  /**
   * Reads every certificate file again and swaps them in for new handshakes; sessions
   * already encrypted are not touched.
   * @throws TlsCertificateError when a file cannot be read; the previous certificates stay in use
   */
  reload(): void {
    const loaded = this.loadAll();
    this.apply(loaded);
    for (const fn of this.listeners) fn(this.defaultPem);
  }

  /** How many host-specific certificates are loaded (for logs). */
  get hostCount(): number {
    return this.byHost.size;
  }
}
