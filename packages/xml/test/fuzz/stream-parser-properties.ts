// Properties of @parley/xml's StreamParser and parseElement under generated input (issue #10
// item 9). Run briefly by fuzz-stream-parser.test.ts (fixed seed) and at length by
// bench/fuzz.ts. Invariants: write() never throws; a refusal is one XmlError with an RFC 6120
// §4.9.3 condition and nothing is reported after it or after the end; valid streams give
// back exactly the elements written, whatever the chunking; each restricted or malformed
// construct gets its condition; depth and size caps give policy-violation.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import type { Element } from 'ltx';
import { parseElement, serialize, StreamParser, XmlError, type XmlErrorCondition } from '@parley/xml';
import {
  BAD_CONSTRUCTS,
  canon,
  chunk,
  CLIENT_NS,
  expectedElement,
  genChunking,
  genElement,
  genHeader,
  genMutations,
  genStream,
  genStyle,
  genTopLevel,
  type GenElement,
  mutate,
  splitAfterStartTag,
  writeElement,
  writeStream,
} from './xml-grammar.js';

/** A named property, run by the test with few inputs and by the benchmark with many. */
export interface FuzzProperty {
  name: string;
  property: fc.IRawProperty<unknown>;
}

const CONDITIONS: ReadonlySet<XmlErrorCondition> = new Set(['not-well-formed', 'restricted-xml', 'policy-violation', 'invalid-namespace', 'bad-format']);

export const LIMITS = { maxStanzaBytes: 65536, maxDepth: 16 };

/** What a parser reported: 'start', 'el <canon>', 'end', 'error <condition>'. */
export function runParser(chunks: readonly Buffer[], limits = LIMITS): { events: string[]; elements: Element[] } {
  const events: string[] = [];
  const elements: Element[] = [];
  let finished = false;
  const after = (what: string) => {
    if (finished) throw new Error(`${what} reported after the stream ended or failed: ${events.join(' | ')}`);
  };
  const parser = new StreamParser(
    {
      onStreamStart: () => {
        after('stream start');
        if (events.includes('start')) throw new Error('a second stream start without restart()');
        events.push('start');
      },
      onElement: (el) => {
        after('element');
        elements.push(el);
        events.push(`el ${canon(el)}`);
      },
      onStreamEnd: () => {
        after('stream end');
        finished = true;
        events.push('end');
      },
      onError: (err) => {
        after('error');
        finished = true;
        if (!(err instanceof XmlError)) throw new Error(`onError got ${String(err)}`);
        if (!CONDITIONS.has(err.condition)) throw new Error(`unknown condition ${err.condition}`);
        events.push(`error ${err.condition}`);
      },
    },
    limits,
  );
  for (const c of chunks) parser.write(c); // must never throw: a throw fails the property
  return { events, elements };
}

/**
 * Known and accepted: when a 4 KiB slice holds invalid UTF-8, the whole slice fails to
 * decode, so what came before the bad bytes in that slice (the stream header, complete
 * elements) is not reported, while the same bytes in smaller chunks report it. The outcome
 * (`not-well-formed`, nothing after it) is the same. So for input with invalid UTF-8,
 * `actual` may miss events right before the final error; otherwise it must equal `expected`.
 */
export function assertOutcome(actual: string[], expected: string[], bytes: Buffer, what?: string): void {
  if (isUtf8(bytes) || expected.at(-1) !== 'error not-well-formed' || actual.at(-1) !== 'error not-well-formed') {
    assert.deepEqual(actual, expected, what);
    return;
  }
  const kept = actual.slice(0, -1);
  assert.deepEqual(kept, expected.slice(0, kept.length), what);
}

const REFUSED_MARKUP = new Set(['error restricted-xml', 'error not-well-formed']);

/**
 * {@link assertOutcome} for the same bytes in two chunkings. Also accepted: input that is
 * both malformed and restricted right there (`<<!--`) may get `not-well-formed` in one
 * chunking and `restricted-xml` in the other (the restricted-markup guard looks ahead of
 * saxes, which sees a token only when its next character arrives); both refuse the stream
 * at the same point.
 */
function assertSameOutcome(a: string[], b: string[], bytes: Buffer): void {
  const lastA = a.at(-1) ?? '';
  const lastB = b.at(-1) ?? '';
  if (!isUtf8(bytes) && lastA.startsWith('error') && lastB.startsWith('error') && (lastA === 'error not-well-formed' || lastB === 'error not-well-formed')) {
    // The run whose 4 KiB slice held the invalid UTF-8 stopped there and may have reported
    // less (see assertOutcome); the other may have reached another refusal first.
    const [short, long] = a.length <= b.length ? [a, b] : [b, a];
    assert.deepEqual(short.slice(0, -1), long.slice(0, short.length - 1));
    return;
  }
  if (lastA !== lastB && REFUSED_MARKUP.has(lastA) && REFUSED_MARKUP.has(lastB)) {
    assert.deepEqual(a.slice(0, -1), b.slice(0, -1));
    return;
  }
  assert.deepEqual(a, b);
}

function bytesOf(parts: ReadonlyArray<string | Buffer>): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
}

/** Whether `el` holds a tab, CR or LF in an attribute value or a CR in text (see {@link serializeAttrWhitespaceProperty}). */
export function hasAttrWhitespace(el: GenElement): boolean {
  return el.attrs.some(([, v]) => /[\t\n\r]/.test(v)) || el.children.some((c) => ('value' in c ? c.value.includes('\r') : hasAttrWhitespace(c)));
}

/**
 * Found by this fuzzer (2026-12-06) and fixed since: `serialize` used to write tab, CR and LF
 * in attribute values and CR in text raw, and XML normalisation (XML 1.0 §3.3.3 attribute
 * values, §2.11 line ends) changed them on the other side: an attribute a client sent as
 * `&#9;` reached the recipient as ' ', a text `&#13;` as a line feed. `serialize` now writes
 * them as `&#9;`, `&#10;`, `&#13;`; this property keeps it so.
 */
export const serializeAttrWhitespaceProperty: FuzzProperty = {
  name: 'attribute values with tab/CR/LF and text with CR survive serialize and parse',
  // As in the round trip below, a top-level element in no namespace (`xmlns=''`) is not a stanza: left out.
  property: fc.property(genTopLevel.filter((el) => hasAttrWhitespace(el) && el.ns !== ''), genStyle, (el, style) => {
    const parsed = parseElement(writeElement(el, style), { defaultNs: CLIENT_NS });
    assert.equal(canon(parseElement(serialize(parsed), { defaultNs: CLIENT_NS })), canon(parsed));
  }),
};

export function streamParserProperties(): FuzzProperty[] {
  return [
    {
      name: 'a valid stream in any chunking gives back exactly the elements written, then the end',
      property: fc.property(genStream, genChunking, (s, sizes) => {
        const { events } = runParser(chunk(Buffer.from(writeStream(s), 'utf8'), sizes));
        const expected = ['start', ...s.items.map((i) => `el ${canon(expectedElement(i.el))}`), ...(s.footer ? ['end'] : [])];
        assert.deepEqual(events, expected);
      }),
    },
    {
      name: 'a parsed element serialises to text that parses to the same element (serialize round trip; no tab/CR/LF in attribute values, no CR in text)',
      // A top-level element in no namespace (`xmlns=''`) is written without `xmlns` and read back in the default one: not a stanza, left out.
      property: fc.property(genTopLevel.filter((el) => !hasAttrWhitespace(el) && el.ns !== ''), genStyle, (el, style) => {
        const parsed = parseElement(writeElement(el, style), { defaultNs: CLIENT_NS });
        assert.equal(canon(parsed), canon(expectedElement(el)));
        const again = parseElement(serialize(parsed), { defaultNs: CLIENT_NS });
        assert.equal(canon(again), canon(parsed));
        const omitted = parseElement(serialize(parsed, { omitXmlnsOf: CLIENT_NS }), { defaultNs: CLIENT_NS });
        assert.equal(canon(omitted), canon(parsed));
      }),
    },
    {
      name: 'mutated input: never throws, one refusal at most, nothing after it, and the chunking does not change the outcome',
      property: fc.property(genStream, genMutations, genChunking, (s, mutations, sizes) => {
        const bytes = mutate(Buffer.from(writeStream(s), 'utf8'), mutations);
        const whole = runParser([bytes]);
        const cut = runParser(chunk(bytes, sizes));
        // Smaller chunks can only report more before an invalid UTF-8 refusal (assertOutcome).
        assertSameOutcome(whole.events, cut.events, bytes);
        // Whatever was delivered is a normalised element that parses back the same.
        for (const el of whole.elements) assert.equal(canon(parseElement(serialize(el))), canon(el));
      }),
    },
    {
      name: 'parseElement on mutated input returns an element or throws XmlError, nothing else',
      property: fc.property(genTopLevel, genStyle, genMutations, (el, style, mutations) => {
        const text = mutate(Buffer.from(writeElement(el, style), 'utf8'), mutations).toString('utf8');
        try {
          parseElement(text, { defaultNs: CLIENT_NS });
        } catch (err) {
          if (!(err instanceof XmlError)) throw new Error(`parseElement threw ${String(err)}`);
          assert.ok(CONDITIONS.has(err.condition));
        }
      }),
    },
    {
      name: 'each restricted or malformed construct gets its stream error condition; the elements before it are delivered, none after',
      property: fc.property(
        genHeader,
        fc.array(fc.record({ el: genTopLevel, style: genStyle }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.constantFrom(...BAD_CONSTRUCTS),
        genChunking,
        (header, items, pick, bad, sizes) => {
          const k = pick % items.length;
          const parts: Array<string | Buffer> = [header];
          items.forEach((item, i) => {
            if (i === k && bad.where === 'between') parts.push(bad.text);
            if (i === k && bad.where === 'inside') {
              const [open, rest] = splitAfterStartTag(item.el, item.style);
              parts.push(open, bad.text, rest);
            } else parts.push(writeElement(item.el, item.style));
          });
          const bytes = bytesOf(parts);
          const { events } = runParser(chunk(bytes, sizes));
          const expected = ['start', ...items.slice(0, k).map((i) => `el ${canon(expectedElement(i.el))}`), `error ${bad.condition}`];
          assertOutcome(events, expected, bytes, bad.what);
        },
      ),
    },
    {
      name: 'nesting deeper than maxDepth gets policy-violation; exactly maxDepth is delivered',
      property: fc.property(fc.integer({ min: 1, max: 64 }), fc.boolean(), genChunking, (depth, closed, sizes) => {
        const open = Array.from({ length: depth }, (_, i) => `<d${i}>`).join('');
        const close = closed ? Array.from({ length: depth }, (_, i) => `</d${depth - 1 - i}>`).join('') : '';
        const { events } = runParser(chunk(Buffer.from(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>${open}${close}`), sizes));
        if (depth > LIMITS.maxDepth) assert.deepEqual(events, ['start', 'error policy-violation']);
        else assert.deepEqual(events.length, closed ? 2 : 1);
      }),
    },
    {
      name: 'an element over maxStanzaBytes (+ one 4 KiB slice) gets policy-violation and is not delivered',
      property: fc.property(
        fc.integer({ min: 256, max: 8192 }),
        fc.constantFrom('text', 'attribute', 'name', 'cdata', 'children'),
        genChunking,
        (cap, where, sizes) => {
          const n = cap + 4096 + 1;
          const big =
            where === 'text' ? `<m>${'a'.repeat(n)}</m>`
            : where === 'attribute' ? `<m a='${'a'.repeat(n)}'/>`
            : where === 'name' ? `<m${'a'.repeat(n)}/>`
            : where === 'cdata' ? `<m><![CDATA[${'a'.repeat(n)}]]></m>`
            : `<m>${'<c/>'.repeat(Math.ceil(n / 4))}</m>`;
          const { events } = runParser(chunk(Buffer.from(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><ok/>${big}`), sizes), {
            maxStanzaBytes: cap,
            maxDepth: 16,
          });
          assert.deepEqual(events, ['start', `el ${canon(expectedElement({ name: 'ok', ns: undefined, attrs: [], children: [] }))}`, 'error policy-violation']);
        },
      ),
    },
    {
      name: 'a root other than stream:stream gets invalid-namespace',
      property: fc.property(genElement(2), genChunking, (el, sizes) => {
        const { events } = runParser(chunk(Buffer.from(writeElement(el), 'utf8'), sizes));
        assert.deepEqual(events, ['error invalid-namespace']);
      }),
    },
  ];
}
