// @ts-check
// Seeded pseudo-random numbers for reproducible stand-in weights (mulberry32).

/** @param {number} seed a 32-bit integer */
export function seededRandom(seed) {
  let state = seed >>> 0;
  /** @returns {number} uniform in [0, 1) */
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` values, uniform with mean `mean` and standard deviation `std`.
 * @param {() => number} random @param {number} count @param {number} std
 */
export function uniformWeights(random, count, std, mean = 0) {
  const half = std * Math.sqrt(3);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = mean + (random() * 2 - 1) * half;
  return out;
}
