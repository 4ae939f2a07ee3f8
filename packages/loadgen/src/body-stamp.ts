/**
 * The stamp embedded at the start of every groupchat body the generator sends:
 *
 *     lg:<runId>:<sender>:<seq>:<sendUs>:xxxxxxxx…
 *
 * `runId` is the run's id ([a-z0-9]+, so messages of another run, e.g. room history, are
 * told apart), `sender` the sending client's index, `seq` its per-sender sequence number
 * (0, 1, 2, …), `sendUs` the send time in whole microseconds on the shared clock
 * ({@link nowUs}). The body is padded with `x` up to the scenario's `bodyBytes` (never
 * truncated: a body is at least as long as its stamp). Only ASCII digits, letters and `:`
 * are used, so the body needs no XML escaping and arrives byte-identical.
 */

/** A decoded stamp. */
export interface BodyStamp {
  /** Client index of the sender. */
  sender: number;
  /** Per-sender sequence number, from 0. */
  seq: number;
  /** Send time, µs since the epoch ({@link nowUs}). */
  sendUs: number;
}

/** The prefix of every stamp of run `runId`. */
export function stampPrefix(runId: string): string {
  return `lg:${runId}:`;
}

/**
 * The body text for one message.
 * @param bodyBytes - wanted length in bytes; the result is longer when the stamp itself is
 */
export function encodeStamp(runId: string, stamp: BodyStamp, bodyBytes: number): string {
  const head = `lg:${runId}:${stamp.sender}:${stamp.seq}:${Math.floor(stamp.sendUs)}:`;
  return head.length >= bodyBytes ? head : head + 'x'.repeat(bodyBytes - head.length);
}

/**
 * Decodes the stamp that starts at `text[from]` (the body's first character), without
 * allocating: the fields are written into `out`.
 * @returns false when no stamp of this run starts there (not ours, or malformed)
 */
export function decodeStampAt(text: string, from: number, prefix: string, out: BodyStamp): boolean {
  if (!text.startsWith(prefix, from)) return false;
  let i = from + prefix.length;
  let field = 0;
  let value = 0;
  let digits = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 58 /* : */) {
      if (digits === 0) return false;
      if (field === 0) out.sender = value;
      else if (field === 1) out.seq = value;
      else {
        out.sendUs = value;
        return true;
      }
      field++;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return false;
}

/** {@link decodeStampAt} on a whole body string; undefined when it carries no stamp of `runId`. */
export function decodeStamp(body: string, runId: string): BodyStamp | undefined {
  const out: BodyStamp = { sender: 0, seq: 0, sendUs: 0 };
  return decodeStampAt(body, 0, stampPrefix(runId), out) ? out : undefined;
}
