/*
 * Durable background jobs (issue #4) on BullMQ: deleting an account, announcing to every
 * online session, and the periodic clean-up of old offline messages. One queue; any number
 * of processes may run its workers (BullMQ hands each job to one of them and retries it with
 * exponential backoff when an attempt throws). See README.md.
 */
import { Job, Queue, UnrecoverableError, Worker, type ConnectionOptions, type JobsOptions as BullJobOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis } from '@parley/service-runtime';
import type { Logger } from 'pino';
import type { AccountStore } from '@parley/accounts';
import type { KeySpace } from '@parley/bus';
import type { Config } from '@parley/config';
import type { RoomCommands, Sessions } from '@parley/control';
import { bullClusterConnection, bullConnection } from './bull-connection.js';
import { JobsError } from './errors.js';
import { deleteUserJobId, internalJobId, publicJobId } from './job-id.js';
import { jobInfo, type JobInfo, type JobName } from './job-info.js';
import { bullPrefix, QUEUE_NAME } from './job-keys.js';
import type { ProcessedJob, ProcessorContext } from './processor-context.js';
import { announce, type AnnounceData } from './processors/announce.js';
import { cleanupOffline } from './processors/cleanup-offline.js';
import { deleteUser, type DeleteUserData } from './processors/delete-user.js';

/** Options of {@link Jobs}. */
export interface JobsOptions {
  /**
   * The cluster's Redis (configuration `redis.url`); BullMQ's keys go under `{<keyPrefix>bull}`.
   * With `config.redis.sentinel` or `config.redis.cluster` set, that is used instead (issue #14 item 2).
   */
  redisUrl: string;
  keys: KeySpace;
  config: Config;
  log: Logger;
  accounts: AccountStore;
  sessions: Sessions;
  rooms: RoomCommands;
  /** Run the BullMQ workers in this process (default true). */
  runWorkers?: boolean;
}

/** Counts of jobs per state (queue depth, for metrics). */
export type JobCounts = Record<'waiting' | 'active' | 'completed' | 'failed' | 'delayed', number>;

/** Jobs processed at once by one process's worker. */
const CONCURRENCY = 4;
/** First retry delay, ms; each further retry waits twice as long. */
const BACKOFF_MS = 1000;
/** How long `stop()` lets active jobs finish before closing anyway, ms. */
const STOP_TIMEOUT_MS = 10_000;
/** Id of the BullMQ job scheduler that repeats `cleanup-offline`. */
const CLEANUP_SCHEDULER = 'cleanup-offline';
/** Finished jobs are kept for `get` this long (seconds, BullMQ's unit) and at most this many. */
const KEEP_COMPLETED = { age: 7 * 24 * 3600, count: 10_000 };
const KEEP_FAILED = { age: 30 * 24 * 3600, count: 10_000 };

/**
 * The jobs service: enqueues jobs (any process, e.g. the admin API), runs them (processes
 * with `runWorkers`), and reports on them.
 *
 * Every method but `start`/`stop` throws JobsError `NOT_STARTED` before `start()`.
 */
export class Jobs {
  private queue: Queue | undefined;
  private worker: Worker | undefined;
  private redis: Redis | undefined;
  /** BullMQ's Redis Cluster clients (with `redis.cluster`), quit by {@link stop}. */
  private readonly bullClients: Array<{ quit(): Promise<unknown>; disconnect(): void }> = [];
  private readonly log: Logger;

  constructor(private readonly opts: JobsOptions) {
    this.log = opts.log.child({ service: 'jobs' });
  }

  /**
   * Connects, opens the queue, installs (or updates) the repeatable `cleanup-offline`
   * schedule (every `jobs.cleanupEveryMs`) and, with `runWorkers`, starts this process's worker.
   */
  async start(): Promise<void> {
    if (this.queue) return;
    const { config, keys } = this.opts;
    const conn = { url: this.opts.redisUrl, sentinel: config.redis.sentinel, cluster: config.redis.cluster };
    this.redis = createRedis(conn, { lazyConnect: true, maxRetriesPerRequest: 3 });
    this.redis.on('error', (err: unknown) => this.log.warn({ err }, 'redis connection error'));
    await this.redis.connect();
    const defaultJobOptions: BullJobOptions = {
      attempts: config.jobs.attempts,
      backoff: { type: 'exponential', delay: BACKOFF_MS },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
    };
    // Redis Cluster: BullMQ takes a client instance (which it does not close: stop() does).
    const connection = (blocking: boolean): ConnectionOptions => {
      if (!conn.cluster) return bullConnection(conn, blocking);
      const c = bullClusterConnection(conn.cluster, blocking);
      this.bullClients.push(c);
      return c;
    };
    this.queue = new Queue(QUEUE_NAME, { connection: connection(false), prefix: bullPrefix(keys), defaultJobOptions });
    this.queue.on('error', (err: unknown) => this.log.warn({ err }, 'queue error'));
    await this.queue.waitUntilReady();
    await this.queue.upsertJobScheduler(CLEANUP_SCHEDULER, { every: config.jobs.cleanupEveryMs }, { name: 'cleanup-offline', data: {}, opts: defaultJobOptions });
    if (this.opts.runWorkers ?? true) {
      this.worker = new Worker(QUEUE_NAME, (job) => this.process(job), {
        connection: connection(true),
        prefix: bullPrefix(keys),
        concurrency: CONCURRENCY,
      });
      this.worker.on('failed', (job, err) =>
        this.log.warn({ err, jobId: job?.id, job: job?.name, attemptsMade: job?.attemptsMade }, 'job attempt failed'),
      );
      this.worker.on('error', (err) => this.log.error({ err }, 'worker error'));
      await this.worker.waitUntilReady();
    }
    this.log.info({ runWorkers: this.worker !== undefined, cleanupEveryMs: config.jobs.cleanupEveryMs }, 'jobs started');
  }

  /**
   * Stops taking jobs, lets the active ones finish (at most 10 s, then closes anyway: an
   * interrupted job's lock lapses and another worker retries it), and disconnects.
   */
  async stop(): Promise<void> {
    const { worker, queue, redis } = this;
    this.worker = undefined;
    this.queue = undefined;
    this.redis = undefined;
    if (worker) {
      let timer: NodeJS.Timeout | undefined;
      const graceful = worker.close().then(() => true);
      const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_TIMEOUT_MS)));
      const finished = await Promise.race([graceful, timeout]);
      clearTimeout(timer);
      if (!finished) {
        this.log.warn('active jobs did not finish in time; closing the worker anyway');
        await worker.close(true);
      }
    }
    await queue?.close();
    for (const c of this.bullClients.splice(0)) await c.quit().catch(() => c.disconnect());
    await redis?.quit().catch(() => undefined);
  }

  /**
   * Enqueues the deletion of an account (see processors/delete-user.ts), job id
   * `delete-user:<jid>`. While such a job is waiting, active or between retries, resolves
   * with that job instead of adding another; a finished one is replaced by a new job.
   * @param bareJid - normalised bare JID (`local@domain`)
   * @throws JobsError `BAD_JID`, `NOT_STARTED`
   */
  async deleteUser(bareJid: string): Promise<JobInfo> {
    const queue = this.started();
    if (!/^[^@/\s]+@[^@/\s]+$/.test(bareJid)) throw new JobsError('BAD_JID', JSON.stringify(bareJid));
    const publicId = deleteUserJobId(bareJid);
    const id = internalJobId(publicId);
    const existing = await Job.fromId(queue, id);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed') return jobInfo(existing, state);
      // Finished: a new request is a new deletion (e.g. of an account re-created since).
      await existing.remove().catch(() => undefined);
    }
    const data: DeleteUserData = { jid: bareJid };
    const added = await queue.add('delete-user', data, { jobId: id });
    this.log.info({ jobId: publicId }, 'delete-user enqueued');
    return (await this.get(publicId)) ?? jobInfo(added, 'waiting');
  }

  /**
   * Enqueues an announcement to every online session: a `headline` message from the first
   * configured host with `body` (and `subject`).
   * @throws JobsError `EMPTY_BODY`, `NOT_STARTED`
   */
  async announce(body: string, opts: { subject?: string } = {}): Promise<JobInfo> {
    const queue = this.started();
    if (body.trim() === '') throw new JobsError('EMPTY_BODY');
    const data: AnnounceData = opts.subject === undefined ? { body } : { body, subject: opts.subject };
    const added = await queue.add('announce', data);
    return (await this.get(publicJobId(added.id ?? ''))) ?? jobInfo(added, 'waiting');
  }

  /**
   * Enqueues a run of the offline message clean-up now (besides the schedule).
   * @throws JobsError `NOT_STARTED`
   */
  async cleanupOffline(): Promise<JobInfo> {
    const queue = this.started();
    const added = await queue.add('cleanup-offline', {});
    return (await this.get(publicJobId(added.id ?? ''))) ?? jobInfo(added, 'waiting');
  }

  /**
   * A job by id, or undefined when there is none (never existed, or removed: finished
   * jobs are kept 7 days, failed ones 30, at most 10 000 of each).
   * @throws JobsError `NOT_STARTED`
   */
  async get(id: string): Promise<JobInfo | undefined> {
    const queue = this.started();
    const job = await Job.fromId(queue, internalJobId(id));
    if (!job) return undefined;
    const state = await job.getState();
    // The job may have finished between the two reads: its result and progress are read
    // again, after the state, so that a finished job never shows the data of before.
    if (state === 'completed' || state === 'failed') {
      const now = await Job.fromId(queue, internalJobId(id));
      if (now) return jobInfo(now, state);
    }
    return jobInfo(job, state);
  }

  /**
   * How many jobs are in each state; `waiting` includes prioritised jobs and `delayed`
   * those waiting for a retry or their scheduled time.
   * @throws JobsError `NOT_STARTED`
   */
  async counts(): Promise<JobCounts> {
    const queue = this.started();
    const c = await queue.getJobCounts('waiting', 'prioritized', 'waiting-children', 'active', 'completed', 'failed', 'delayed');
    const n = (k: string) => c[k] ?? 0;
    return {
      waiting: n('waiting') + n('prioritized') + n('waiting-children'),
      active: n('active'),
      completed: n('completed'),
      failed: n('failed'),
      delayed: n('delayed'),
    };
  }

  private started(): Queue {
    if (!this.queue) throw new JobsError('NOT_STARTED');
    return this.queue;
  }

  /** The worker's processor: one attempt of one job, dispatched by name. */
  private async process(job: Job): Promise<unknown> {
    const redis = this.redis;
    if (!redis) throw new JobsError('NOT_STARTED');
    const log = this.log.child({ jobId: publicJobId(job.id ?? ''), job: job.name, attempt: job.attemptsMade + 1 });
    const ctx: ProcessorContext = { ...this.opts, redis, log, now: () => Date.now() };
    const processed: ProcessedJob<never> = {
      id: job.id ?? '',
      instance: `${job.id ?? ''}@${job.timestamp}`,
      data: job.data as never,
      updateProgress: (p) => job.updateProgress(p),
    };
    try {
      switch (job.name as JobName) {
        case 'delete-user':
          return await deleteUser(processed, ctx);
        case 'announce':
          return await announce(processed, ctx);
        case 'cleanup-offline':
          return await cleanupOffline(processed, ctx);
        default:
          throw new UnrecoverableError(`unknown job name ${JSON.stringify(job.name)}`);
      }
    } catch (err) {
      // Malformed data will not get better on a retry.
      if (err instanceof JobsError && err.code === 'BAD_JOB_DATA') throw new UnrecoverableError(err.message);
      throw err;
    }
  }
}
