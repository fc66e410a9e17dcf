// The heuristic extractor: which sentences of a message are worth keeping as
// memories, and whether one repeats a memory already held. Needs no model.
import { tokenize } from '../search/tokenize';
import { BASE_IMPORTANCE, inferImportance } from './signals';

export interface Extracted {
  text: string;
  importance: number;
  terms: string[];
}

const GREETING = /^(hi|hello|hey|thanks|thank you|ok(ay)?|sure|yes|no|good (morning|night|evening)|bye|see you|lol|haha|great|cool|nice)\b[\s!.,]*$/i;
/** Sentence ends: . ! ? (and CJK ones) followed by space or the end, or a line break. Not the dot in 3.1. */
const SENTENCE_END = /(?<=[.!?])\s+|(?<=[。！？])|\n+/;

/**
 * Sentences that carry something to remember: at least `minTerms` content terms, not small
 * talk, and not a plain question (one that asks without a reminder, date or amount in it).
 */
export function extractSentences(text: string, minTerms = 2): Extracted[] {
  const out: Extracted[] = [];
  for (const part of text.split(SENTENCE_END)) {
    const sentence = part.trim();
    if (sentence === '' || GREETING.test(sentence)) continue;
    const terms = [...new Set(tokenize(sentence))];
    if (terms.length < minTerms) continue;
    const importance = inferImportance(sentence);
    if (/[?？]$/.test(sentence) && importance <= BASE_IMPORTANCE) continue;
    out.push({ text: sentence, importance, terms });
  }
  return out;
}
