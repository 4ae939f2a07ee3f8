// Unicode Default Case Folding (The Unicode Standard, ch. 3.13, toCaseFold), the case
// mapping rule of RFC 8264 §5.2.3 used by UsernameCaseMapped (RFC 8265 §3.3.2, step 3).
//
// JavaScript has no case-folding function, and `toLowerCase` alone differs from folding
// (ß stays ß, ς stays ς, µ stays µ). Folding a code point is, with few exceptions, the
// lowercase of its uppercase; taking the lowercase first as well also folds the few
// uppercase letters whose lowercase uppercases to something longer (ẞ → ß → SS → ss).
// The exceptions are spelled out below. Applied one code point at a time so that the
// context-dependent Final_Sigma rule of `toLowerCase` never applies. During development
// this matched CPython's `str.casefold` (full folding) for every code point of Unicode 14.

const ASCII = /^[\x00-\x7F]*$/;

function foldCodePoint(ch: string): string {
  const cp = ch.codePointAt(0)!;
  // U+0131 LATIN SMALL LETTER DOTLESS I has no default folding (its uppercase, I, folds to i).
  if (cp === 0x0131) return ch;
  // Cherokee folds to the uppercase letters, kept for stability (CaseFolding.txt, Unicode 8).
  if ((cp >= 0x13a0 && cp <= 0x13ff) || (cp >= 0xab70 && cp <= 0xabbf)) return ch.toUpperCase();
  return ch.toLowerCase().toUpperCase().toLowerCase();
}

/** Unicode Default Case Folding (full folding, not Turkic) of `s`. */
export function foldCase(s: string): string {
  if (ASCII.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) out += foldCodePoint(ch);
  return out;
}
