// Splits text into the terms lexical search indexes: lowercased, accents
// folded, English stopwords dropped, and each CJK character a term of its own.

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

export function tokenize(text: string): string[] {
  const terms: string[] = [];
  const folded = text.normalize('NFKD').replace(MARKS, '').toLowerCase();
  for (const match of folded.matchAll(WORD)) {
    const word = match[0];
    if (CJK.test(word)) {
      for (const ch of word) terms.push(ch);
    } else if (!STOPWORDS.has(word)) {
      terms.push(word);
    }
  }
  return terms;
}
