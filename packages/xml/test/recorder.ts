// Test helper: a StreamParser whose callbacks are recorded as a list of plain events.
import type { Element } from 'ltx';
import { StreamParser, type StreamHeader, type StreamParserLimits, type XmlErrorCondition } from '@parley/xml';

export const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0' xml:lang='en'>";

export type RecordedEvent =
  | { type: 'start'; header: StreamHeader }
  | { type: 'element'; xml: string }
  | { type: 'end' }
  | { type: 'error'; condition: XmlErrorCondition };

export interface Recorder {
  parser: StreamParser;
  events: RecordedEvent[];
  elements: Element[];
  /** Error conditions reported so far. */
  errors(): XmlErrorCondition[];
}

export function record(
  limits: Partial<StreamParserLimits> = {},
  onElement?: (el: Element, parser: StreamParser) => void,
): Recorder {
  const events: RecordedEvent[] = [];
  const elements: Element[] = [];
  const parser: StreamParser = new StreamParser(
    {
      onStreamStart: (header) => events.push({ type: 'start', header }),
      onElement: (el) => {
        events.push({ type: 'element', xml: el.toString() });
        elements.push(el);
        onElement?.(el, parser);
      },
      onStreamEnd: () => events.push({ type: 'end' }),
      onError: (err) => events.push({ type: 'error', condition: err.condition }),
    },
    { maxStanzaBytes: 65536, maxDepth: 16, ...limits },
  );
  const errors = (): XmlErrorCondition[] =>
    events.flatMap((e) => (e.type === 'error' ? [e.condition] : []));
  return { parser, events, elements, errors };
}

/** Writes `data` (as UTF-8) in chunks of `size` bytes. */
export function writeInChunks(parser: StreamParser, data: string | Buffer, size: number): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let i = 0; i < bytes.length; i += size) parser.write(bytes.subarray(i, i + size));
}
