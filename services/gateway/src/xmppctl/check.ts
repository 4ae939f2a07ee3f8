/*
 * `xmppctl check` (issue #14 item 4): checks what a start needs, one line per check
 * (`ok`, `WARN` or `FAIL`, a tab, the subject, a tab, the detail):
 *
 *   config        the configuration loads and validates (file, PARLEY_* variables)
 *   certificate   each of tls.certFile/keyFile and tls.certificates[]: both files readable, the
 *                 certificate parses (PEM, X.509), is valid now (FAIL when expired or not yet
 *                 valid, WARN within 14 days of expiry), matches its private key, and names
 *                 its host (tls.certificates[]; WARN otherwise: clients verify RFC 6125 names)
 *   redis         Redis answers PING within 5 s, authenticated (`NOAUTH`/`WRONGPASS` → FAIL)
 *   schema        the data schema version in Redis is one this release reads
 *
 * Exit codes: 0 every check passed (warnings allowed), 1 a check failed, 78 the configuration
 * is invalid (nothing else is checked then).
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Command } from 'commander';
import { keySpace } from '@parley/bus';
import { ConfigError, type Config } from '@parley/config';
import { createRedis, DATA_SCHEMA_VERSION } from '@parley/service-runtime';
import { out, type CtlContext } from './ctl-context.js';

/** A certificate expiring sooner than this is a warning. */
const EXPIRY_WARNING_MS = 14 * 24 * 3600_000;
/** How long the Redis check waits for a connection and an answer. */
const REDIS_TIMEOUT_MS = 5000;
/** Largest certificate or key file read, bytes (a PEM chain is a few KiB). */
const MAX_PEM_BYTES = 1024 * 1024;

export type Level = 'ok' | 'WARN' | 'FAIL';
export interface Finding {
  level: Level;
  subject: string;
  detail: string;
}

function readPem(path: string): string {
  const buf = readFileSync(path);
  if (buf.length > MAX_PEM_BYTES) throw new Error(`${path} is larger than ${MAX_PEM_BYTES} bytes`);
  return buf.toString('utf8');
}

/**
 * Checks one certificate/key pair at time `now` (ms since epoch).
 * @param host - the served host it is for, when configured per host
 */
export function checkCertificate(certFile: string, keyFile: string, now: number, host?: string): Finding[] {
  const subject = `certificate ${host ?? 'default'}`;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readPem(certFile));
  } catch (e) {
    return [{ level: 'FAIL', subject, detail: `${certFile}: ${(e as Error).message}` }];
  }
  let keyPem: string;
  try {
    keyPem = readPem(keyFile);
  } catch (e) {
    return [{ level: 'FAIL', subject, detail: `${keyFile}: ${(e as Error).message}` }];
  }
  const findings: Finding[] = [];
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (now >= to) findings.push({ level: 'FAIL', subject, detail: `${certFile} expired on ${new Date(to).toISOString()}` });
  else if (now < from) findings.push({ level: 'FAIL', subject, detail: `${certFile} is not valid before ${new Date(from).toISOString()}` });
  else if (to - now < EXPIRY_WARNING_MS) findings.push({ level: 'WARN', subject, detail: `${certFile} expires on ${new Date(to).toISOString()}` });
  try {
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) findings.push({ level: 'FAIL', subject, detail: `${keyFile} is not the private key of ${certFile}` });
  } catch (e) {
    findings.push({ level: 'FAIL', subject, detail: `${keyFile}: ${(e as Error).message}` });
  }
  if (host !== undefined && cert.checkHost(host) === undefined) findings.push({ level: 'WARN', subject, detail: `${certFile} does not name ${host} (clients check it, RFC 6125)` });
  if (findings.length === 0) findings.push({ level: 'ok', subject, detail: `${certFile}, valid until ${new Date(to).toISOString()}` });
  return findings;
}

/** Every configured certificate; a WARN when none is (no STARTTLS, no direct TLS). */
function checkCertificates(c: Config, now: number): Finding[] {
  const findings: Finding[] = [];
  if (c.tls.certFile !== undefined && c.tls.keyFile !== undefined) findings.push(...checkCertificate(c.tls.certFile, c.tls.keyFile, now));
  for (const e of c.tls.certificates) findings.push(...checkCertificate(e.certFile, e.keyFile, now, e.host));
  if (findings.length === 0) findings.push({ level: 'WARN', subject: 'certificate', detail: 'none configured: no STARTTLS or direct TLS is offered (tls.certFile, tls.certificates)' });
  return findings;
}

/** Redis reachable and authenticated, and the data schema version readable by this release. */
async function checkRedis(c: Config): Promise<Finding[]> {
  const redis = createRedis(c.redis, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: REDIS_TIMEOUT_MS, commandTimeout: REDIS_TIMEOUT_MS, retryStrategy: () => null, enableOfflineQueue: false });
  // ioredis reports why the connection failed (e.g. WRONGPASS from AUTH) as an 'error' event;
  // connect() itself rejects with "Connection is closed".
  let cause: Error | undefined;
  redis.on('error', (e: Error) => void (cause ??= e));
  const where = c.redis.cluster
    ? `redis cluster (seed ${c.redis.cluster.nodes.map((n) => `${n.host}:${n.port}`).slice(0, 3).join(', ')}${c.redis.cluster.nodes.length > 3 ? ', …' : ''})`
    : c.redis.sentinel ? `sentinel master ${c.redis.sentinel.masterName}` : redactUrl(c.redis.url);
  try {
    await redis.connect();
    await redis.ping();
    const stored = await redis.get(keySpace(c.redis.keyPrefix).schemaVersion());
    const findings: Finding[] = [{ level: 'ok', subject: 'redis', detail: `${where} answers` }];
    if (stored === null) findings.push({ level: 'ok', subject: 'schema', detail: `none written yet (the first start writes ${DATA_SCHEMA_VERSION})` });
    else if (!/^\d{1,9}$/.test(stored) || Number(stored) > DATA_SCHEMA_VERSION) {
      findings.push({ level: 'FAIL', subject: 'schema', detail: `version ${stored.slice(0, 32)} in Redis is newer than this release reads (${DATA_SCHEMA_VERSION})` });
    } else findings.push({ level: 'ok', subject: 'schema', detail: `version ${stored} (this release: ${DATA_SCHEMA_VERSION})` });
    return findings;
  } catch (e) {
    const msg = (cause ?? (e as Error)).message;
    const auth = /NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(msg);
    return [{ level: 'FAIL', subject: 'redis', detail: `${where}: ${auth ? 'authentication failed' : 'unreachable'}: ${msg}` }];
  } finally {
    redis.disconnect();
  }
}

/** The URL without its password. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis.url';
  }
}

/** Adds `check` to `program`. */
export function registerCheck(program: Command, ctx: CtlContext): void {
  program
    .command('check')
    .description('check the configuration, certificate files and Redis (exit 0 ok, 1 a check failed, 78 bad configuration)')
    .action(async (_opts: unknown, cmd: Command) => {
      let c: Config;
      try {
        c = ctx.cfg(cmd);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        // One line: "invalid configuration: <issue>; <issue>".
        const [head = '', ...issues] = e.message.split('\n').map((l) => l.trim()).filter(Boolean);
        out(`FAIL\tconfig\t${[head, issues.join('; ')].filter(Boolean).join(' ')}`);
        ctx.exit(78);
        return;
      }
      const findings: Finding[] = [{ level: 'ok', subject: 'config', detail: `valid (hosts ${c.hosts.join(', ')}; MUC ${c.mucDomain}; ${c.muc.shards} shards)` }];
      findings.push(...checkCertificates(c, Date.now()));
      findings.push(...(await checkRedis(c)));
      for (const f of findings) out(`${f.level}\t${f.subject}\t${f.detail}`);
      if (findings.some((f) => f.level === 'FAIL')) ctx.exit(1);
    });
}
