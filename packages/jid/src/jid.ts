// RFC 7622 §3: a JID is `[ localpart "@" ] domainpart [ "/" resourcepart ]`. A `Jid` only
// ever holds parts that have been prepared and enforced (§3.2–§3.4), so two JIDs denote
// the same entity exactly when their parts are equal strings (§3.5 comparison).

import { normalizeResourcepart } from './resourcepart.js';

let construct: (local: string | undefined, domain: string, resource: string | undefined) => Jid;

/**
 * An immutable, normalised JID. Obtain one from `parseJid`, `tryParseJid` or `jid`; there
 * is no public constructor, so every instance holds canonical parts.
 */
export class Jid {
  /** Normalised localpart (RFC 7622 §3.3), or undefined for a JID without `@`. */
  readonly local: string | undefined;
  /** Normalised domainpart (RFC 7622 §3.2): lowercase U-labels, IPv4, or `[IPv6]`. */
  readonly domain: string;
  /** Normalised resourcepart (RFC 7622 §3.4), case preserved, or undefined for a bare JID. */
  readonly resource: string | undefined;
  #text: string | undefined;

  static {
    construct = (local, domain, resource) => new Jid(local, domain, resource);
  }

  private constructor(local: string | undefined, domain: string, resource: string | undefined) {
    this.local = local;
    this.domain = domain;
    this.resource = resource;
    Object.freeze(this);
  }

  /** This JID without its resourcepart (`this` when it is already bare). */
  bare(): Jid {
    return this.resource === undefined ? this : construct(this.local, this.domain, undefined);
  }

  /** True when there is no resourcepart. */
  isBare(): boolean {
    return this.resource === undefined;
  }

  /**
   * This JID with `resource` as its resourcepart, normalised (OpaqueString, RFC 7622 §3.4).
   * @throws JidError when `resource` is not a valid resourcepart.
   */
  withResource(resource: string): Jid {
    return construct(this.local, this.domain, normalizeResourcepart(resource));
  }

  /** `local@domain/resource`, each part normalised; computed once. */
  toString(): string {
    this.#text ??=
      (this.local === undefined ? '' : `${this.local}@`) +
      this.domain +
      (this.resource === undefined ? '' : `/${this.resource}`);
    return this.#text;
  }

  /** True when all three parts are equal (RFC 7622 §3.5: compare after enforcement). */
  equals(other: Jid): boolean {
    return (
      this === other ||
      (this.domain === other.domain && this.local === other.local && this.resource === other.resource)
    );
  }
}

/** Package-internal: wraps parts that are already normalised, without checking them. */
export function fromNormalizedParts(local: string | undefined, domain: string, resource: string | undefined): Jid {
  return construct(local, domain, resource);
}
