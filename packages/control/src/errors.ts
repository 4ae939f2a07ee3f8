/** Every error the control client throws, with a stable code. */
export const CONTROL_ERRORS = {
  /** A room command got no result in time (no worker owns the shard, or it is overloaded). */
  COMMAND_TIMEOUT: 'the room did not answer in time',
  /** A room command's result could not be parsed. */
  BAD_RESULT: 'the room answered with something that is not a command result',
} as const;

export type ControlErrorCode = keyof typeof CONTROL_ERRORS;

/** An error from the control client; `message` starts with the code's description. */
export class ControlError extends Error {
  readonly code: ControlErrorCode;

  constructor(code: ControlErrorCode, details?: string) {
    super(details ? `${CONTROL_ERRORS[code]}: ${details}` : CONTROL_ERRORS[code]);
    this.name = 'ControlError';
    this.code = code;
  }
}
