// A test double for an engine's primitives: a "model" whose next token is a
// hash of everything in its cache, so any wrong cache content changes the
// output. Its capability (popn, checkpoint or reset) decides which primitives
// it offers; misuse throws.
import type { EngineCapabilities, EnginePrimitives, KvTensors, RollbackKind, SnapshotId } from '../../src/engine/types';

export const SIM_VOCAB = 50;

export class SimCache implements EnginePrimitives {
  readonly capabilities: EngineCapabilities;
  tokens: number[] = [];
  /** Tokens fed through the "model", over its life. */
  fed = 0;
  calls = 0;
  private snaps = new Map<SnapshotId, number[]>();
  private nextSnap = 1;
  /** Awaited before each append; tests use it to hold the model mid-call. */
  gate: (() => Promise<void>) | undefined;

  constructor(rollback: RollbackKind, contextLength = 10_000) {
    this.capabilities = { rollback, snapshots: rollback === 'checkpoint', contextLength };
  }

  get length(): number {
    return this.tokens.length;
  }

  async append(tokens: readonly number[], options: { sample: boolean }): Promise<number | undefined> {
    if (tokens.length === 0) throw new Error('append of nothing');
    await this.gate?.();
    this.calls++;
    this.fed += tokens.length;
    this.tokens.push(...tokens);
    if (this.tokens.length > this.capabilities.contextLength) throw new Error('context overflow');
    return options.sample ? nextToken(this.tokens) : undefined;
  }

  async rollback(length: number): Promise<void> {
    if (this.capabilities.rollback !== 'popn') throw new Error('rollback not offered');
    if (length > this.tokens.length) throw new Error('rollback beyond length');
    this.tokens.length = length;
  }

  async reset(): Promise<void> {
    this.tokens = [];
  }

  async snapshot(): Promise<SnapshotId> {
    if (!this.capabilities.snapshots) throw new Error('snapshots not offered');
    const id = this.nextSnap++;
    this.snaps.set(id, [...this.tokens]);
    return id;
  }

  async restore(id: SnapshotId): Promise<void> {
    const saved = this.snaps.get(id);
    if (!saved) throw new Error(`no snapshot ${id}`);
    this.tokens = [...saved];
  }

  /** Its "KV": one layer, one head, one dimension holding each token id (keys and values alike). */
  async readKv(length: number): Promise<KvTensors> {
    if (length > this.tokens.length) throw new Error('read beyond length');
    const data = Float32Array.from(this.tokens.slice(0, length));
    return { length, layers: 1, kvHeads: 1, headDim: 1, keys: [data], values: [data.slice()] };
  }

  async writeKv(kv: KvTensors): Promise<void> {
    if (kv.layers !== 1 || kv.keys[0]!.length !== kv.length) throw new Error('not this cache’s shape');
    this.tokens = Array.from(kv.keys[0]!);
  }
}

/** The reference model: next token from the whole context (FNV-1a). */
export function nextToken(context: readonly number[]): number {
  let h = 0x811c9dc5;
  for (const t of context) h = Math.imul(h ^ t, 0x01000193) >>> 0;
  return h % SIM_VOCAB;
}

/** Greedy continuation computed from scratch: what any correct cache must reproduce. */
export function coldReply(prompt: readonly number[], maxTokens: number, stops: readonly number[]): number[] {
  const context = [...prompt];
  const out: number[] = [];
  while (out.length < maxTokens) {
    const t = nextToken(context);
    if (stops.includes(t)) break;
    out.push(t);
    context.push(t);
  }
  return out;
}

/** A small seeded PRNG (the one the stand-in weights are drawn with). */
export { seededRandom as seeded } from '../../scripts/onnx/random.mjs';
