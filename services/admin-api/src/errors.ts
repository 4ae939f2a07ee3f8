/**
 * Every error code the admin API answers with, its HTTP status and default message, in one
 * place. Every 4xx/5xx body is `{ error: <code>, message, details? }` (see {@link ApiError}
 * and `error-handler.ts`, which maps Fastify's own errors onto these codes too).
 */
export const API_ERRORS = {
  /** The body, query or path failed its JSON schema (Fastify validation). `details` lists each problem. */
  validation: { status: 400, message: 'the request does not match the schema' },
  /** The body is not valid JSON (or not the declared content type). */
  'bad-body': { status: 400, message: 'the request body cannot be parsed' },
  /** A JID in the path, query or body is not a valid JID (RFC 7622), or not of the kind expected. */
  'invalid-jid': { status: 400, message: 'invalid JID' },
  /** A pagination cursor that this API did not issue. */
  'invalid-cursor': { status: 400, message: 'invalid cursor' },
  /** The room refused a command as malformed (room command error `bad-request`). */
  'bad-request': { status: 400, message: 'the room refused the command as invalid' },
  /** No `Authorization: Bearer <token>` header, or a token that is not configured. */
  unauthorized: { status: 401, message: 'a valid bearer token is required' },
  /** The token's scope does not allow this method (`read` tokens may only GET). */
  forbidden: { status: 403, message: 'the token does not allow this operation' },
  /** No route for this method and path. */
  'not-found': { status: 404, message: 'no such route' },
  'user-not-found': { status: 404, message: 'no such user' },
  'room-not-found': { status: 404, message: 'no such room' },
  'session-not-found': { status: 404, message: 'no such session' },
  /** A room command named something the room does not have (an occupant nick, most often). */
  'item-not-found': { status: 404, message: 'not found in the room' },
  'job-not-found': { status: 404, message: 'no such job' },
  /**
   * `POST /v1/messages` to a JID with no online session when nothing is stored offline: a
   * `headline`, or `offline.enabled` false (RFC 6121 §8.5.2.2.1).
   */
  'recipient-unavailable': { status: 404, message: 'the recipient has no online session' },
  'user-exists': { status: 409, message: 'the user exists already' },
  /**
   * The name belonged to an account deleted recently (tombstone, Prosody's mod_tombstones):
   * `details.deletedAt`; send `ignoreTombstone: true` to create it anyway.
   */
  tombstoned: { status: 409, message: 'an account of that name was deleted recently' },
  /** The room refused a command as conflicting with its state (room command error `conflict`). */
  conflict: { status: 409, message: 'the command conflicts with the room state' },
  /**
   * The room refused a command it does not permit (room command error `not-allowed`, e.g.
   * removing the last owner). 409 rather than 403: the caller's rights are fine, the room's
   * state forbids it.
   */
  'not-allowed': { status: 409, message: 'the room does not allow this' },
  'payload-too-large': { status: 413, message: 'the request body is too large' },
  /** `POST /v1/messages`: the recipient's offline storage quota refused the message (`details.quota`: which one). */
  'offline-storage-full': { status: 507, message: "the recipient's offline storage is full" },
  'unsupported-media-type': { status: 415, message: 'unsupported content type' },
  /** Too many requests, if a rate limit is installed in front. */
  'rate-limited': { status: 429, message: 'too many requests' },
  internal: { status: 500, message: 'internal error' },
  /** The room did not answer in time: no room worker holds its shard, or it is overloaded. */
  'room-unavailable': { status: 503, message: 'the room did not answer in time' },
  /** Redis or the job queue is unreachable. */
  unavailable: { status: 503, message: 'a backend is unavailable' },
} as const satisfies Record<string, { status: number; message: string }>;

/** One of the {@link API_ERRORS} codes. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** The body of every error response. */
export interface ErrorBody {
  error: ApiErrorCode;
  message: string;
  details?: unknown;
}

/**
 * An error a route throws to answer with `{ error: code, message, details? }` and the code's
 * HTTP status; `message` defaults to the code's description.
 */
export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  readonly details: unknown;

  constructor(code: ApiErrorCode, message?: string, details?: unknown) {
    super(message ?? API_ERRORS[code].message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = API_ERRORS[code].status;
    this.details = details;
  }

  /** The response body. */
  toBody(): ErrorBody {
    return this.details === undefined ? { error: this.code, message: this.message } : { error: this.code, message: this.message, details: this.details };
  }
}
