import { tryParseJid } from '@parley/jid';
import type { SaslBackend, StoredCredentials } from '@parley/sasl';
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
 */
export function openSaslBackend(accounts: AccountStore, domain: string): SaslBackend {
  const stored = redisSaslBackend(accounts, domain);
  return {
    getCredentials: stored.getCredentials,
    async checkPlain(username: string, password: string): Promise<boolean> {
      const bare = accountJid(username, domain);
      if (bare === undefined) return false;
      await accounts.create(bare, password);
      return true;
    },
  };
}
