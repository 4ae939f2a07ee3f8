/**
 * What the admin API needs of `@parley/jobs` (its `Jobs` class satisfies this structurally;
 * tests may pass a fake). Declared here so that the HTTP layer depends on the shape only.
 */

/** A job's state, as BullMQ reports it (`unknown` when it cannot tell). */
export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'unknown';

/** The job kinds the API starts. */
export type JobName = 'delete-user' | 'announce' | 'cleanup-offline';

/** One job as the API shows it. */
export interface JobInfo {
  id: string;
  name: JobName;
  state: JobState;
  /** 0..100 */
  progress: number;
  data: unknown;
  result?: unknown;
  failedReason?: string;
  attemptsMade: number;
  /** ms since epoch */
  createdAt: number;
  /** ms since epoch, once completed or failed */
  finishedAt?: number;
}

/** Queue depth by state. */
export type JobCounts = Record<'waiting' | 'active' | 'completed' | 'failed' | 'delayed', number>;

/** The job queue operations the API uses. */
export interface JobsApi {
  /** Deletes an account (kick sessions, remove affiliations, delete data, tombstone). */
  deleteUser(bareJid: string): Promise<JobInfo>;
  /** Sends a message to every online session. */
  announce(body: string, opts?: { subject?: string }): Promise<JobInfo>;
  /** Removes offline messages older than the retention period. */
  cleanupOffline(): Promise<JobInfo>;
  /** A job by id, or undefined when there is none (or it was removed). */
  get(id: string): Promise<JobInfo | undefined>;
  counts(): Promise<JobCounts>;
}
