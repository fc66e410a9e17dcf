// Seeded synthetic memories for benchmarks: short texts drawn from a Zipf
// vocabulary, and random unit vectors (384-d, like MiniLM). Queries are noisy
// copies of stored vectors plus words of their text, so each has a true match.
import { seededRandom } from '../scripts/onnx/random.mjs';

const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'tu', 'sa', 'vo', 'el', 'dar', 'ni', 'po', 'qua', 'ri', 'ste', 'ul', 'xen', 'yo', 'zi', 'bra', 'chu'];

export interface Synthetic {
  texts: string[];
  vectors: Float32Array[];
  queries: { text: string; vector: Float32Array }[];
}

export function unitVector(dim: number, next: () => number): Float32Array {
  const v = new Float32Array(dim);
  let n = 0;
  for (let i = 0; i < dim; i++) {
    // Box-Muller: Gaussian components give uniformly spread directions.
    const g = Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
    v[i] = g;
    n += g * g;
  }
  n = Math.sqrt(n);
  for (let i = 0; i < dim; i++) v[i]! /= n;
  return v;
}

export function synthetic(n: number, options: { dim?: number; queries?: number; seed?: number } = {}): Synthetic {
  const dim = options.dim ?? 384;
  const next = seededRandom(options.seed ?? 42);
  const vocab = Array.from({ length: 5000 }, (_, i) => {
    let w = '';
    for (let x = i + 1; x > 0; x = Math.floor(x / SYLLABLES.length)) w += SYLLABLES[x % SYLLABLES.length];
    return w;
  });
  const zipf = () => vocab[Math.min(vocab.length - 1, Math.floor(Math.exp(next() * Math.log(vocab.length)) - 1))]!;
  const texts = Array.from({ length: n }, () => Array.from({ length: 8 + Math.floor(next() * 8) }, zipf).join(' '));
  const vectors = Array.from({ length: n }, () => unitVector(dim, next));
  const queries = Array.from({ length: options.queries ?? 200 }, () => {
    const target = Math.floor(next() * n);
    const noise = unitVector(dim, next);
    const v = vectors[target]!.map((x, i) => x + 0.5 * noise[i]!);
    const norm = Math.hypot(...v);
    const words = texts[target]!.split(' ');
    return { text: words.slice(0, 3).join(' '), vector: v.map((x) => x / norm) };
  });
  return { texts, vectors, queries };
}

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(samples: number[]): number {
  return percentile(samples, 50);
}
