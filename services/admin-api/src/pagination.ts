// Cursor pagination shared by every list: `?limit=1..1000` (default 100) and an opaque
// `?cursor=` taken from the previous page's `next`. Lists are sorted by a unique key (a JID,
// a nick); a cursor is that key of the page's last item, so pages stay consistent while
// items come and go.
import { ApiError } from './errors.js';

/** Default and largest page sizes. */
export const PAGE = { defaultLimit: 100, maxLimit: 1000 } as const;

/** The `limit` and `cursor` query parameters, as JSON schema properties. */
export const pageQueryProperties = {
  limit: { type: 'integer', minimum: 1, maximum: PAGE.maxLimit, default: PAGE.defaultLimit, description: 'page size' },
  cursor: { type: 'string', minLength: 1, maxLength: 4096, description: 'opaque: the `next` of the previous page' },
} as const;

/** A page of a list. */
export interface Page<T> {
  items: T[];
  /** Present when there are more items: pass it as `cursor`. */
  next?: string;
}

/** Encodes the key of a page's last item as an opaque cursor. */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(`c1:${lastKey}`, 'utf8').toString('base64url');
}

/**
 * Decodes a cursor into the key after which the page starts.
 * @throws ApiError `invalid-cursor` when it was not made by {@link encodeCursor}
 */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!text.startsWith('c1:')) throw new ApiError('invalid-cursor', 'invalid cursor: pass the `next` of a previous page unchanged');
  return text.slice(3);
}

/**
 * One page of `items` (which need not be sorted) by `key`: those whose key sorts after the
 * cursor's, at most `limit` of them.
 */
export function paginate<T>(items: readonly T[], key: (item: T) => string, opts: { limit: number; cursor?: string | undefined }): Page<T> {
  const after = decodeCursor(opts.cursor);
  const sorted = items.filter((i) => after === undefined || key(i) > after).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const page = sorted.slice(0, opts.limit);
  const last = page[page.length - 1];
  return sorted.length > page.length && last !== undefined ? { items: page, next: encodeCursor(key(last)) } : { items: page };
}
