import type { Job, JobState } from 'bullmq';
import { publicJobId } from './job-id.js';

/** The kinds of job this service runs (the BullMQ job name). */
export type JobName = 'delete-user' | 'announce' | 'cleanup-offline';

/** The job names, for validation. */
export const JOB_NAMES: readonly JobName[] = ['delete-user', 'announce', 'cleanup-offline'];

/** A job as the admin API shows it. */
export interface JobInfo {
  /** The job id (`delete-user:<jid>` for deletions, BullMQ's numbers otherwise, `repeat:…` for scheduled cleanups). */
  id: string;
  name: JobName;
  /** `waiting` also covers BullMQ's `prioritized` and `waiting-children`; a job between retries is `delayed`. */
  state: 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'unknown';
  /** 0..100 */
  progress: number;
  data: Record<string, unknown>;
  /** The processor's return value once completed. */
  result?: unknown;
  /** Why the last attempt failed (also set while a retry is pending). */
  failedReason?: string;
  attemptsMade: number;
  /** ms since epoch */
  createdAt: number;
  /** ms since epoch, once completed or finally failed */
  finishedAt?: number;
}

/** Builds the {@link JobInfo} of a BullMQ job in state `state` (from `job.getState()`). */
export function jobInfo(job: Job, state: JobState | 'unknown'): JobInfo {
  const info: JobInfo = {
    id: publicJobId(job.id ?? ''),
    name: job.name as JobName,
    state: mapState(state),
    progress: typeof job.progress === 'number' ? Math.max(0, Math.min(100, job.progress)) : 0,
    data: (typeof job.data === 'object' && job.data !== null ? job.data : {}) as Record<string, unknown>,
    attemptsMade: job.attemptsMade,
    createdAt: job.timestamp,
  };
  if (state === 'completed') info.result = job.returnvalue as unknown;
  if (job.failedReason) info.failedReason = job.failedReason;
  if (job.finishedOn) info.finishedAt = job.finishedOn;
  return info;
}

function mapState(state: JobState | 'unknown'): JobInfo['state'] {
  switch (state) {
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return 'waiting';
    case 'active':
    case 'completed':
    case 'failed':
    case 'delayed':
      return state;
    default:
      return 'unknown';
  }
}
