// RFC 6120 §4 (XML streams) and §11 (XML usage): incremental parser for a client-to-server
// TCP stream. Each child of <stream:stream> is delivered as one ltx Element.
import type { Element } from 'ltx';
import { SaxesParser, type CDataHandler, type CloseTagHandler, type CommentHandler, type DoctypeHandler, type ErrorHandler, type OpenTagHandler, type OpenTagStartHandler, type PIHandler, type SaxesAttributeNS, type TextHandler } from 'saxes';
import { ElementBuilder } from './element-builder.js';
import { MarkupGuard } from './markup-guard.js';
import { NS } from './namespaces.js';
import { isMismatchedCloseTag, saxesErrorCondition } from './saxes-errors.js';
import { XmlError, type XmlErrorCondition } from './xml-error.js';

/** Bytes handed to the decoder and saxes at a time; the byte cap is checked before each. */
const SLICE_BYTES = 4096;

/** XML whitespace (the S production): what keepalives are made of (RFC 6120 §4.6.1). */
const WHITESPACE = /^[ \t\r\n]*$/;

/** The opening `<stream:stream>` tag (RFC 6120 §4.7). */
export interface StreamHeader {
  /**
   * Attributes as written (`to`, `from`, `id`, `version`, `xml:lang`, ...), prefixed
   * names kept (`xml:lang`). Namespace declarations (`xmlns`, `xmlns:*`) are left out.
   * A null-prototype object (names come from the peer).
   */
  attrs: Record<string, string>;
  /** The default namespace declared on the header (`jabber:client` for clients), if any. */
  defaultNs: string | undefined;
}

/** Callbacks of a {@link StreamParser}; called synchronously from `write()`. */
export interface StreamParserHandlers {
  /** The stream header was read (once per stream, again after each `restart()`). */
  onStreamStart(header: StreamHeader): void;
  /** A complete child of the stream root (a stanza or a negotiation element). */
  onElement(el: Element): void;
  /** `</stream:stream>` was read. Nothing is reported after it. */
  onStreamEnd(): void;
  /** The input was refused. Nothing is reported after it; send `err.condition` as a stream error. */
  onError(err: XmlError): void;
}

/** Limits of a {@link StreamParser}. */
export interface StreamParserLimits {
  /**
   * Maximum size in bytes of one top-level element, of the stream header (with the
   * XML declaration before it) and of the whitespace between two elements. A positive
   * integer; the effective limit can be up to 4 KiB more (see {@link StreamParser}).
   */
  maxStanzaBytes: number;
  /** Maximum element nesting, the top-level element counting as depth 1. A positive integer. */
  maxDepth: number;
}

type Phase = 'prolog' | 'open' | 'ended' | 'failed';

/**
 * Strict, bounded parser for an XMPP stream over TCP (RFC 6120), built on saxes.
 *
 * Elements are normalised: unprefixed names, `xmlns` on the top-level element and where a
 * descendant's namespace differs from its parent's; other attributes and text as written.
 *
 * Refusals, reported once through `onError` (the parser is dead afterwards):
 * - `not-well-formed`: anything saxes rejects (mismatched tags, duplicate attributes,
 *   unbound prefixes, illegal characters), invalid UTF-8.
 * - `restricted-xml` (RFC 6120 §11.1): DOCTYPE, comment, processing instruction (the XML
 *   declaration opening the stream is allowed), entity references other than `&lt;`
 *   `&gt;` `&amp;` `&quot;` `&apos;` (character references are allowed). `<!DOCTYPE`,
 *   `<!--` and `<?` are refused at their first characters; no entity is ever expanded.
 * - `invalid-namespace`: the root is not `stream` in `http://etherx.jabber.org/streams`.
 * - `bad-format`: non-whitespace character data between top-level elements.
 * - `policy-violation`: nesting deeper than `maxDepth`, or more than `maxStanzaBytes`.
 *
 * The byte cap is enforced before saxes sees the bytes: input is fed in slices of at
 * most 4 KiB, each trimmed to what the budget still allows, where the budget is
 * `maxStanzaBytes` minus the bytes fed since the last boundary (stream header read,
 * top-level element started or ended). A boundary inside a slice resets the count to 0,
 * which forgets the rest of that slice, so an element can exceed the cap by less than
 * one slice (4 KiB) before it is refused; memory held is therefore bounded by
 * `maxStanzaBytes + 4 KiB` per stream. Parsing is linear in the input (saxes keeps
 * partial tokens and nothing here re-concatenates buffers).
 *
 * A completed element is delivered when saxes has confirmed its end tag matches (just
 * before the next event, or at the end of the slice), so `<a></b>` never delivers `a`.
 * `write()` never throws for any input; an exception thrown by a handler propagates out
 * of `write()` and leaves the parser dead. Handlers must not call `write()`.
 */
export class StreamParser {
  private readonly handlers: StreamParserHandlers;
  private readonly maxDepth: number;
  private maxStanzaBytes: number;
  private phase: Phase = 'prolog';
  private sax: SaxesParser<{ xmlns: true }>;
  private decoder = new TextDecoder('utf-8', { fatal: true });
  private guard = new MarkupGuard();
  private builder = new ElementBuilder();
  /** Bytes fed since the last boundary. */
  private counted = 0;
  /** Delivery held back until saxes has checked the end tag that completed it. */
  private pending: (() => void) | undefined;

  /** @throws RangeError if a limit is not a positive integer. */
  constructor(handlers: StreamParserHandlers, limits: StreamParserLimits) {
    this.handlers = handlers;
    this.maxDepth = positiveInteger('maxDepth', limits.maxDepth);
    this.maxStanzaBytes = positiveInteger('maxStanzaBytes', limits.maxStanzaBytes);
    this.sax = this.createSax();
  }

  /**
   * Feeds bytes from the socket (a string is encoded as UTF-8). Handlers run
   * synchronously. Ignored once the stream has ended or failed.
   */
  write(chunk: Buffer | string): void {
    if (!this.alive()) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const sax = this.sax;
    let offset = 0;
    while (offset < bytes.length) {
      // A handler may have called restart(): the rest of this chunk belongs to the old
      // stream and is dropped (it must not leak into a stream negotiated after STARTTLS).
      if (sax !== this.sax || !this.alive()) return;
      const budget = this.maxStanzaBytes - this.counted;
      if (budget <= 0) {
        this.fail('policy-violation', `more than ${this.maxStanzaBytes} bytes without a complete element`);
        return;
      }
      const end = offset + Math.min(SLICE_BYTES, bytes.length - offset, budget);
      this.counted += end - offset;
      let text: string;
      try {
        text = this.decoder.decode(bytes.subarray(offset, end), { stream: true });
      } catch {
        this.fail('not-well-formed', 'invalid UTF-8');
        return;
      }
      offset = end;
      this.feed(text);
    }
  }

  /**
   * Starts over with a new stream (RFC 6120 §4.3.3, after STARTTLS and SASL success): the
   * next bytes must be an optional XML declaration and a new `<stream:stream>`. Bytes
   * still unparsed from the current `write()` are discarded. No effect once the stream
   * has ended or failed.
   */
  restart(): void {
    if (!this.alive()) return;
    this.phase = 'prolog';
    this.decoder = new TextDecoder('utf-8', { fatal: true });
    this.guard = new MarkupGuard();
    this.builder = new ElementBuilder();
    this.counted = 0;
    this.pending = undefined;
    this.sax = this.createSax();
  }

  /**
   * Changes the byte cap (e.g. a few KiB before authentication, 256 KiB after); applies
   * from the next slice fed.
   * @throws RangeError if `bytes` is not a positive integer.
   */
  setMaxStanzaBytes(bytes: number): void {
    this.maxStanzaBytes = positiveInteger('maxStanzaBytes', bytes);
  }

  private alive(): boolean {
    return this.phase === 'prolog' || this.phase === 'open';
  }

  /** Passes decoded text to saxes, stopping at restricted markup. */
  private feed(text: string): void {
    if (text === '') return;
    const sax = this.sax;
    const restricted = this.guard.scan(text);
    const input = restricted === undefined ? text : text.slice(0, restricted.index);
    if (input !== '') {
      try {
        sax.write(input);
      } catch (err) {
        this.phase = 'failed';
        throw err;
      }
      if (sax === this.sax && this.alive()) this.flush();
    }
    if (restricted !== undefined && sax === this.sax) {
      this.fail('restricted-xml', `${restricted.what} is not allowed`);
    }
  }

  private flush(): void {
    const deliver = this.pending;
    this.pending = undefined;
    deliver?.();
  }

  private fail(condition: XmlErrorCondition, message: string): void {
    if (!this.alive()) return;
    this.phase = 'failed';
    this.pending = undefined;
    this.handlers.onError(new XmlError(condition, message));
  }

  private createSax(): SaxesParser<{ xmlns: true }> {
    const sax = new SaxesParser({ xmlns: true });
    // Handlers assigned by name, not through sax.on(): see SaxHandlerSlots.
    const slots = sax as unknown as SaxHandlerSlots;
    // Every event first delivers the element completed before it, then is ignored if
    // that delivery restarted or ended the stream.
    const live = (): boolean => {
      if (sax !== this.sax || !this.alive()) return false;
      this.flush();
      return sax === this.sax && this.alive();
    };

    slots.errorHandler = (err) => {
      if (sax !== this.sax || !this.alive()) return;
      // The element whose end tag did not match is dropped, not delivered.
      if (isMismatchedCloseTag(err)) this.pending = undefined;
      else if (!live()) return;
      this.fail(saxesErrorCondition(err), err.message);
    };
    slots.doctypeHandler = () => {
      if (live()) this.fail('restricted-xml', 'DOCTYPE is not allowed');
    };
    slots.commentHandler = () => {
      if (live()) this.fail('restricted-xml', 'comment is not allowed');
    };
    slots.piHandler = () => {
      if (live()) this.fail('restricted-xml', 'processing instruction is not allowed');
    };

    slots.openTagStartHandler = () => {
      if (!live() || this.phase !== 'open') return;
      if (this.builder.depth === 0) this.counted = 0;
      if (this.builder.depth >= this.maxDepth) {
        this.fail('policy-violation', `elements nested deeper than ${this.maxDepth}`);
      }
    };
    slots.openTagHandler = (tag) => {
      if (!live()) return;
      if (this.phase === 'open') {
        this.builder.open(tag);
        return;
      }
      if (tag.local !== 'stream' || tag.uri !== NS.STREAM) {
        this.fail('invalid-namespace', `root must be stream in ${NS.STREAM}, got {${tag.uri}}${tag.local}`);
        return;
      }
      this.phase = 'open';
      this.counted = 0;
      // Null prototype: the client's attribute names (`__proto__`, `constructor`) index it.
      const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const attr of Object.values(tag.attributes)) {
        if (attr.name !== 'xmlns' && attr.prefix !== 'xmlns') attrs[attr.name] = attr.value;
      }
      // saxes keeps the root tag (on its stack) for the whole stream but never reads its
      // attributes again (its namespace bindings, `tag.ns`, stay): about 600 bytes per stream
      // given back (issue #15).
      tag.attributes = NO_ATTRIBUTES;
      this.handlers.onStreamStart({ attrs, defaultNs: tag.ns[''] || undefined });
    };
    slots.closeTagHandler = (tag) => {
      // saxes keeps the last tag it closed (the end of the last stanza, on an idle stream)
      // but never reads its attributes again: the builder has copied them (issue #15).
      tag.attributes = NO_ATTRIBUTES;
      if (!live()) return;
      if (this.builder.depth === 0) {
        this.pending = () => {
          this.phase = 'ended';
          this.handlers.onStreamEnd();
        };
        return;
      }
      const el = this.builder.close();
      if (el !== undefined) {
        this.counted = 0;
        this.pending = () => this.handlers.onElement(el);
      }
    };
    const onText = (text: string): void => {
      if (!live()) return;
      if (this.builder.depth > 0) this.builder.text(text);
      else if (this.phase === 'open' && !WHITESPACE.test(text)) {
        this.fail('bad-format', 'character data between top-level elements');
      }
    };
    slots.textHandler = onText;
    slots.cdataHandler = onText;
    return sax;
  }
}

type SaxOptions = { xmlns: true };

/** The attributes left on a stream's root tag once its header is handled: none (shared, frozen). */
const NO_ATTRIBUTES: Record<string, SaxesAttributeNS> = Object.freeze(Object.create(null) as Record<string, SaxesAttributeNS>);

/**
 * The properties under which saxes 6 keeps its event handlers (its `EVENT_NAME_TO_HANDLER_NAME`:
 * `on('text', h)` stores `h` as `textHandler`). The stream parser assigns them by name instead
 * of calling `on()`: `on()` stores them under a computed key, and V8 turns an object that
 * receives more than about a dozen properties through computed-key stores into a
 * dictionary-mode object, which makes each stream's parser about twice as big (5.6 KiB
 * instead of 2.9 KiB; issue #15, bench/results/session-memory-2026-12-07.md). Same handlers,
 * same behaviour; `test/sax-handler-slots.test.ts` checks that the names still match saxes.
 */
export interface SaxHandlerSlots {
  errorHandler?: ErrorHandler;
  doctypeHandler?: DoctypeHandler;
  commentHandler?: CommentHandler;
  piHandler?: PIHandler;
  openTagStartHandler?: OpenTagStartHandler<SaxOptions>;
  openTagHandler?: OpenTagHandler<SaxOptions>;
  closeTagHandler?: CloseTagHandler<SaxOptions>;
  textHandler?: TextHandler;
  cdataHandler?: CDataHandler;
}

/** The event name of saxes's `on()` for each slot of {@link SaxHandlerSlots}. */
export const SAX_HANDLER_SLOTS = {
  errorHandler: 'error',
  doctypeHandler: 'doctype',
  commentHandler: 'comment',
  piHandler: 'processinginstruction',
  openTagStartHandler: 'opentagstart',
  openTagHandler: 'opentag',
  closeTagHandler: 'closetag',
  textHandler: 'text',
  cdataHandler: 'cdata',
} as const satisfies Record<keyof SaxHandlerSlots, string>;

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}
