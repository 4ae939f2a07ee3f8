/** Every error the jobs service throws, with a stable code. */
export const JOBS_ERRORS = {
  /** A method that needs the queue was called before `start()` (or after `stop()`). */
  NOT_STARTED: 'the jobs service is not started',
  /** `deleteUser` was given something that is not a bare JID (`local@domain`, no resource). */
  BAD_JID: 'not a bare JID',
  /** `announce` was given an empty body. */
  EMPTY_BODY: 'an announcement needs a body',
  /** A job's data does not have the shape its processor needs (the job fails without retries). */
  BAD_JOB_DATA: 'the job data is malformed',
  /** A room refused `remove-user` with something other than `item-not-found` (the job retries). */
  ROOM_REFUSED: 'a room refused the command',
  /** An account's subscriptions must be cancelled but no gateway is alive to route the stanzas (the job retries). */
  NO_GATEWAY: 'no gateway is running to cancel the presence subscriptions',
} as const;

export type JobsErrorCode = keyof typeof JOBS_ERRORS;

/** An error from the jobs service; `message` starts with the code's description. */
export class JobsError extends Error {
  readonly code: JobsErrorCode;

  constructor(code: JobsErrorCode, details?: string) {
    super(details ? `${JOBS_ERRORS[code]}: ${details}` : JOBS_ERRORS[code]);
    this.name = 'JobsError';
    this.code = code;
  }
}
