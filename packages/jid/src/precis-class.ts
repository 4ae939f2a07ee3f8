// PRECIS string classes, RFC 8264 §4.2 (IdentifierClass) and §4.3 (FreeformClass), with
// the derived-property order of RFC 8264 §8, the exceptions of RFC 5892 §2.6 and the
// contextual rules of RFC 5892 Appendix A.
//
// Node ships no PRECIS tables, so each category of RFC 8264 §9 is computed from what the
// JavaScript engine knows about Unicode (ICU): General_Category, Script,
// Default_Ignorable_Code_Point and Noncharacter_Code_Point through `\p{…}` regular
// expressions, HasCompat through `String#normalize('NFKC')`, and the canonical combining
// class of a virama through canonical reordering (see `isVirama`). Approximations:
// - CONTEXTJ for ZERO WIDTH NON-JOINER only implements the virama rule (RFC 5892 A.1,
//   first clause); the Arabic joining-type clause needs Joining_Type data the engine does
//   not expose, so a ZWNJ between Arabic letters is rejected.
// - BackwardCompatible (RFC 8264 §9.7) is empty today, so it is not consulted.

/** Which PRECIS base class a profile builds on. */
export type PrecisClass = 'identifier' | 'freeform';

const ASCII7 = /^[\x21-\x7E]$/;
const LETTER_DIGITS = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
const OTHER_LETTER_DIGITS = /^[\p{Lt}\p{Nl}\p{No}\p{Me}]$/u;
const SPACES = /^\p{Zs}$/u;
const SYMBOLS = /^[\p{Sm}\p{Sc}\p{Sk}\p{So}]$/u;
const PUNCTUATION = /^\p{P}$/u;
const UNASSIGNED = /^\p{Cn}$/u;
const CONTROLS = /^\p{Cc}$/u;
const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]$/u;
// Hangul_Syllable_Type L, V or T (conjoining jamo), RFC 8264 §9.9.
const OLD_HANGUL_JAMO = /^[\u1100-\u11FF\uA960-\uA97F\uD7B0-\uD7FF]$/;
const GREEK = /^\p{Script=Greek}$/u;
const HEBREW = /^\p{Script=Hebrew}$/u;
const HIRAGANA_KATAKANA_HAN = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;

// RFC 5892 §2.6.
const EXCEPTIONS_PVALID = new Set([0x00df, 0x03c2, 0x06fd, 0x06fe, 0x0f0b, 0x3007]);
const EXCEPTIONS_DISALLOWED = new Set([0x0640, 0x07fa, 0x302e, 0x302f, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303b]);
const CONTEXTO = /^[\u00B7\u0375\u05F3\u05F4\u30FB\u0660-\u0669\u06F0-\u06F9]$/;
const ZWNJ = 0x200c;
const ZWJ = 0x200d;

type Status = 'valid' | 'contextj' | 'contexto' | 'disallowed';

function status(ch: string, cp: number, cls: PrecisClass): Status {
  const freeform = cls === 'freeform';
  if (EXCEPTIONS_PVALID.has(cp)) return 'valid';
  if (EXCEPTIONS_DISALLOWED.has(cp)) return 'disallowed';
  if (CONTEXTO.test(ch)) return 'contexto';
  if (UNASSIGNED.test(ch)) return 'disallowed';
  if (ASCII7.test(ch)) return 'valid';
  if (cp === ZWNJ || cp === ZWJ) return 'contextj';
  if (OLD_HANGUL_JAMO.test(ch)) return 'disallowed';
  if (IGNORABLE.test(ch)) return 'disallowed';
  if (CONTROLS.test(ch)) return 'disallowed';
  if (ch.normalize('NFKC') !== ch) return freeform ? 'valid' : 'disallowed'; // HasCompat
  if (LETTER_DIGITS.test(ch)) return 'valid';
  if (OTHER_LETTER_DIGITS.test(ch)) return freeform ? 'valid' : 'disallowed';
  if (SPACES.test(ch) || SYMBOLS.test(ch) || PUNCTUATION.test(ch)) return freeform ? 'valid' : 'disallowed';
  return 'disallowed'; // Cf (not ignorable), Co, Cs, Zl, Zp
}

/**
 * Whether `mark` has Canonical_Combining_Class 9 (Virama). Canonical reordering (UAX #15)
 * sorts adjacent non-starters by combining class, so the class can be read off how NFD
 * orders `mark` against U+0334 (class 1) and U+094D DEVANAGARI SIGN VIRAMA (class 9).
 */
function isVirama(mark: string): boolean {
  if (mark.normalize('NFD') !== mark) return false;
  const stays = (s: string): boolean => s.normalize('NFD') === s;
  return !stays(`a${mark}\u0334`) && stays(`a${mark}\u094D`) && stays(`a\u094D${mark}`);
}

function contextHolds(cps: readonly string[], i: number, cp: number): boolean {
  const before = cps[i - 1];
  const after = cps[i + 1];
  if (cp === ZWNJ || cp === ZWJ) return before !== undefined && isVirama(before); // A.1, A.2
  if (cp === 0x00b7) return before === 'l' && after === 'l'; // A.3
  if (cp === 0x0375) return after !== undefined && GREEK.test(after); // A.4
  if (cp === 0x05f3 || cp === 0x05f4) return before !== undefined && HEBREW.test(before); // A.5, A.6
  if (cp === 0x30fb) return cps.some((c) => HIRAGANA_KATAKANA_HAN.test(c)); // A.7
  if (cp >= 0x0660 && cp <= 0x0669) return !cps.some((c) => c >= '\u06F0' && c <= '\u06F9'); // A.8
  return !cps.some((c) => c >= '\u0660' && c <= '\u0669'); // A.9: U+06F0..U+06F9
}

/**
 * Finds the first code point of `s` that the PRECIS class `cls` does not allow.
 *
 * @param contextual - also apply the CONTEXTJ/CONTEXTO rules (RFC 5892 Appendix A); when
 *   false such code points pass, so the rules can be checked after mapping instead.
 * @returns the offending code point as a string, or undefined when every code point is
 *   allowed.
 */
export function findDisallowed(s: string, cls: PrecisClass, contextual: boolean): string | undefined {
  if ((cls === 'identifier' ? /^[\x21-\x7E]*$/ : /^[\x20-\x7E]*$/).test(s)) return undefined;
  const cps = [...s];
  for (let i = 0; i < cps.length; i++) {
    const ch = cps[i]!;
    const cp = ch.codePointAt(0)!;
    const st = status(ch, cp, cls);
    if (st === 'valid') continue;
    if (st === 'disallowed') return ch;
    if (contextual && !contextHolds(cps, i, cp)) return ch;
  }
  return undefined;
}
