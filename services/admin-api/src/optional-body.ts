// DELETE routes take their options (reason, alternate, condition) from the query string or,
// for clients that prefer it, a JSON body. A DELETE usually has no body: this preValidation
// hook makes a missing one `{}` so the body schema (an object) still applies when one is sent.
import type { FastifyRequest } from 'fastify';

/** Route `preValidation` hook: an absent body becomes `{}`. */
export async function optionalBody(request: FastifyRequest): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}

/**
 * The body schema of a DELETE whose options may also come in the query: the query's
 * properties, all optional, no others.
 */
export function optionalBodyOf(query: { properties: Record<string, unknown> }) {
  const properties: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(query.properties)) {
    const { default: _default, ...rest } = schema as Record<string, unknown>;
    properties[name] = rest;
  }
  return { type: 'object', properties, additionalProperties: false, description: 'optional: the same options as the query string (the body wins)' } as const;
}
