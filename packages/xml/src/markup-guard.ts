// RFC 6120 §11.1: "An XMPP entity MUST NOT accept data that contains any of the following:
// comments, processing instructions, internal or external DTD subsets, internal or
// external entity references (with the exception of the predefined entities)."
//
// saxes reports a DOCTYPE before the root, a comment or a processing instruction only
// when its closing `>` arrives, so an unterminated one would be buffered up to the byte
// cap. This scanner runs over the text before saxes sees it and flags `<!DOCTYPE`
// (`<!D`), `<!--` (`<!-`) and `<?` (other than the XML declaration opening the document)
// at their first characters, so a billion-laughs prologue is refused before its DTD is
// read. It needs only to know whether it is inside a CDATA section: outside one, `<`
// always opens markup (it is not allowed raw in text or attribute values).

const TEXT = 0;
const LT = 1; // after '<'
const BANG = 2; // after '<!'
const CDATA = 3; // inside <![CDATA[ ... (saxes checks the rest of the keyword)
const CDATA_BRACKET = 4; // inside CDATA, after ']'
const CDATA_BRACKETS = 5; // inside CDATA, after ']]'

/** A restricted construct found by {@link MarkupGuard.scan}. */
export interface RestrictedMarkup {
  /** Index in the scanned text (UTF-16 units) where the construct starts; 0 when it began in an earlier chunk. */
  index: number;
  /** What was found, for the error message: 'DOCTYPE', 'comment' or 'processing instruction'. */
  what: string;
}

/**
 * Incremental scanner for restricted markup in one XML document. Linear in the input:
 * it jumps between `<` (or `]` inside CDATA) with `indexOf` and keeps its state across
 * chunks. Create one per document (a stream restart starts a new document).
 */
export class MarkupGuard {
  private state = TEXT;
  /** UTF-16 units scanned in earlier chunks. */
  private consumed = 0;
  /** Absolute offset of the last '<' seen. */
  private ltAt = -1;
  private sawMarkup = false;

  /** Scans the next chunk; returns the first restricted construct in it, if any. */
  scan(text: string): RestrictedMarkup | undefined {
    const n = text.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case TEXT: {
          const j = text.indexOf('<', i);
          if (j < 0) {
            i = n;
          } else {
            this.ltAt = this.consumed + j;
            this.state = LT;
            i = j + 1;
          }
          break;
        }
        case LT: {
          const c = text[i];
          const first = !this.sawMarkup;
          this.sawMarkup = true;
          if (c === '!') {
            this.state = BANG;
            i++;
          } else if (c === '?' && !(first && this.ltAt === 0)) {
            return this.found('processing instruction');
          } else {
            // A tag, or the XML declaration at offset 0 (saxes checks that it is one).
            this.state = TEXT;
          }
          break;
        }
        case BANG: {
          const c = text[i];
          if (c === 'D') return this.found('DOCTYPE');
          if (c === '-') return this.found('comment');
          // '[' opens CDATA; anything else is not well-formed and saxes says so.
          this.state = c === '[' ? CDATA : TEXT;
          i++;
          break;
        }
        case CDATA: {
          const j = text.indexOf(']', i);
          if (j < 0) {
            i = n;
          } else {
            this.state = CDATA_BRACKET;
            i = j + 1;
          }
          break;
        }
        case CDATA_BRACKET:
          if (text[i] === ']') {
            this.state = CDATA_BRACKETS;
            i++;
          } else {
            this.state = CDATA;
          }
          break;
        case CDATA_BRACKETS: {
          const c = text[i];
          if (c === '>') {
            this.state = TEXT;
            i++;
          } else if (c === ']') {
            i++;
          } else {
            this.state = CDATA;
          }
          break;
        }
      }
    }
    this.consumed += n;
    return undefined;
  }

  private found(what: string): RestrictedMarkup {
    return { index: Math.max(0, this.ltAt - this.consumed), what };
  }
}
