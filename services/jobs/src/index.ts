// @parley/jobs: durable background jobs on BullMQ (issue #4): deleting an account,
// announcing to every online session, and the scheduled clean-up of old offline messages.
export { Jobs, type JobsOptions, type JobCounts } from './jobs.js';
export { type JobInfo, type JobName, JOB_NAMES } from './job-info.js';
export { deleteUserJobId } from './job-id.js';
export { JobsError, JOBS_ERRORS, type JobsErrorCode } from './errors.js';
export type { DeleteUserData, DeleteUserResult } from './processors/delete-user.js';
export type { AnnounceData, AnnounceResult } from './processors/announce.js';
export type { CleanupOfflineResult } from './processors/cleanup-offline.js';
