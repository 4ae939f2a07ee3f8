// XEP-0082 §3.2 DateTime profile (`CCYY-MM-DDThh:mm:ss[.sss]TZD`), used by XEP-0203
// delay stamps and the XEP-0045 §7.2.14 `since` attribute. Pure: the time is passed in.

/** `ms` (since epoch) as an XEP-0082 DateTime in UTC; milliseconds only when non-zero. */
export function formatStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** An XEP-0082 DateTime (with a time zone) as ms since epoch; undefined when it is not one. */
export function parseStamp(text: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
