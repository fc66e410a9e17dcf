// The tokenize memo: only unseen texts reach the tokenizer, in one call; results
// are copies; the least recently used texts are forgotten first.
import { describe, expect, test } from 'vitest';
import { InvalidInputError } from '../../src/errors';
import { memoizeTokenize } from '../../src/engine/token-memo';

function counting() {
  const calls: string[][] = [];
  const tokenize = (texts: readonly string[]) => {
    calls.push([...texts]);
    return texts.map((t) => [...t].map((c) => c.charCodeAt(0)));
  };
  return { calls, tokenize };
}

describe('memoizeTokenize', () => {
  test('asks only for unseen texts, once each, in one call', async () => {
    const { calls, tokenize } = counting();
    const memo = memoizeTokenize(tokenize);
    expect(await memo(['ab', 'c'])).toEqual([[97, 98], [99]]);
    expect(await memo(['ab', 'c', 'd', 'd', 'ab'])).toEqual([[97, 98], [99], [100], [100], [97, 98]]);
    expect(calls).toEqual([['ab', 'c'], ['d']]);
  });

  test('returns copies', async () => {
    const memo = memoizeTokenize(counting().tokenize);
    (await memo(['a']))[0]!.push(1);
    expect(await memo(['a'])).toEqual([[97]]);
  });

  test('forgets the least recently used beyond maxEntries, even within one call', async () => {
    const { calls, tokenize } = counting();
    const memo = memoizeTokenize(tokenize, { maxEntries: 2 });
    expect(await memo(['a', 'b', 'c'])).toEqual([[97], [98], [99]]);
    await memo(['b', 'c']);
    await memo(['a']);
    expect(calls).toEqual([['a', 'b', 'c'], ['a']]);
    expect(() => memoizeTokenize(tokenize, { maxEntries: 0 })).toThrow(InvalidInputError);
  });

  test('a tokenizer that returns the wrong count is an error', async () => {
    const memo = memoizeTokenize(() => [[1]]);
    await expect(memo(['a', 'b'])).rejects.toThrow(/returned 1 results for 2 texts/);
  });
});
