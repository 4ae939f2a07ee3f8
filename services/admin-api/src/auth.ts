// Bearer-token authentication (RFC 6750) for every route but liveness. Tokens are
// configured as the SHA-256 of the token (`adminApi.tokens`), so the configuration holds no
// secret; a presented token is hashed and compared with EVERY configured hash with
// crypto.timingSafeEqual (equal-length buffers, no early exit), so neither the comparison
// nor the loop reveals how much of a hash matched or which entry did.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '@parley/config';
import { ApiError } from './errors.js';

/** A token's scope: `read` may GET (and HEAD); `admin` may do everything. */
export type TokenScope = 'read' | 'admin';

/** A configured token, hash decoded. */
interface KnownToken {
  name: string;
  scope: TokenScope;
  hash: Buffer;
}

/**
 * Which endpoints are open without a token: `/healthz` and `/readyz` always (probes carry no
 * token; they answer only a status, issue #14 item 4), the rest by configuration. `readyz`
 * is still accepted in `adminApi.publicEndpoints` and changes nothing.
 */
export type PublicEndpoint = 'docs' | 'metrics' | 'readyz';

/** The SHA-256 of a token as lowercase hex: the value to put in `adminApi.tokens[].sha256`. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Verifies bearer tokens against the configured hashes.
 */
export class TokenVerifier {
  private readonly tokens: KnownToken[];

  constructor(tokens: Config['adminApi']['tokens']) {
    this.tokens = tokens.map((t) => ({ name: t.name, scope: t.scope, hash: Buffer.from(t.sha256, 'hex') }));
  }

  /**
   * The token matching `presented`, or undefined. Compares the presented token's hash with
   * every configured hash in constant time and does not stop at the first match.
   */
  verify(presented: string): { name: string; scope: TokenScope } | undefined {
    const hash = createHash('sha256').update(presented, 'utf8').digest();
    let found: KnownToken | undefined;
    for (const t of this.tokens) {
      if (timingSafeEqual(hash, t.hash) && found === undefined) found = t;
    }
    return found && { name: found.name, scope: found.scope };
  }
}

/** Route patterns served without a token, by the setting that opens them. */
const PUBLIC_ROUTES: Record<PublicEndpoint | 'always', (url: string) => boolean> = {
  always: (url) => url === '/healthz' || url === '/readyz',
  readyz: (url) => url === '/readyz',
  metrics: (url) => url === '/metrics',
  docs: (url) => url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/'),
};

/**
 * The onRequest hook: 401 (with `WWW-Authenticate: Bearer`) without a valid token, 403 when
 * a `read` token asks for anything but GET/HEAD. Unknown routes need a token too (their 404
 * is only given to authenticated callers), so the route table is not disclosed.
 */
export function authHook(verifier: TokenVerifier, open: readonly PublicEndpoint[]) {
  const isPublic = (url: string | undefined) =>
    url !== undefined && (PUBLIC_ROUTES.always(url) || open.some((e) => PUBLIC_ROUTES[e](url)));
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (isPublic(request.routeOptions.url)) return;
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i.exec(header);
    if (!match) {
      reply.header('www-authenticate', 'Bearer realm="parley-admin"');
      throw new ApiError('unauthorized');
    }
    const token = verifier.verify(match[1]!);
    if (!token) {
      reply.header('www-authenticate', 'Bearer realm="parley-admin", error="invalid_token"');
      throw new ApiError('unauthorized', 'the bearer token is not valid');
    }
    request.tokenName = token.name;
    request.tokenScope = token.scope;
    if (token.scope === 'read' && request.method !== 'GET' && request.method !== 'HEAD') {
      reply.header('www-authenticate', 'Bearer realm="parley-admin", error="insufficient_scope", scope="admin"');
      throw new ApiError('forbidden', `token "${token.name}" has scope read: only GET is allowed`);
    }
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The name of the token that authenticated the request ('' when none was needed). */
    tokenName: string;
    /** The scope of that token ('' when none was needed); routes that reveal secrets ask for `admin`. */
    tokenScope: TokenScope | '';
  }
}
