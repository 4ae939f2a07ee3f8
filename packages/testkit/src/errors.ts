/**
 * Every error the testkit throws, with a stable `code` so that callers (and test output
 * readers) can tell "the environment is not set up" from "the process under test misbehaved".
 */
export const TESTKIT_ERRORS = {
  /** `redis-server` is not on PATH. */
  REDIS_NOT_INSTALLED: 'redis-server was not found on PATH: run `npm run setup` (installs Debian\'s redis-server)',
  /** redis-server exited or never answered PING. */
  REDIS_START_FAILED: 'redis-server did not start',
  /** A service's `dist/*.js` is missing. */
  NOT_BUILT: 'the services are not built: run `npm run build` (tsc -b) first',
  /** The gateway exited or did not log "gateway ready" in time. */
  GATEWAY_START_FAILED: 'the gateway did not become ready',
  /** The room worker exited or did not log "room worker ready" in time. */
  ROOM_WORKER_START_FAILED: 'the room worker did not become ready',
  /** The admin API exited or did not log "admin api ready" in time. */
  ADMIN_API_START_FAILED: 'the admin API did not become ready',
  /** A cluster started by `startMucCluster` did not get an owner for every shard in time. */
  SHARDS_NOT_OWNED: 'the room workers did not take every shard',
  /** A process did not exit after being signalled. */
  PROCESS_DID_NOT_EXIT: 'a child process did not exit',
  /** `prosody` (Debian package `prosody`) is not on PATH. */
  PROSODY_NOT_INSTALLED: 'prosody was not found on PATH: run `npm run setup` (installs Debian\'s prosody)',
  /** Prosody exited, could not bind its ports, or did not accept c2s connections in time. */
  PROSODY_START_FAILED: 'prosody did not start',
  /** A RawClient wait ran out of time or the socket closed first. */
  RAW_TIMEOUT: 'the expected data did not arrive',
  /** The server refused or broke a login done by `loginPlain`. */
  LOGIN_FAILED: 'login failed',
} as const;

/** One of the {@link TESTKIT_ERRORS} keys. */
export type TestkitErrorCode = keyof typeof TESTKIT_ERRORS;

/** An error from the testkit; `message` starts with the code's description and adds details. */
export class TestkitError extends Error {
  readonly code: TestkitErrorCode;

  constructor(code: TestkitErrorCode, details?: string) {
    super(details ? `${TESTKIT_ERRORS[code]}: ${details}` : TESTKIT_ERRORS[code]);
    this.name = 'TestkitError';
    this.code = code;
  }
}
