import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { configSchema, type Config } from './schema.js';
import { ConfigError } from './errors.js';

/**
 * Environment variables and the configuration path each one sets. Values are parsed as the
 * schema expects: numbers for numeric fields, `true`/`false` for booleans, comma-separated
 * lists for `hosts`.
 */
export const ENV_VARS: Readonly<Record<string, string>> = {
  PARLEY_HOSTS: 'hosts',
  PARLEY_MUC_DOMAIN: 'mucDomain',
  REDIS_URL: 'redis.url',
  PARLEY_REDIS_KEY_PREFIX: 'redis.keyPrefix',
  PARLEY_REDIS_SENTINELS: 'redis.sentinel.sentinels',
  PARLEY_REDIS_SENTINEL_MASTER: 'redis.sentinel.masterName',
  PARLEY_REDIS_SENTINEL_MASTER_USERNAME: 'redis.sentinel.username',
  PARLEY_REDIS_SENTINEL_MASTER_PASSWORD: 'redis.sentinel.password',
  PARLEY_REDIS_SENTINEL_USERNAME: 'redis.sentinel.sentinelUsername',
  PARLEY_REDIS_SENTINEL_PASSWORD: 'redis.sentinel.sentinelPassword',
  PARLEY_REDIS_SENTINEL_DB: 'redis.sentinel.db',
  PARLEY_REDIS_CLUSTER: 'redis.cluster.nodes',
  PARLEY_REDIS_CLUSTER_USERNAME: 'redis.cluster.username',
  PARLEY_REDIS_CLUSTER_PASSWORD: 'redis.cluster.password',
  PARLEY_GATEWAY_ID: 'gateway.id',
  PARLEY_BIND_HOST: 'gateway.bindHost',
  PARLEY_C2S_PORT: 'gateway.c2sPort',
  PARLEY_LISTEN_BACKLOG: 'gateway.listenBacklog',
  PARLEY_GATEWAY_HEALTH_PORT: 'gateway.healthPort',
  PARLEY_WS_PORT: 'gateway.wsPort',
  PARLEY_WS_PATH: 'gateway.wsPath',
  PARLEY_WS_PUBLIC_URL: 'gateway.wsPublicUrl',
  PARLEY_HEARTBEAT_MS: 'gateway.heartbeatMs',
  PARLEY_GATEWAY_DEAD_AFTER_MS: 'gateway.deadAfterMs',
  PARLEY_OUTAGE_BUFFER_STANZAS: 'gateway.outageBufferStanzas',
  PARLEY_OUTAGE_WAIT_MS: 'gateway.outageWaitMs',
  PARLEY_IDLE_TIMEOUT_MS: 'gateway.idleTimeoutMs',
  PARLEY_AUTH_TIMEOUT_MS: 'gateway.authTimeoutMs',
  PARLEY_TLS_CERT: 'tls.certFile',
  PARLEY_TLS_KEY: 'tls.keyFile',
  PARLEY_TLS_REQUIRED: 'tls.required',
  PARLEY_TLS_WSS: 'tls.wss',
  PARLEY_TLS_CERTIFICATES: 'tls.certificates',
  PARLEY_TLS_BEHIND_PROXY: 'tls.behindTlsProxy',
  PARLEY_TLS_CHANNEL_BINDING: 'tls.channelBinding',
  PARLEY_DIRECT_TLS_PORT: 'gateway.directTlsPort',
  PARLEY_AUTH_BACKEND: 'auth.backend',
  PARLEY_ALLOW_PLAIN_WITHOUT_TLS: 'auth.allowPlainWithoutTls',
  PARLEY_SCRAM_ITERATIONS: 'auth.scramIterations',
  PARLEY_AUTH_MAX_FAILURES_PER_ADDRESS: 'auth.maxFailuresPerAddress',
  PARLEY_AUTH_MAX_FAILURES_PER_ACCOUNT: 'auth.maxFailuresPerAccount',
  PARLEY_AUTH_FAILURE_WINDOW_MS: 'auth.failureWindowMs',
  PARLEY_MAX_STANZA_BYTES: 'limits.maxStanzaBytes',
  PARLEY_MAX_PREAUTH_BYTES: 'limits.maxPreAuthBytes',
  PARLEY_MAX_DEPTH: 'limits.maxDepth',
  PARLEY_SESSION_BYTES_PER_SECOND: 'limits.bytesPerSecond',
  PARLEY_SESSION_BURST_BYTES: 'limits.burstBytes',
  PARLEY_SESSION_STANZAS_PER_SECOND: 'limits.stanzasPerSecond',
  PARLEY_SESSION_BURST_STANZAS: 'limits.burstStanzas',
  PARLEY_MAX_QUEUED_STANZAS: 'limits.maxQueuedStanzas',
  PARLEY_MAX_SEND_BUFFER_BYTES: 'limits.maxSendBufferBytes',
  PARLEY_MAX_CONNECTIONS_PER_ADDRESS: 'limits.maxConnectionsPerAddress',
  PARLEY_MAX_UNAUTHENTICATED_PER_ADDRESS: 'limits.maxUnauthenticatedPerAddress',
  PARLEY_SHARD_MAX_LAG_MS: 'limits.shardMaxLagMs',
  PARLEY_SHARD_LAG_POLL_MS: 'limits.shardLagPollMs',
  PARLEY_DELIVERY_MAX_WAIT_MS: 'limits.deliveryMaxWaitMs',
  PARLEY_DELIVERY_WAIT_INTERVAL_MS: 'limits.deliveryWaitIntervalMs',
  PARLEY_MAX_EVENT_LOOP_BUSY: 'limits.maxEventLoopBusy',
  PARLEY_SHARD_MAX_HOLD_MS: 'limits.shardMaxHoldMs',
  PARLEY_MAX_ROSTER_ITEMS: 'limits.maxRosterItems',
  PARLEY_MAX_VCARD_BYTES: 'limits.maxVcardBytes',
  PARLEY_MAX_PRIVATE_BYTES: 'limits.maxPrivateBytes',
  PARLEY_MAX_BLOCKLIST_ITEMS: 'limits.maxBlocklistItems',
  PARLEY_MAX_PEP_NODES: 'limits.maxPepNodes',
  PARLEY_MAX_PEP_ITEMS: 'limits.maxPepItems',
  PARLEY_MAX_PEP_ITEM_BYTES: 'limits.maxPepItemBytes',
  PARLEY_MAX_PEP_BYTES: 'limits.maxPepBytes',
  PARLEY_MAX_CSI_QUEUE: 'limits.maxCsiQueue',
  PARLEY_REGISTER_ENABLED: 'register.enabled',
  PARLEY_REGISTER_MAX_PER_ADDRESS: 'register.maxPerAddress',
  PARLEY_SM_RESUME_TIMEOUT_SEC: 'sm.resumeTimeoutSec',
  PARLEY_SM_MAX_UNACKED: 'sm.maxUnacked',
  PARLEY_SM_ACK_REQUEST_STANZAS: 'sm.ackRequestStanzas',
  PARLEY_SM_ACK_REQUEST_MS: 'sm.ackRequestMs',
  PARLEY_OFFLINE_ENABLED: 'offline.enabled',
  PARLEY_OFFLINE_MAX_MESSAGES: 'offline.maxMessages',
  PARLEY_OFFLINE_MAX_BYTES: 'offline.maxBytes',
  PARLEY_OFFLINE_MAX_MESSAGES_PER_SENDER: 'offline.maxMessagesPerSender',
  PARLEY_OFFLINE_MAX_BYTES_PER_SENDER: 'offline.maxBytesPerSender',
  PARLEY_MAM_MAX_MESSAGES_PER_ACCOUNT: 'mam.maxMessagesPerAccount',
  PARLEY_MAM_MAX_AGE_DAYS: 'mam.maxAgeDays',
  PARLEY_MAM_MAX_QUERY_RESULTS: 'mam.maxQueryResults',
  PARLEY_MUC_SHARDS: 'muc.shards',
  PARLEY_MUC_ADMINS: 'muc.admins',
  PARLEY_MUC_HISTORY_LENGTH: 'muc.historyLength',
  PARLEY_MUC_ARCHIVE_DEFAULT_ENABLED: 'muc.archive.defaultEnabled',
  PARLEY_MUC_IQ_FORWARD_TTL_MS: 'muc.iqForwardTtlMs',
  PARLEY_MUC_MAX_HATS_PER_USER: 'muc.maxHatsPerUser',
  PARLEY_MUC_VOICE_REQUEST_INTERVAL_MS: 'muc.voiceRequestIntervalMs',
  PARLEY_MUC_ARCHIVE_MAX_MESSAGES: 'muc.archive.maxMessages',
  PARLEY_MUC_ARCHIVE_MAX_AGE_DAYS: 'muc.archive.maxAgeDays',
  PARLEY_MUC_ARCHIVE_MAX_QUERY_RESULTS: 'muc.archive.maxQueryResults',
  PARLEY_ROOM_WORKER_ID: 'roomWorker.id',
  PARLEY_ROOM_WORKER_HEALTH_PORT: 'roomWorker.healthPort',
  PARLEY_ROOM_WORKER_HEALTH_BIND_HOST: 'roomWorker.healthBindHost',
  PARLEY_LEASE_TTL_MS: 'roomWorker.leaseTtlMs',
  PARLEY_ROOM_WORKER_HEARTBEAT_MS: 'roomWorker.heartbeatMs',
  PARLEY_ROOM_WORKER_BATCH_SIZE: 'roomWorker.batchSize',
  PARLEY_ROOM_WORKER_MAX_OUTPUTS_PER_TURN: 'roomWorker.maxOutputsPerTurn',
  PARLEY_ROOM_WORKER_LANES: 'roomWorker.lanes',
  PARLEY_ROOM_WORKER_READ_AHEAD: 'roomWorker.readAhead',
  PARLEY_METRICS_PUBLISH_MS: 'metrics.publishMs',
  PARLEY_METRICS_HEALTH_LISTENER_ENABLED: 'metrics.healthListenerEnabled',
  PARLEY_ADMIN_BIND_HOST: 'adminApi.bindHost',
  PARLEY_ADMIN_PORT: 'adminApi.port',
  PARLEY_ADMIN_TOKENS: 'adminApi.tokens',
  PARLEY_ADMIN_PUBLIC_ENDPOINTS: 'adminApi.publicEndpoints',
  PARLEY_ADMIN_COMMAND_TIMEOUT_MS: 'adminApi.commandTimeoutMs',
  PARLEY_JOBS_TOMBSTONE_TTL_MS: 'jobs.tombstoneTtlMs',
  PARLEY_OFFLINE_RETENTION_MS: 'jobs.offlineRetentionMs',
  PARLEY_JOBS_CLEANUP_EVERY_MS: 'jobs.cleanupEveryMs',
  PARLEY_JOBS_ATTEMPTS: 'jobs.attempts',
  PARLEY_DEBUG_HOP_TRACE: 'debug.hopTrace',
  PARLEY_LOG_LEVEL: 'log.level',
  PARLEY_LOG_PRETTY: 'log.pretty',
};

const NUMERIC = /(Port|Ms|Bytes|Depth|Messages|Iterations|shards|Length|Size|attempts|Second|Stanzas|Address|Account|Sender|Items|PerUser|Days|Results|Nodes|Queue|Sec|Unacked|Backlog)$/;
const BOOLEAN = /(required|wss|allowPlainWithoutTls|enabled|Enabled|pretty|behindTlsProxy|channelBinding|hopTrace)$/;

function coerce(path: string, raw: string, envName: string): unknown {
  if (path.startsWith('adminApi.')) return coerceAdminApi(path, raw, envName);
  if (path === 'redis.sentinel.sentinels' || path === 'redis.cluster.nodes') return coerceSentinels(raw, envName);
  if (path === 'redis.sentinel.db') return coerce('Port', raw, envName);
  if (path === 'hosts' || path === 'muc.admins') return raw.split(',').map((h) => h.trim()).filter(Boolean);
  if (path === 'tls.certificates') return coerceCertificates(raw, envName);
  if (path === 'limits.maxEventLoopBusy') {
    if (!/^(0(\.\d+)?|1(\.0+)?)$/.test(raw.trim())) throw new ConfigError(`${envName}: expected a share between 0 and 1, got ${JSON.stringify(raw)}`);
    return Number(raw);
  }
  if (NUMERIC.test(path)) {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${envName}: expected an integer, got ${JSON.stringify(raw)}`);
    return Number(raw);
  }
  if (BOOLEAN.test(path)) {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new ConfigError(`${envName}: expected true or false, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/**
 * `PARLEY_REDIS_SENTINELS`: `host:port` items separated by commas, an IPv6 address in
 * brackets (`10.0.0.1:26379,[fd00::2]:26379`); at most 16 items (the schema checks the count).
 */
function coerceSentinels(raw: string, envName: string): unknown {
  const items = raw.split(',').map((t) => t.trim()).filter(Boolean);
  // PARLEY_REDIS_CLUSTER (seed nodes) takes up to 64 items in the same form.
  const max = envName === 'PARLEY_REDIS_CLUSTER' ? 64 : 16;
  if (items.length > max) throw new ConfigError(`${envName}: at most ${max} ${max === 64 ? 'seed nodes' : 'sentinels'}, got ${items.length}`);
  return items.map((item) => {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:\[\]]+)):(\d{1,5})$/.exec(item);
    if (!m) throw new ConfigError(`${envName}: expected host:port items separated by commas, got ${JSON.stringify(item.slice(0, 300))}`);
    return { host: m[1] ?? m[2], port: Number(m[3]) };
  });
}

/** `PARLEY_TLS_CERTIFICATES`: `host:certFile:keyFile` items separated by commas (paths without `:` or `,`). */
function coerceCertificates(raw: string, envName: string): unknown {
  return raw.split(',').map((t) => t.trim()).filter(Boolean).map((item) => {
    const [host, certFile, keyFile, ...rest] = item.split(':');
    if (!host || !certFile || !keyFile || rest.length) throw new ConfigError(`${envName}: expected host:certFile:keyFile items separated by commas, got ${JSON.stringify(item)}`);
    return { host, certFile, keyFile };
  });
}

/**
 * The `adminApi.*` variables: `PARLEY_ADMIN_TOKENS` is `name:scope:sha256hex` items separated
 * by commas (e.g. `ops:admin:9f86…,grafana:read:2c26…`), `PARLEY_ADMIN_PUBLIC_ENDPOINTS` a
 * comma-separated list, `PARLEY_ADMIN_PORT` an integer.
 */
function coerceAdminApi(path: string, raw: string, envName: string): unknown {
  if (path === 'adminApi.tokens') {
    return raw.split(',').map((t) => t.trim()).filter(Boolean).map((item) => {
      const [name, scope, sha256, ...rest] = item.split(':');
      if (!name || !scope || !sha256 || rest.length) throw new ConfigError(`${envName}: expected name:scope:sha256hex items separated by commas, got ${JSON.stringify(item)}`);
      return { name, scope, sha256 };
    });
  }
  if (path === 'adminApi.publicEndpoints') return raw.split(',').map((h) => h.trim()).filter(Boolean);
  // The others follow the patterns above by their last name part (`port` is lower case there).
  return coerce(path === 'adminApi.port' ? 'Port' : path.slice('adminApi.'.length), raw, envName);
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/**
 * The format of a configuration file: `yaml` for a `.yaml`/`.yml` name, `json` for `.json`;
 * any other name is JSON when its first non-blank character is `{` (a JSON configuration is an
 * object), else YAML.
 */
export function configFileFormat(file: string, text: string): 'json' | 'yaml' {
  const ext = extname(file).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.json') return 'json';
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

function parseJsonConfig(file: string, text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('top level must be an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`configuration file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Parses a YAML 1.2 configuration file (one document, core schema) into the same plain shape
 * a JSON file gives. Refused, with one line naming the line and column of the first problem:
 * a syntax error, a duplicate key in a mapping, more than one document, any tag outside the
 * core schema (`!foo`, `!!binary`, `!!set`, ...: nothing but strings, numbers, booleans, null,
 * sequences and mappings), more than 100 alias expansions, a top level that is not a mapping.
 * A file with no content (comments only) is an empty configuration: every default applies.
 *
 * @throws ConfigError `configuration file <file> is not valid YAML: line L, column C: <problem>`
 */
function parseYamlConfig(file: string, text: string): Record<string, unknown> {
  const fail = (where: string, problem: string): never => {
    throw new ConfigError(`configuration file ${file} is not valid YAML: ${where}${problem}`);
  };
  const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, resolveKnownTags: false, prettyErrors: true });
  // An unknown tag is only a warning to the yaml library (the value stays a string); refuse it.
  const problem = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (problem) {
    const pos = problem.linePos?.[0];
    // The library's message ends with ` at line L, column C:` and a picture of the source; keep the first sentence.
    const text = (problem.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').slice(0, 200);
    fail(pos ? `line ${pos.line}, column ${pos.col}: ` : '', text);
  }
  let parsed: unknown;
  try {
    parsed = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    fail('', (err as Error).message.split('\n')[0]!.slice(0, 200));
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) fail('', 'top level must be a mapping');
  return parsed as Record<string, unknown>;
}

/**
 * Loads the configuration: the JSON or YAML file (if a path is given; see {@link configFileFormat}), then environment variables
 * from {@link ENV_VARS} on top, then `overrides` on top of both; validates the result.
 *
 * @param opts.file - path of a JSON or YAML configuration file (optional)
 * @param opts.env - the environment to read (default `process.env`)
 * @param opts.overrides - dotted paths set last, e.g. `{ 'gateway.c2sPort': 5223 }`
 * @throws ConfigError with every problem listed, one per line (`path: message`)
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {}): Config {
  let raw: Record<string, unknown> = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read configuration file ${opts.file}: ${(err as Error).message}`);
    }
    raw = configFileFormat(opts.file, text) === 'yaml' ? parseYamlConfig(opts.file, text) : parseJsonConfig(opts.file, text);
  }
  const env = opts.env ?? process.env;
  for (const [name, path] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, path, coerce(path, value, name));
  }
  for (const [path, value] of Object.entries(opts.overrides ?? {})) setPath(raw, path, value);

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const cfg = result.data;
  return { ...cfg, mucDomain: cfg.mucDomain ?? `conference.${cfg.hosts[0]}` };
}
