import assert from 'node:assert/strict';
import { afterEach } from 'node:test';
import { keySpace, parseSessionRecord, type KeySpace, type SessionRecord } from '@parley/bus';
import { startGateway, startRedis, xmppctl, type GatewayProcess, type RedisServer, type XmppctlResult } from '@parley/testkit';
import type { Redis } from 'ioredis';
import { Cleanup } from './cleanup.js';
import { uniquePrefix } from './names.js';

/** One test file's world: a private redis-server, a key prefix, and the gateways started on it. */
export interface TestCluster {
  readonly redis: RedisServer;
  /** A client on the private Redis (for inspecting the registry). */
  readonly db: Redis;
  readonly prefix: string;
  readonly keys: KeySpace;
  readonly gateways: GatewayProcess[];
  /** Starts a gateway on this Redis and prefix; it is stopped by `close()`. */
  startGateway(env?: Record<string, string>): Promise<GatewayProcess>;
  /** Runs xmppctl against this Redis and prefix; `stdin` (e.g. a password line) is piped in. */
  ctl(args: string[], stdin?: string): Promise<XmppctlResult>;
  /** `xmppctl user add`, asserting success. */
  addUser(jid: string, password: string): Promise<void>;
  /** The session registry entries of `bareJid` (resource → record). */
  sessions(bareJid: string): Promise<Map<string, SessionRecord>>;
  /**
   * Polls the registry of `bareJid` every 50 ms until `match` accepts it.
   * @throws after `timeoutMs` (default 5000), quoting the last registry contents
   */
  waitForSessions(bareJid: string, match: (s: Map<string, SessionRecord>) => boolean, timeoutMs?: number): Promise<Map<string, SessionRecord>>;
  /** Stops every gateway, then Redis. */
  close(): Promise<void>;
}

/**
 * Starts the private Redis for one test file. Also installs an `afterEach` that prints the
 * gateways' captured output when a test fails.
 */
export async function startCluster(testName: string): Promise<TestCluster> {
  const cleanup = new Cleanup();
  const redis = await startRedis();
  cleanup.add('redis', () => redis.stop());
  const prefix = uniquePrefix(testName);
  const keys = keySpace(prefix);
  const db = redis.client();
  const gateways: GatewayProcess[] = [];
  const opts = { redisUrl: redis.url, keyPrefix: prefix };

  const sessions = async (bare: string) => {
    const raw = await db.hgetall(keys.userSessions(bare));
    const out = new Map<string, SessionRecord>();
    for (const [resource, value] of Object.entries(raw)) {
      const rec = parseSessionRecord(typeof value === 'string' ? value : undefined);
      if (rec) out.set(resource, rec);
    }
    return out;
  };

  const cluster: TestCluster = {
    redis,
    db,
    prefix,
    keys,
    gateways,
    async startGateway(env = {}) {
      const gw = await startGateway({ ...opts, env });
      gateways.push(gw);
      cleanup.add(`gateway ${gw.gatewayId}`, () => gw.stop());
      return gw;
    },
    ctl: (args, stdin) => xmppctl(args, stdin === undefined ? opts : { ...opts, stdin }),
    async addUser(jid, password) {
      const r = await xmppctl(['user', 'add', jid], { ...opts, stdin: `${password}\n` });
      assert.equal(r.code, 0, `xmppctl user add ${jid} failed: ${r.stderr}${r.stdout}`);
    },
    sessions,
    async waitForSessions(bare, match, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await sessions(bare);
        if (match(s)) return s;
        if (Date.now() > deadline) {
          throw new Error(`registry of ${bare} did not reach the expected state within ${timeoutMs} ms: ${JSON.stringify(Object.fromEntries(s))}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => cleanup.run(),
  };
  return cluster;
}

/** Prints the output of the cluster's gateways after every failed test of the file. */
export function printGatewayLogsOnFailure(getCluster: () => TestCluster | undefined): void {
  afterEach((t) => {
    // TestContext.passed exists since Node 20.12 but is missing from @types/node 20.
    if ((t as { passed?: boolean }).passed !== false) return;
    for (const gw of getCluster()?.gateways ?? []) {
      process.stderr.write(`\n--- gateway ${gw.gatewayId} (pid ${gw.pid}) output, last 200 lines, for "${t.name}" ---\n`);
      process.stderr.write(`${gw.output().split('\n').slice(-200).join('\n')}\n`);
    }
  });
}
