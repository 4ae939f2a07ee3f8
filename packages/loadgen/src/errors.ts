/** Every error the load generator throws, with a stable code. */
export const LOADGEN_ERRORS = {
  /** The scenario file is missing, unreadable, not JSON/YAML, or fails the schema. */
  BAD_SCENARIO: 'invalid scenario',
  /** A command-line option or a {@link RunOptions} field is invalid. */
  BAD_OPTION: 'invalid option',
  /** A worker thread crashed or stopped answering. */
  WORKER_FAILED: 'a load generator worker thread failed',
} as const;

/** One of the {@link LOADGEN_ERRORS} keys. */
export type LoadgenErrorCode = keyof typeof LOADGEN_ERRORS;

/** An error from the load generator; `message` starts with the code's description. */
export class LoadgenError extends Error {
  readonly code: LoadgenErrorCode;
  /** For `BAD_SCENARIO`: one line per problem, `path.to.field: what is wrong`. */
  readonly issues: readonly string[];

  constructor(code: LoadgenErrorCode, details?: string, issues: readonly string[] = []) {
    super(details ? `${LOADGEN_ERRORS[code]}: ${details}` : LOADGEN_ERRORS[code]);
    this.name = 'LoadgenError';
    this.code = code;
    this.issues = issues;
  }
}
