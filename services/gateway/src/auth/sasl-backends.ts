import { createHmac } from 'node:crypto';
import { tryParseJid } from '@parley/jid';
import type { MechanismOptions, SaslBackend, StoredCredentials } from '@parley/sasl';
import { verifyPassword } from '@parley/sasl';
import type { AccountStore } from '@parley/accounts';

/** Normalises a SASL authcid as the localpart of `domain` (RFC 7622 §3.3); undefined if invalid. */
export function accountJid(username: string, domain: string): string | undefined {
  if (username.length === 0 || username.includes('@') || username.includes('/')) return undefined;
  const jid = tryParseJid(`${username}@${domain}`);
  return jid?.isBare() ? jid.toString() : undefined;
}

/** Accounts stored in Redis: SCRAM against the stored keys, PLAIN verified against them too. */
export function redisSaslBackend(accounts: AccountStore, domain: string): SaslBackend {
  return {
    async getCredentials(username: string): Promise<StoredCredentials | undefined> {
      const bare = accountJid(username, domain);
      return bare === undefined ? undefined : accounts.getCredentials(bare);
    },
    async checkPlain(username: string, password: string): Promise<boolean> {
      const bare = accountJid(username, domain);
      if (bare === undefined) return false;
      const creds = await accounts.getCredentials(bare);
      return creds !== undefined && (await verifyPassword(creds, password));
    },
  };
}

/**
 * TEST-ONLY open authentication (`auth.backend = "open-insecure-test-only"`): PLAIN accepts
 * any password for any valid localpart and creates the account on first login, as
 * Prosody's test configuration does for the scansion seeds. SCRAM still checks stored
 * credentials (a SCRAM server cannot accept an unknown password: the client verifies
 * the server signature).
 *
 * Only a login whose account has no stored credentials derives new ones (two PBKDF2 runs,
 * {@link AccountStore.create}); a later login costs one Redis read and leaves the stored
 * credentials as they are, whatever password it gives. Two first logins of one user at
 * once both succeed: both may derive, but `create` keeps the first writer's credentials
 * (HSETNX) and its `false` for the other is not an error here.
 */
export function openSaslBackend(accounts: AccountStore, domain: string): SaslBackend {
  const stored = redisSaslBackend(accounts, domain);
  return {
    getCredentials: stored.getCredentials,
    async checkPlain(username: string, password: string): Promise<boolean> {
      const bare = accountJid(username, domain);
      if (bare === undefined) return false;
      if ((await accounts.getCredentials(bare)) === undefined) await accounts.create(bare, password);
      return true;
    },
  };
}

/** What a session needs to authenticate on one virtual host: its accounts and its SCRAM decoy options. */
export interface HostSasl {
  /** Looks usernames up as `<username>@<host>` only (RFC 6120 §6.4.6: the authcid is an account of the stream's domain). */
  readonly backend: SaslBackend;
  /** Decoy salts for unknown usernames, keyed per host (see {@link hostDecoySecret}). */
  readonly options: MechanismOptions;
}

/**
 * The key for SCRAM decoy salts on `host`: HMAC-SHA-256(cluster secret, "parley-scram-decoy\0" + host).
 * Per host, so that comparing the salts offered for one localpart on two hosts does not tell
 * whether the account exists on one of them (with one key, unknown users would show equal
 * salts everywhere and a real account would stand out).
 */
export function hostDecoySecret(clusterSecret: Buffer, host: string): Buffer {
  return createHmac('sha256', clusterSecret).update(`parley-scram-decoy\0${host}`).digest();
}

/**
 * One SASL backend per virtual host (RFC 6120 §4.7.2: the stream's `to` picks the host), as
 * a Map keyed by the host's domainpart; a session looks its stream's domain up here.
 *
 * @param open - true for `auth.backend = "open-insecure-test-only"` ({@link openSaslBackend})
 * @param clusterSecret - the secret shared by every gateway (Redis key `saslDecoySecret`)
 * @param decoyIterations - SCRAM iteration count shown for unknown usernames
 */
export function saslByHost(
  hosts: readonly string[],
  accounts: AccountStore,
  opts: { open: boolean; clusterSecret: Buffer; decoyIterations: number },
): ReadonlyMap<string, HostSasl> {
  const byHost = new Map<string, HostSasl>();
  for (const host of hosts) {
    byHost.set(host, {
      backend: opts.open ? openSaslBackend(accounts, host) : redisSaslBackend(accounts, host),
      options: { decoySecret: hostDecoySecret(opts.clusterSecret, host), decoyIterations: opts.decoyIterations },
    });
  }
  return byHost;
}
