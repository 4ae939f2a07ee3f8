import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import type { KeySpace } from '@parley/bus';
import type { SaslBackend } from '@parley/sasl';
import { accountJid } from '../auth/sasl-backends.js';

/** Settings of an {@link AuthThrottle} (`auth.*` in the configuration). */
export interface AuthThrottleOptions {
  maxFailuresPerAddress: number;
  maxFailuresPerAccount: number;
  failureWindowMs: number;
}

/**
 * Thrown by a {@link AuthThrottle.guard}ed backend when the account is locked out; the
 * session answers `<failure><temporary-auth-failure/>` (RFC 6120 §6.5.11) with this message.
 */
export class AuthThrottled extends Error {
  constructor(readonly retryAfterMs: number, what: string) {
    super(`too many failed attempts ${what}; retry in ${Math.ceil(retryAfterMs / 1000)} s`);
    this.name = 'AuthThrottled';
  }
}

/** What one SASL exchange tried: the account named by the client, once the mechanism read it. */
export interface AuthAttempt {
  account: string | undefined;
}

/**
 * Failed SASL authentications counted per remote IP address and per account, in Redis so
 * that every gateway sees the same counts (like ejabberd's mod_fail2ban, but shared and
 * also per account). After `maxFailuresPer…` failures (`not-authorized`) within a fixed
 * window of `failureWindowMs` (starting at the first failure), attempts from that address,
 * or against that account, are refused with `temporary-auth-failure` until the window ends.
 * Refusals do not count as failures. The counters are rate-limiter-flexible's
 * RateLimiterRedis (an atomic INCR + PEXPIRE per failure).
 *
 * A per-account lockout lets anyone lock an account out for one window by failing on
 * purpose; the window is therefore short by default (10 min) and the address limit,
 * which an attacker cannot dodge as cheaply, is the larger one.
 *
 * Redis errors fail open (logged): authentication needs Redis anyway and fails on its own.
 */
export class AuthThrottle {
  private readonly byAddress: RateLimiterRedis;
  private readonly byAccount: RateLimiterRedis;

  constructor(redis: Redis, keys: KeySpace, private readonly opts: AuthThrottleOptions, private readonly log: Logger) {
    const duration = Math.max(1, Math.ceil(opts.failureWindowMs / 1000));
    this.byAddress = new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.authFailures('address'), points: opts.maxFailuresPerAddress, duration });
    this.byAccount = new RateLimiterRedis({ storeClient: redis, keyPrefix: keys.authFailures('account'), points: opts.maxFailuresPerAccount, duration });
  }

  /** Milliseconds before `address` may try again; 0 when it may now. */
  addressBlockedMs(address: string): Promise<number> {
    return this.blockedMs(this.byAddress, address, this.opts.maxFailuresPerAddress);
  }

  /** Milliseconds before the account (a bare JID) may be tried again; 0 when it may now. */
  accountBlockedMs(account: string): Promise<number> {
    return this.blockedMs(this.byAccount, account, this.opts.maxFailuresPerAccount);
  }

  /** Counts one failed attempt from `address`, against `account` when known. */
  async failed(address: string, account: string | undefined): Promise<void> {
    try {
      await Promise.all([this.byAddress.penalty(address, 1), account === undefined ? undefined : this.byAccount.penalty(account, 1)]);
    } catch (err) {
      this.log.warn({ err }, 'counting a failed authentication failed');
    }
  }

  /**
   * Wraps a host's SASL backend so that the account a mechanism looks up is recorded in
   * `attempt` and, when locked out, rejected with {@link AuthThrottled} before any
   * credential is checked.
   * @param domain - the stream's host: usernames are accounts `<username>@<domain>`
   */
  guard(backend: SaslBackend, domain: string, attempt: AuthAttempt): SaslBackend {
    const check = async (username: string) => {
      const account = accountJid(username, domain);
      attempt.account = account;
      if (account === undefined) return;
      const wait = await this.accountBlockedMs(account);
      if (wait > 0) throw new AuthThrottled(wait, 'against this account');
    };
    return {
      getCredentials: async (username) => {
        await check(username);
        return backend.getCredentials(username);
      },
      checkPlain: async (username, password) => {
        await check(username);
        return backend.checkPlain(username, password);
      },
    };
  }

  private async blockedMs(limiter: RateLimiterRedis, key: string, max: number): Promise<number> {
    try {
      const res = await limiter.get(key);
      return res !== null && res.consumedPoints >= max ? Math.max(1, res.msBeforeNext) : 0;
    } catch (err) {
      this.log.warn({ err }, 'reading the failed-authentication counters failed');
      return 0;
    }
  }
}
