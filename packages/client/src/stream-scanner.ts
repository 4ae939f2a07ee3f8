/**
 * Splits an RFC 6120 XML stream (TCP c2s, §4) into top-level elements without parsing them:
 * it follows tags with `indexOf('<')`, skips attribute values in quotes, and counts depth.
 * Cheap enough for the load generator's hot path (a few hundred ns per 300-byte stanza);
 * {@link parseTopLevel} turns an element's text into an ltx Element when a caller needs
 * one. Well-formedness is the server's business: this only has to find element boundaries
 * in well-formed input (and {@link parseTopLevel} throws on what is not).
 *
 * Bounded: an element (complete, or held unfinished) of more than `maxElementChars` UTF-16
 * code units is refused: it reports `onError` once and ignores the rest of the input.
 */

/** What a scanner reports. */
export interface ScannerEvents {
  /** `<stream:stream …>` opened (also on a restart after SASL). */
  onStreamOpen(tag: string): void;
  /** One complete top-level element (stanza, features, SASL reply, stream error). */
  onElement(xml: string): void;
  /** `</stream:stream>` */
  onStreamClose(): void;
  /** One unfinished element grew over the limit; nothing is reported after this. */
  onError?(reason: string): void;
}

/** Default bound of one top-level element, UTF-16 code units (1 Mi). */
export const DEFAULT_MAX_ELEMENT_CHARS = 1024 * 1024;

const LT = 60; // <
const GT = 62; // >
const SLASH = 47;
const QUESTION = 63;
const BANG = 33;
const QUOT = 34;
const APOS = 39;

/** Incremental splitter of one stream; feed it decoded text with {@link StreamScanner.push}. */
export class StreamScanner {
  #buf = '';
  /** Where scanning resumes in `#buf` (everything before it has been counted). */
  #pos = 0;
  #depth = 0;
  /** Start of the element being collected, or -1. */
  #start = -1;
  #failed = false;
  readonly #events: ScannerEvents;
  readonly #max: number;

  /** @param maxElementChars - bound of what is held (a positive integer; default {@link DEFAULT_MAX_ELEMENT_CHARS}) */
  constructor(events: ScannerEvents, maxElementChars = DEFAULT_MAX_ELEMENT_CHARS) {
    this.#events = events;
    this.#max = maxElementChars;
  }

  /**
   * Forgets the current stream: call before a stream restart (RFC 6120 §6.4.6), when the
   * next thing is a new `<stream:stream>`. With `inStream`, the text that follows is taken
   * as the inside of an already open stream (its next elements are top-level).
   */
  reset(inStream = false): void {
    this.#buf = '';
    this.#pos = 0;
    this.#depth = inStream ? 1 : 0;
    this.#start = -1;
    this.#failed = false;
  }

  /** Feeds a chunk of decoded text; complete elements are reported synchronously. */
  push(chunk: string): void {
    if (this.#failed) return;
    const buf = this.#buf.length === 0 ? chunk : this.#buf + chunk;
    let pos = this.#pos;
    let keepFrom = -1;
    for (;;) {
      const lt = buf.indexOf('<', pos);
      if (lt < 0) break;
      const c = buf.charCodeAt(lt + 1);
      if (Number.isNaN(c)) {
        keepFrom = lt;
        break;
      }
      if (c === QUESTION) {
        const end = buf.indexOf('?>', lt + 2);
        if (end < 0) {
          keepFrom = lt;
          break;
        }
        pos = end + 2;
        continue;
      }
      if (c === BANG) {
        const cdata = buf.startsWith('<![CDATA[', lt);
        const end = cdata ? buf.indexOf(']]>', lt + 9) : buf.indexOf('-->', lt + 4);
        if (end < 0) {
          keepFrom = lt;
          break;
        }
        pos = end + 3;
        continue;
      }
      if (c === SLASH) {
        const gt = buf.indexOf('>', lt + 2);
        if (gt < 0) {
          keepFrom = lt;
          break;
        }
        this.#depth--;
        if (this.#depth === 1 && this.#start >= 0) {
          if (gt + 1 - this.#start > this.#max) return this.#fail();
          this.#events.onElement(buf.slice(this.#start, gt + 1));
          this.#start = -1;
        } else if (this.#depth <= 0) {
          this.#depth = 0;
          this.#start = -1;
          this.#events.onStreamClose();
        }
        pos = gt + 1;
        continue;
      }
      const gt = tagEnd(buf, lt + 1);
      if (gt < 0) {
        keepFrom = lt;
        break;
      }
      const selfClosing = buf.charCodeAt(gt - 1) === SLASH;
      if (this.#depth <= 1 && buf.startsWith('<stream:stream', lt)) {
        this.#depth = 1;
        this.#start = -1;
        this.#events.onStreamOpen(buf.slice(lt, gt + 1));
      } else if (this.#depth === 1) {
        if (selfClosing) {
          if (gt + 1 - lt > this.#max) return this.#fail();
          this.#events.onElement(buf.slice(lt, gt + 1));
        }
        else {
          this.#start = lt;
          this.#depth = 2;
        }
      } else if (!selfClosing) {
        this.#depth++;
      }
      pos = gt + 1;
    }
    // Keep what is still needed: the element being collected, or an unfinished tag.
    const resume = keepFrom >= 0 ? keepFrom : buf.length;
    if (this.#start >= 0) {
      this.#buf = buf.slice(this.#start);
      this.#pos = resume - this.#start;
      this.#start = 0;
    } else if (keepFrom >= 0) {
      this.#buf = buf.slice(keepFrom);
      this.#pos = 0;
    } else {
      this.#buf = '';
      this.#pos = 0;
    }
    if (this.#buf.length > this.#max) this.#fail();
  }

  #fail(): void {
    this.#failed = true;
    this.#buf = '';
    this.#pos = 0;
    this.#start = -1;
    this.#events.onError?.(`an element over ${this.#max} characters`);
  }
}

/** Index of the `>` closing the start tag whose name begins at `from`, skipping quoted values; -1 if incomplete. */
function tagEnd(buf: string, from: number): number {
  const n = buf.length;
  for (let i = from; i < n; i++) {
    const c = buf.charCodeAt(i);
    if (c === GT) return i;
    if (c === QUOT || c === APOS) {
      const close = buf.indexOf(c === QUOT ? '"' : "'", i + 1);
      if (close < 0) return -1;
      i = close;
    } else if (c === LT) {
      return -1; // malformed; wait (never happens in well-formed input)
    }
  }
  return -1;
}
