// Splits text into the terms lexical search indexes: lowercased, accents
// folded, English stopwords dropped, light suffix stemming, and each CJK
// character a term of its own.

const STOPWORDS = new Set(
  ('a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other ' +
    'our ours ourselves out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours yourself yourselves s t d ll m re ve')
    .split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const MARKS = /\p{M}+/gu;

const VOWEL = /[aeiouy]/;

/**
 * A light English stemmer: plurals, -ing, -ed, -ly and a final -e, so that
 * "housing", "houses" and "house" meet at "hous". Short words are left alone.
 */
export function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  let w = word;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  for (const suffix of ['ing', 'ed', 'ly']) {
    const base = w.slice(0, -suffix.length);
    if (w.endsWith(suffix) && base.length >= 3 && VOWEL.test(base)) {
      w = /([b-df-hj-np-tv-z])\1$/.test(base) && !/(ll|ss|zz)$/.test(base) ? base.slice(0, -1) : base;
      break;
    }
  }
  if (w.endsWith('e') && w.length > 3) w = w.slice(0, -1);
  return w;
}

/** Each term with the word it came from (folded, unstemmed), e.g. for readable labels. */
export function tokenizeWords(text: string): { term: string; word: string }[] {
  const out: { term: string; word: string }[] = [];
  const folded = text.normalize('NFKD').replace(MARKS, '').toLowerCase();
  for (const match of folded.matchAll(WORD)) {
    const word = match[0];
    if (CJK.test(word)) {
      for (const ch of word) out.push({ term: ch, word: ch });
    } else if (!STOPWORDS.has(word)) {
      out.push({ term: stem(word), word });
    }
  }
  return out;
}

export function tokenize(text: string): string[] {
  return tokenizeWords(text).map((t) => t.term);
}
