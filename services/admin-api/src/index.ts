// @parley/admin-api: the admin REST API (issue #4) as an app factory; `main.ts` runs it.
export { buildApp, API_VERSION, type ApiRoute } from './app.js';
export type { AppDeps } from './app-deps.js';
export { API_ERRORS, ApiError, type ApiErrorCode, type ErrorBody } from './errors.js';
export { hashToken, TokenVerifier, type TokenScope, type PublicEndpoint } from './auth.js';
export type { JobsApi, JobInfo, JobCounts, JobName, JobState } from './jobs-api.js';
export type { RoomCommandSender } from './room-commands.js';
