// XEP-0004 data forms: building forms and results (§3.1, §3.2) and reading submissions
// (§3.3: "the form-submitting entity ... MUST include the field's 'var'"; values are the
// <value/> children; a FORM_TYPE hidden field per XEP-0068 §4).
import { Element } from 'ltx';
import { NS } from '@parley/xml';

/** XEP-0004 §3.3 field types used here. */
export type FieldType =
  | 'boolean'
  | 'fixed'
  | 'hidden'
  | 'jid-multi'
  | 'jid-single'
  | 'list-multi'
  | 'list-single'
  | 'text-multi'
  | 'text-private'
  | 'text-single';

/** One field of a form to send. */
export interface FormField {
  var: string;
  type?: FieldType;
  label?: string;
  values: readonly string[];
  options?: readonly { label?: string; value: string }[];
  required?: boolean;
}

/** A form as submitted: its type and the values of each field, by var. */
export interface SubmittedForm {
  /** XEP-0004 §3.1 form type: `submit`, `cancel`, ... */
  type: string;
  /** The FORM_TYPE value, if the form has one. */
  formType: string | undefined;
  values: ReadonlyMap<string, readonly string[]>;
}

/** Builds `<x xmlns='jabber:x:data' type=...>` with a FORM_TYPE hidden field first. */
export function buildForm(
  type: 'form' | 'result',
  formType: string,
  fields: readonly FormField[],
  extra: { title?: string; instructions?: string } = {},
): Element {
  const x = new Element('x', { xmlns: NS.DATA, type });
  if (extra.title !== undefined) x.c('title').t(extra.title);
  if (extra.instructions !== undefined) x.c('instructions').t(extra.instructions);
  x.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(formType);
  for (const f of fields) {
    const attrs: Record<string, string> = { var: f.var };
    if (f.type !== undefined && type === 'form') attrs.type = f.type;
    if (f.label !== undefined) attrs.label = f.label;
    const field = x.c('field', attrs);
    if (f.required === true && type === 'form') field.c('required');
    for (const v of f.values) field.c('value').t(v);
    if (type === 'form') {
      for (const o of f.options ?? []) {
        const option = field.c('option', o.label === undefined ? {} : { label: o.label });
        option.c('value').t(o.value);
      }
    }
  }
  return x;
}

/** Reads a submitted `<x xmlns='jabber:x:data'/>`; field values keep their order. */
export function readForm(x: Element): SubmittedForm {
  const values = new Map<string, string[]>();
  for (const field of x.getChildren('field')) {
    const name: unknown = field.attrs.var;
    if (typeof name !== 'string') continue;
    values.set(
      name,
      field.getChildren('value').map((v) => v.getText()),
    );
  }
  const ft = values.get('FORM_TYPE');
  return { type: typeof x.attrs.type === 'string' ? x.attrs.type : '', formType: ft?.[0], values };
}

/** XEP-0004 §3.3 boolean: `0`/`false` or `1`/`true`; undefined for anything else. */
export function parseBoolean(value: string): boolean | undefined {
  const v = value.trim();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}

/** A non-negative decimal integer; undefined for anything else. */
export function parseCount(value: string): number | undefined {
  const v = value.trim();
  if (!/^\d{1,9}$/.test(v)) return undefined;
  return Number(v);
}
