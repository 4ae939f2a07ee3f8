/*
 * Scansion's matching rules (../shared/scansion/README.md, "Matching rules"):
 * - non-strict: every expected attribute present with the same value (extra received
 *   attributes ignored); every expected child present somewhere among the received
 *   children (extra children and order ignored);
 * - strict: identical attribute sets; exactly the expected children, in order, nothing extra;
 * - always: `{scansion:any}` means "present, any value"; names and namespaces match exactly;
 *   `xmlns` declarations are not attributes; text is compared (trimmed) only where the
 *   expected element has some;
 * - default mode: `jabber:client` elements non-strict, every other namespace strict;
 *   `scansion:strict="true"|"false"` on an expected element overrides it for that element.
 */
import type { Element } from 'ltx';

/** The stream's namespace: elements in it are matched non-strict by default. */
export const CLIENT_NS = 'jabber:client';
/** Attribute value meaning "present, with any value". */
export const ANY_VALUE = '{scansion:any}';
/** Attribute of expected elements that forces the mode. */
export const STRICT_ATTR = 'scansion:strict';

/** Outcome of {@link matches}; `reason` names the path of the first difference. */
export type MatchResult = { ok: true } | { ok: false; reason: string };

/**
 * Whether `received` matches `expected`. Both are top-level stanzas in `jabber:client`
 * unless they carry their own `xmlns`.
 * @param strictDefault when given, the default mode of every element (instead of the
 *   namespace rule); `scansion:strict` still overrides it
 */
export function matches(expected: Element, received: Element, strictDefault?: boolean): MatchResult {
  return compare(expected, CLIENT_NS, received, CLIENT_NS, strictDefault, `/${expected.name}`);
}

function compare(exp: Element, expParentNs: string, rec: Element, recParentNs: string, strictDefault: boolean | undefined, path: string): MatchResult {
  const expNs = exp.attrs.xmlns ?? expParentNs;
  const recNs = rec.attrs.xmlns ?? recParentNs;
  if (exp.name !== rec.name) return fail(path, `element <${rec.name}> instead of <${exp.name}>`);
  if (expNs !== recNs) return fail(path, `namespace ${recNs} instead of ${expNs}`);

  const override = exp.attrs[STRICT_ATTR];
  if (override !== undefined && override !== 'true' && override !== 'false') return fail(path, `${STRICT_ATTR} must be "true" or "false", not ${JSON.stringify(override)}`);
  const strict = override !== undefined ? override === 'true' : (strictDefault ?? expNs !== CLIENT_NS);

  // Attributes.
  const expAttrs = comparedAttrs(exp);
  const recAttrs = comparedAttrs(rec);
  for (const [key, want] of expAttrs) {
    const got = recAttrs.get(key);
    if (got === undefined) return fail(path, `missing attribute ${key}="${want}"`);
    if (want !== ANY_VALUE && want !== got) return fail(path, `attribute ${key}="${got}" instead of "${want}"`);
  }
  if (strict) {
    for (const [key, got] of recAttrs) {
      if (!expAttrs.has(key)) return fail(path, `unexpected attribute ${key}="${got}" (strict)`);
    }
  }

  // Text, only where the expected element has some.
  const wantText = exp.getText().trim();
  if (wantText !== '') {
    const gotText = rec.getText().trim();
    if (gotText !== wantText) return fail(path, `text ${JSON.stringify(gotText)} instead of ${JSON.stringify(wantText)}`);
  }

  // Children.
  const expChildren = exp.getChildElements();
  const recChildren = rec.getChildElements();
  if (strict) {
    for (let i = 0; i < Math.max(expChildren.length, recChildren.length); i++) {
      const e = expChildren[i];
      const r = recChildren[i];
      if (e === undefined) return fail(path, `unexpected child <${r!.name}> at position ${i + 1} (strict)`);
      if (r === undefined) return fail(path, `missing child <${e.name}> at position ${i + 1} (strict)`);
      const res = compare(e, expNs, r, recNs, strictDefault, `${path}/${e.name}[${i + 1}]`);
      if (!res.ok) return res;
    }
  } else {
    for (const e of expChildren) {
      let firstFailure: MatchResult | undefined;
      let found = false;
      for (const r of recChildren) {
        const res = compare(e, expNs, r, recNs, strictDefault, `${path}/${e.name}`);
        if (res.ok) {
          found = true;
          break;
        }
        // Report why the most plausible candidate (same name) did not match.
        if (firstFailure === undefined && r.name === e.name) firstFailure = res;
      }
      if (!found) return firstFailure ?? fail(path, `missing child <${e.name}>`);
    }
  }
  return { ok: true };
}

/** Attributes that take part in the comparison: not `xmlns`, `xmlns:*` nor `scansion:strict`. */
function comparedAttrs(el: Element): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(el.attrs as Record<string, unknown>)) {
    if (key === 'xmlns' || key.startsWith('xmlns:') || key === STRICT_ATTR) continue;
    if (value === undefined || value === null) continue;
    out.set(key, String(value));
  }
  return out;
}

function fail(path: string, reason: string): MatchResult {
  return { ok: false, reason: `${path}: ${reason}` };
}
