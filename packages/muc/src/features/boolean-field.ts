// XEP-0004 §3.3 boolean fields of muc#roomconfig, shared by the features that own one.
import { parseBoolean, type FormField, type SubmittedForm } from '../data-form.js';
import { REFUSALS, type Refusal } from '../errors.js';

/** A boolean form field with the current value. */
export function booleanField(name: string, label: string, value: boolean): FormField {
  return { var: name, type: 'boolean', label, values: [value ? '1' : '0'] };
}

/**
 * Reads boolean field `name` from `form`: calls `set` with the value when present.
 * @returns bad-request when the value is not a boolean.
 */
export function readBoolean(form: SubmittedForm, name: string, set: (v: boolean) => void): Refusal | undefined {
  const value = form.values.get(name)?.[0];
  if (value === undefined) return undefined;
  const b = parseBoolean(value);
  if (b === undefined) return REFUSALS.badFormValue;
  set(b);
  return undefined;
}
