// One error shape for every 4xx/5xx, whatever raised it: an ApiError from a route, Fastify's
// schema validation, its content-type parser, an unknown route, a room command timeout, a
// Redis outage. Bad input is always a 4xx; only a bug is a 500.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ControlError } from '@parley/control';
import { ApiError, type ErrorBody } from './errors.js';

/** One schema violation, as `details` of a 400 `validation` lists them. */
export interface ValidationProblem {
  /** `body`, `querystring`, `params` or `headers`. */
  in: string;
  /** JSON pointer of the offending value, e.g. `/config/maxUsers` ('' for the whole part). */
  path: string;
  message: string;
}

/** Maps any error to the API's error body (and its status). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ControlError) {
    return err.code === 'COMMAND_TIMEOUT' ? new ApiError('room-unavailable', err.message) : new ApiError('internal', 'the room answered with something unreadable');
  }
  const e = err as Partial<FastifyError> & { name?: string; message?: string };
  if (e.name === 'JobsError') {
    // @parley/jobs: NOT_STARTED while the queue is (re)starting; BAD_JID / EMPTY_BODY are input the schemas let through.
    return e.code === 'NOT_STARTED' ? new ApiError('unavailable', 'the job queue is not running') : new ApiError('validation', e.message);
  }
  if (Array.isArray(e.validation)) {
    const where = e.validationContext ?? 'body';
    const details: ValidationProblem[] = e.validation.map((v) => {
      const missing = v.keyword === 'required' ? (v.params as { missingProperty?: string }).missingProperty : undefined;
      const extra = v.keyword === 'additionalProperties' ? (v.params as { additionalProperty?: string }).additionalProperty : undefined;
      const path = v.instancePath + (missing !== undefined ? `/${missing}` : extra !== undefined ? `/${extra}` : '');
      return { in: where, path, message: extra !== undefined ? 'unknown property' : v.message ?? 'invalid' };
    });
    const first = details[0];
    return new ApiError('validation', first ? `${first.in}${first.path}: ${first.message}` : (e.message ?? 'invalid request'), details);
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('unsupported-media-type', e.message);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('payload-too-large');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('bad-body', e.message);
  }
  if (e.name === 'SyntaxError' || (e.statusCode === 400 && typeof e.code === 'string')) return new ApiError('bad-body', e.message);
  if (e.statusCode === 404) return new ApiError('not-found');
  if (e.statusCode === 413) return new ApiError('payload-too-large');
  if (e.statusCode === 415) return new ApiError('unsupported-media-type', e.message);
  if (e.statusCode === 429) return new ApiError('rate-limited');
  if (isRedisDown(e)) return new ApiError('unavailable', `redis: ${e.message ?? 'unavailable'}`);
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new ApiError('bad-body', e.message);
  return new ApiError('internal');
}

function isRedisDown(e: { name?: string; message?: string }): boolean {
  return e.name === 'MaxRetriesPerRequestError' || /Connection is closed|ECONNREFUSED|Stream isn't writeable/.test(e.message ?? '');
}

/** Installs the error and not-found handlers on `app` (before any route plugin). */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const api = toApiError(err);
    if (api.statusCode >= 500) request.log.error({ err, code: api.code }, 'request failed');
    else request.log.info({ code: api.code, status: api.statusCode }, 'request refused');
    const body: ErrorBody = api.toBody();
    return reply.status(api.statusCode).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body = new ApiError('not-found', `no route ${request.method} ${request.url.split('?')[0]}`).toBody();
    return reply.status(404).send(body);
  });
}
