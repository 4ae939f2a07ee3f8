import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AccountStore } from '@parley/accounts';
import type { KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import type { RoomCommands, Sessions } from '@parley/control';

/** What every processor works with: the cluster's Redis and control clients. */
export interface ProcessorContext {
  /** A client of this service's own (scratch keys, scans). */
  redis: Redis;
  keys: KeySpace;
  config: Config;
  /** Carries `{ jobId, job }`. */
  log: Logger;
  accounts: AccountStore;
  sessions: Sessions;
  rooms: RoomCommands;
  /** Current time, ms since epoch. */
  now(): number;
}

/**
 * The part of a BullMQ job a processor uses, so processors can be driven by anything
 * that has an id, data and a progress reporter.
 */
export interface ProcessedJob<Data> {
  /** BullMQ's job id. */
  id: string;
  /**
   * Names this job among every job that ever had its id (a deletion's id is reused by a
   * later deletion of the same name): `<id>@<creation time>`. Scratch keys are named after it.
   */
  instance: string;
  data: Data;
  /** 0..100 */
  updateProgress(progress: number): Promise<void>;
}
