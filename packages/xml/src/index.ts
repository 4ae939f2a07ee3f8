// @parley/xml: strict, bounded XMPP XML parsing (RFC 6120 §4, §11; RFC 7395) on ltx elements.
export { NS, type KnownNamespace } from './namespaces.js';
export { XmlError, type XmlErrorCondition } from './xml-error.js';
export {
  StreamParser,
  type StreamHeader,
  type StreamParserHandlers,
  type StreamParserLimits,
} from './stream-parser.js';
export { parseElement, type ParseElementOptions } from './parse-element.js';
export { parseOwnElement } from './parse-own-element.js';
export { serialize, escapeAttrValue, streamHeader, streamFooter, type SerializeOptions } from './serialize.js';
