// BullMQ refuses custom job ids containing `:` (its repeatable-job keys use it), yet the
// public id of a deletion is `delete-user:<jid>`. The two forms are mapped here, and only
// for deletions: BullMQ's own ids (numbers, `repeat:…` for scheduled jobs) pass unchanged.

const PUBLIC = 'delete-user:';
const INTERNAL = 'delete-user|';

/** The public id of the deletion job of `bareJid`: `delete-user:<jid>`. */
export function deleteUserJobId(bareJid: string): string {
  return `${PUBLIC}${bareJid}`;
}

/** The BullMQ job id for a public id (`:` and `%` in the JID escaped as `%3A`, `%25`). */
export function internalJobId(publicId: string): string {
  if (!publicId.startsWith(PUBLIC)) return publicId;
  return INTERNAL + publicId.slice(PUBLIC.length).replace(/%/g, '%25').replace(/:/g, '%3A');
}

/** The public id for a BullMQ job id; inverse of {@link internalJobId}. */
export function publicJobId(internalId: string): string {
  if (!internalId.startsWith(INTERNAL)) return internalId;
  return PUBLIC + internalId.slice(INTERNAL.length).replace(/%3A/g, ':').replace(/%25/g, '%');
}
