// Test helper, not a test: an in-memory SaslBackend recording what it was asked.
import { verifyPassword, type SaslBackend, type StoredCredentials } from '@parley/sasl';

export interface MemoryBackend extends SaslBackend {
  lookups: string[];
  plainChecks: Array<[string, string]>;
}

export function memoryBackend(accounts: Record<string, StoredCredentials>): MemoryBackend {
  const byName = new Map(Object.entries(accounts));
  const lookups: string[] = [];
  const plainChecks: Array<[string, string]> = [];
  return {
    lookups,
    plainChecks,
    async getCredentials(username) {
      lookups.push(username);
      return byName.get(username);
    },
    async checkPlain(username, password) {
      plainChecks.push([username, password]);
      const creds = byName.get(username);
      return creds !== undefined && (await verifyPassword(creds, password));
    },
  };
}
