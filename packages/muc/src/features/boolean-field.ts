// XEP-0004 §3.3 boolean fields of muc#roomconfig, shared by the features that own one.
import { parseBoolean, type FormField, type SubmittedForm } from '../data-form.js';
import { REFUSALS, type Refusal } from '../errors.js';

/** A boolean form field with the current value. */
export function booleanField(name: string, label: string, value: boolean): FormField {
  return { var: name, type: 'boolean', label, values: [value ? '1' : '0'] };
}

/**
 * Reads boolean field `name` from `form`: calls `set` with the value when present (a
 * field without `<value/>` leaves the setting as it is).
 * @returns bad-request, with a `<text/>` naming the field, when the value is not a
 *   XEP-0004 §3.3 boolean (`0`, `1`, `false`, `true`), an empty `<value/>` included
 *   (Prosody 0.12 takes that as false).
 */
export function readBoolean(form: SubmittedForm, name: string, set: (v: boolean) => void): Refusal | undefined {
  const value = form.values.get(name)?.[0];
  if (value === undefined) return undefined;
  const b = parseBoolean(value);
  if (b === undefined) return { ...REFUSALS.badFormValue, text: `${name} needs a boolean value (0, 1, false or true)` };
  set(b);
  return undefined;
}
