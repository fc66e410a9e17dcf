// Theme formation on memories added in bulk (an import, `addMany`): every one
// arrives at the same moment, so "mentioned together" says nothing, and a big
// theme's wide vocabulary or mean vector must not absorb the rest.
import { describe, expect, it } from 'vitest';
import { ThemeIndex, DEFAULT_THEMES, type Theme } from '../../src/scheduler/themes';
import { everydayMemories, type EverydayKind } from '../support/everyday-memories';

const AT = Date.UTC(2026, 10, 1);

/** The share of memories in their theme's majority kind, and the largest theme's share. */
function quality(index: ThemeIndex, kinds: Map<string, EverydayKind>): { purity: number; largest: number } {
  let pure = 0;
  let largest = 0;
  for (const theme of index.all()) {
    const counts = new Map<EverydayKind, number>();
    for (const id of theme.members) counts.set(kinds.get(id)!, (counts.get(kinds.get(id)!) ?? 0) + 1);
    pure += Math.max(...counts.values());
    largest = Math.max(largest, theme.members.size);
  }
  return { purity: pure / kinds.size, largest: largest / kinds.size };
}

/**
 * A test double of sentence embeddings: a direction every vector shares (the
 * anisotropy of real sentence encoders, whose unrelated sentences sit at cosine
 * 0.3 to 0.6), plus a direction per kind, plus seeded noise. It cannot show
 * meaning; it shows what a shared direction does to a theme's mean.
 */
function anisotropicVectors(kinds: readonly EverydayKind[], dim = 32): Float32Array[] {
  let seed = 11;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.5;
  const order = [...new Set(kinds)];
  return kinds.map((kind) => Float32Array.from({ length: dim }, (_, i) => (i === 0 ? 1 : 0) + (i === 1 + order.indexOf(kind) ? 0.35 : 0) + noise() * 0.6));
}

describe('themes of memories added in bulk', () => {
  const memories = everydayMemories(300);
  const kinds = new Map(memories.map((m, i) => [`m${i}`, m.kind]));

  it('keep everyday kinds apart, with no theme taking over', () => {
    const index = new ThemeIndex();
    memories.forEach((m, i) => index.assign({ id: `m${i}`, text: m.text, at: AT }));
    const { purity, largest } = quality(index, kinds);
    expect(largest).toBeLessThanOrEqual(0.3);
    expect(purity).toBeGreaterThanOrEqual(0.75);
  });

  it('keep them apart when embeddings share a common direction', () => {
    const index = new ThemeIndex({ ...DEFAULT_THEMES, semantic: true });
    const vectors = anisotropicVectors(memories.map((m) => m.kind));
    memories.forEach((m, i) => index.assign({ id: `m${i}`, text: m.text, at: AT, vector: vectors[i]! }));
    const { purity, largest } = quality(index, kinds);
    expect(largest).toBeLessThanOrEqual(0.3);
    expect(purity).toBeGreaterThanOrEqual(0.75);
  });

  it('label themes with words a person would use: no filler, numbers or fragments', () => {
    const index = new ThemeIndex();
    memories.forEach((m, i) => index.assign({ id: `m${i}`, text: m.text, at: AT }));
    const gym = memories.findIndex((m) => m.text.startsWith('The gym bill is'));
    expect(index.label(index.of(`m${gym}`)!).split(' ')).toContain('bill');
    const words = index.all().flatMap((t: Theme) => index.label(t).split(' '));
    for (const filler of ['along', 'new', 'wants', 'want', 'trying', 'next', 'get', 'o']) expect(words).not.toContain(filler);
    for (const w of words) expect(w).toMatch(/^[a-z][a-z']{2,}$/);
  });
});
