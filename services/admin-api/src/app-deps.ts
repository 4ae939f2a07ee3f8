import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AccountStore } from '@parley/accounts';
import type { KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import type { Sessions } from '@parley/control';
import type { JobsApi } from './jobs-api.js';
import type { RoomCommandSender } from './room-commands.js';

/** Everything {@link buildApp} wires together; the process entry builds the real ones. */
export interface AppDeps {
  config: Config;
  /** A command connection (never one held by a blocking read). */
  redis: Redis;
  keys: KeySpace;
  accounts: AccountStore;
  sessions: Pick<Sessions, 'list' | 'ofUser' | 'kick' | 'kickUser' | 'deliver'>;
  rooms: RoomCommandSender;
  jobs: JobsApi;
  /** Request logs go to children of it (default: no logging). */
  log?: Logger;
  /** ms since epoch (default Date.now). */
  clock?: () => number;
  /** Whether the process can serve (e.g. the job queue has started); `/readyz` also pings Redis. Default: always. */
  isReady?: () => boolean;
  /** `process` label of this process's metrics (default `admin-api`). */
  instance?: string;
  /** The other processes' metrics, as Prometheus text (default: `readClusterMetrics` of @parley/metrics). */
  clusterMetrics?: () => Promise<string>;
}
