// Channel binding for the SCRAM -PLUS mechanisms (RFC 5802 §6, RFC 5056) over TLS:
//   tls-exporter (RFC 9266 §2): 32 octets of TLS keying material, label
//     "EXPORTER-Channel-Binding", empty context. Defined here for TLS 1.3 only (RFC 9266 §3
//     allows TLS 1.2 only with extended master secret, which Node cannot report).
//   tls-server-end-point (RFC 5929 §4.1): the hash of the server's certificate (DER), with
//     the hash function of the certificate's signature algorithm; MD5 and SHA-1 become
//     SHA-256. Undefined when the signature has no single hash (Ed25519, Ed448): not offered.
// The certificate is parsed with @peculiar/asn1-x509 (node:crypto's X509Certificate does not
// expose the signature algorithm on Node 20).

import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { id_RSASSA_PSS, RsaSaPssParams } from '@peculiar/asn1-rsa';

/** The channel binding types the -PLUS mechanisms support, most preferred first (IANA channel-binding unique prefixes). */
export const CHANNEL_BINDING_TYPES = ['tls-exporter', 'tls-server-end-point'] as const;

/** One of {@link CHANNEL_BINDING_TYPES}. */
export type ChannelBindingType = (typeof CHANNEL_BINDING_TYPES)[number];

/**
 * The channel bindings one connection offers (the server's view or the client's).
 * `types` is what the server advertises (XEP-0440) and accepts in a `p=` GS2 flag;
 * `data(type)` is the channel binding data for a listed type, undefined for any other.
 */
export interface ChannelBinding {
  readonly types: readonly ChannelBindingType[];
  data(type: string): Buffer | undefined;
}

/** Hash names for the signature algorithm OIDs RFC 5929 §4.1 maps; MD5 and SHA-1 map to SHA-256. */
const SIGNATURE_HASH: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.4', 'sha256'], // md5WithRSAEncryption
  ['1.2.840.113549.1.1.5', 'sha256'], // sha1WithRSAEncryption
  ['1.2.840.113549.1.1.14', 'sha224'],
  ['1.2.840.113549.1.1.11', 'sha256'],
  ['1.2.840.113549.1.1.12', 'sha384'],
  ['1.2.840.113549.1.1.13', 'sha512'],
  ['1.2.840.10045.4.1', 'sha256'], // ecdsa-with-SHA1
  ['1.2.840.10045.4.3.1', 'sha224'],
  ['1.2.840.10045.4.3.2', 'sha256'],
  ['1.2.840.10045.4.3.3', 'sha384'],
  ['1.2.840.10045.4.3.4', 'sha512'],
  ['1.2.840.10040.4.3', 'sha256'], // dsa-with-sha1
  ['2.16.840.1.101.3.4.3.2', 'sha256'], // dsa-with-sha256
]);
/** Digest OIDs, for RSASSA-PSS parameters (RFC 4055 §3.1). */
const DIGEST: ReadonlyMap<string, string> = new Map([
  ['1.3.14.3.2.26', 'sha256'], // SHA-1 → SHA-256 (RFC 5929 §4.1)
  ['2.16.840.1.101.3.4.2.4', 'sha224'],
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);

/**
 * The hash function RFC 5929 §4.1 picks for a certificate: its signature algorithm's hash,
 * SHA-256 for MD5 and SHA-1.
 * @param der - the certificate, DER-encoded
 * @returns a node:crypto hash name, or undefined when the certificate cannot be parsed or its
 *   signature algorithm has no single hash function (Ed25519, Ed448, unknown OIDs)
 */
export function serverEndPointHash(der: Buffer): string | undefined {
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
  } catch {
    return undefined;
  }
  const alg = cert.signatureAlgorithm;
  if (alg.algorithm === id_RSASSA_PSS) {
    if (!alg.parameters) return 'sha256'; // all defaults: SHA-1, mapped to SHA-256
    try {
      return DIGEST.get(AsnConvert.parse(alg.parameters, RsaSaPssParams).hashAlgorithm.algorithm);
    } catch {
      return undefined;
    }
  }
  return SIGNATURE_HASH.get(alg.algorithm);
}

/** Certificate (DER, base64) → its RFC 5929 hash name, or null for none. */
const HASH_CACHE = new Map<string, string | null>();
const HASH_CACHE_MAX = 64;

/**
 * tls-server-end-point channel binding data (RFC 5929 §4.1) for a DER certificate.
 * @returns the hash, or undefined when {@link serverEndPointHash} has none
 */
export function tlsServerEndPoint(der: Buffer): Buffer | undefined {
  const key = der.toString('base64');
  let hash = HASH_CACHE.get(key);
  if (hash === undefined) {
    // Parsing costs about 0.8 ms per RSA certificate; a gateway serves a few certificates, so
    // the choice is kept per certificate (bounded: cleared when full, e.g. after many reloads).
    hash = serverEndPointHash(der) ?? null;
    if (HASH_CACHE.size >= HASH_CACHE_MAX) HASH_CACHE.clear();
    HASH_CACHE.set(key, hash);
  }
  return hash === null ? undefined : createHash(hash).update(der).digest();
}

/** tls-exporter channel binding data (RFC 9266 §2) of an established TLS 1.3 connection. */
export function tlsExporter(socket: TLSSocket): Buffer {
  return socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
}

/**
 * The channel bindings of an established TLS connection: tls-exporter on TLS 1.3, and
 * tls-server-end-point when the server certificate's signature names a hash. `side` says
 * whose socket it is: the server hashes its own certificate, the client the peer's. The
 * data are computed when asked for (the socket must still be open) and then kept.
 */
export function tlsChannelBinding(socket: TLSSocket, side: 'server' | 'client'): ChannelBinding {
  const cache = new Map<ChannelBindingType, Buffer | undefined>();
  const compute = (type: ChannelBindingType): Buffer | undefined => {
    if (!cache.has(type)) {
      let value: Buffer | undefined;
      try {
        if (type === 'tls-exporter') value = socket.getProtocol() === 'TLSv1.3' ? tlsExporter(socket) : undefined;
        else {
          // getCertificate() is `{}` or null when there is no local certificate.
          const cert = (side === 'server' ? socket.getCertificate() : socket.getPeerCertificate()) as { raw?: Buffer } | null;
          const raw = cert?.raw;
          value = raw && raw.length > 0 ? tlsServerEndPoint(raw) : undefined;
        }
      } catch {
        value = undefined; // socket already closed: no binding
      }
      cache.set(type, value);
    }
    return cache.get(type);
  };
  return {
    get types() {
      return CHANNEL_BINDING_TYPES.filter((t) => compute(t) !== undefined);
    },
    data(type: string) {
      return (CHANNEL_BINDING_TYPES as readonly string[]).includes(type) ? compute(type as ChannelBindingType) : undefined;
    },
  };
}

/** A fixed {@link ChannelBinding} (tests, and clients that computed the data themselves). */
export function fixedChannelBinding(data: ReadonlyMap<ChannelBindingType, Buffer>): ChannelBinding {
  return {
    types: CHANNEL_BINDING_TYPES.filter((t) => data.has(t)),
    data: (type) => ((CHANNEL_BINDING_TYPES as readonly string[]).includes(type) ? data.get(type as ChannelBindingType) : undefined),
  };
}
