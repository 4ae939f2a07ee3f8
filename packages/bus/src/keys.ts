/**
 * Every Redis key name the cluster uses, in one place.
 *
 * Keys that belong together carry the same hash tag (`{...}`) so that, on Redis Cluster,
 * a user's session registry, offline queue and account live in one slot, and a gateway's
 * delivery stream and session set live in another. All keys start with a configurable
 * prefix so that several clusters (or test runs) can share one Redis.
 */
export interface KeySpace {
  /** The prefix every key starts with, e.g. `parley:`. */
  readonly prefix: string;
  /** Hash: resource → JSON {@link SessionRecord}, one field per bound resource of a bare JID. */
  userSessions(bareJid: string): string;
  /** List of serialised stanzas waiting for the user's next available presence (RFC 6121 §8.5.2.1.1). */
  offline(bareJid: string): string;
  /** Hash holding one account: `credentials` (JSON StoredCredentials) and `created` (ms since epoch). */
  account(bareJid: string): string;
  /** Set of the bare JIDs of every account, for listing (`xmppctl user list`). */
  accountIndex(): string;
  /** Sorted set: gateway id → time of its last heartbeat (ms since epoch). */
  gateways(): string;
  /** Hash describing one live gateway: host, c2s/WebSocket ports, pid, start time. */
  gatewayInfo(gatewayId: string): string;
  /** Set of the full JIDs whose sessions a gateway holds (so a dead gateway's sessions can be removed). */
  gatewaySessions(gatewayId: string): string;
  /** Stream of envelopes for the sessions of one gateway (consumed by a group, see {@link DELIVERY_GROUP}). */
  gatewayDelivery(gatewayId: string): string;
  /** A random secret shared by the gateways: SCRAM decoy salts for unknown users derive from it. */
  saslDecoySecret(): string;
  /** Short-lived lock held while one gateway cleans up after a dead one. */
  reaperLock(gatewayId: string): string;
}

/** Consumer group name on every gateway delivery stream. */
export const DELIVERY_GROUP = 'gateway';

/**
 * Builds the {@link KeySpace} for a prefix.
 * @param prefix - prepended to every key; conventionally ends with `:` (default `parley:`).
 */
export function keySpace(prefix = 'parley:'): KeySpace {
  const user = (kind: string) => (bare: string) => `${prefix}${kind}:{u:${bare}}`;
  const gw = (kind: string) => (id: string) => `${prefix}gw:{g:${id}}:${kind}`;
  return {
    prefix,
    userSessions: user('sessions'),
    offline: user('offline'),
    account: user('account'),
    accountIndex: () => `${prefix}accounts`,
    gateways: () => `${prefix}gateways`,
    gatewayInfo: gw('info'),
    gatewaySessions: gw('sessions'),
    gatewayDelivery: gw('deliver'),
    reaperLock: gw('reaper'),
    saslDecoySecret: () => `${prefix}sasl-decoy-secret`,
  };
}
