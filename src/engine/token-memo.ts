// Remembers the token ids of texts already tokenized, so laying out a prompt
// on every keystroke asks the engine (a worker, busy prefilling) only for the
// texts it has not seen: typically just the draft. Misses go in one call.
import { InvalidInputError } from '../errors';
import type { Tokenize } from './layout';

export interface TokenMemoOptions {
  /** Most texts remembered; the least recently used go first. Default 2048. */
  maxEntries?: number;
}

export const TOKEN_MEMO_DEFAULTS = Object.freeze({ maxEntries: 2048 });

/** @throws InvalidInputError when maxEntries is not a positive integer */
export function memoizeTokenize(tokenize: Tokenize, options: TokenMemoOptions = {}): Tokenize {
  const maxEntries = options.maxEntries ?? TOKEN_MEMO_DEFAULTS.maxEntries;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new InvalidInputError('invalid-input', `maxEntries must be a positive integer, got ${maxEntries}`);
  const known = new Map<string, number[]>(); // insertion order = recency

  const remember = (text: string, ids: number[]) => {
    known.delete(text);
    known.set(text, ids);
    if (known.size > maxEntries) known.delete(known.keys().next().value as string);
  };

  return async (texts) => {
    const found = new Map<string, number[]>();
    for (const text of texts) {
      const ids = known.get(text);
      if (ids) found.set(text, ids);
    }
    const missing = [...new Set(texts.filter((t) => !found.has(t)))];
    if (missing.length > 0) {
      const ids = await tokenize(missing);
      if (!Array.isArray(ids) || ids.length !== missing.length) throw new InvalidInputError('invalid-input', `tokenize returned ${ids?.length} results for ${missing.length} texts`);
      missing.forEach((text, i) => found.set(text, ids[i] as number[]));
    }
    for (const [text, ids] of found) remember(text, ids);
    return texts.map((text) => [...(found.get(text) as number[])]);
  };
}
