// The transformers.js engine in its worker, in Chromium, on the tiny stand-in
// SmolLM (real tokenizer and chat template, random weights, served by the test
// server). Greedy replies of a prewarmed cache must equal a cold engine's, and
// a cold engine's must equal transformers.js's own generate.
// Needs `node scripts/gen-standin-models.mjs` (npm test runs it).
import { AutoModelForCausalLM, Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { configureTransformers } from '../../src/embed/transformers-service';
import { layoutPrompt, type PromptParts } from '../../src/engine/layout';
import { flatten, promptLength } from '../../src/engine/ledger';
import { createTransformersEngine, resolveTransformersEngineConfig } from '../../src/engine/transformers';
import type { Engine, LoadProgress, PromptTokens } from '../../src/engine/types';
import { InvalidInputError, ModelError } from '../../src/errors';
import { coldGenerate, standinEngine } from '../support/standin-engine';

const LOAD_MS = 120_000;
const REPLY = 12;

const MODEL = 'mneme/standin-smollm-tiny';
const engines: Engine[] = [];
function startEngine(cacheName: string): Engine {
  const started = standinEngine('wasm', cacheName);
  engines.push(started);
  return started;
}

const base: PromptParts = {
  system: 'You are a helpful assistant that remembers what the user tells you.',
  activated: ['Alice lives in Lyon.', 'Alice is vegetarian.', 'Alice has a cat named Miso.'],
  history: [
    { role: 'user', text: 'I am redoing the bathroom.' },
    { role: 'assistant', text: 'Nice! Tiles or paint?' },
  ],
  working: ['The tiles arrive on Tuesday.', 'The plumber comes on Thursday.'],
  draft: 'When do the tiles for the bathroom arrive, and who installs them?',
};

/** A cold reply: a second engine, emptied first. */
let reference: Engine;
const coldReply = async (prompt: PromptTokens) => (await coldGenerate(reference, prompt, REPLY)).tokens;

let engine: Engine;
const progress: LoadProgress[] = [];
const layout = (parts: PromptParts, final = true) => layoutPrompt(parts, engine.info!.template, (texts) => engine.tokenize(texts), { final });

beforeAll(async () => {
  engine = startEngine('mneme-test-engine-main');
  await engine.load({ onProgress: (p) => progress.push(p) });
  reference = startEngine('mneme-test-engine-main'); // files from the same cache
  await reference.load();
}, LOAD_MS);

afterAll(async () => {
  await Promise.all(engines.map((e) => e.dispose()));
});

describe('transformers.js engine (wasm)', () => {
  test('loads the stand-in with progress and reports what it is', () => {
    expect(progress.at(-1)).toMatchObject({ status: 'ready', fraction: 1 });
    expect(engine.info).toMatchObject({ engine: 'transformers', model: MODEL, device: 'wasm', capabilities: { rollback: 'popn', contextLength: 2048 } });
    expect(engine.info!.template.stopTokens).toEqual([2]);
  });

  test('a cold greedy reply equals transformers.js’s own generate', async () => {
    const prompt = await layout(base);
    const ours = await coldReply(prompt);
    const where = resolveTransformersEngineConfig({ modelBaseUrl: '/test/fixtures/generated/models', model: MODEL, allowRemote: false, cacheName: 'mneme-test-engine-ref' }, location.href);
    configureTransformers(where, { base: location.href });
    const model = await AutoModelForCausalLM.from_pretrained(MODEL, { dtype: 'fp32', device: 'wasm' });
    const ids = flatten(prompt);
    const output = (await model.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      attention_mask: new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
      max_new_tokens: REPLY,
      do_sample: false,
    })) as Tensor;
    await model.dispose();
    const theirs = Array.from(output.data as BigInt64Array, Number).slice(ids.length).filter((t) => t !== 2);
    expect(ours).toHaveLength(REPLY);
    expect(new Set(ours).size).toBeGreaterThan(3); // the random model does not just repeat itself
    expect(ours).toEqual(theirs.slice(0, ours.length));
  }, LOAD_MS);

  test('prewarmed then continued gives exactly the cold reply, prefilling only the untyped tail', async () => {
    const full = await layout(base);
    const cold = await coldReply(full);
    const typed = base.draft.slice(0, Math.floor(base.draft.length * 0.7));
    const prewarm = await engine.prewarm(await layout({ ...base, draft: typed }, false));
    expect(prewarm.complete).toBe(true);
    const warm = await engine.generate(full, { maxTokens: REPLY });
    expect(warm.tokens).toEqual(cold);
    const total = promptLength(full);
    expect(warm.stats.tokensReused + warm.stats.tokensPrefilled).toBe(total);
    expect(warm.stats.tokensPrefilled).toBeLessThan(20); // the rest of the question and the assistant opening
    expect(warm.stats.tokensReused).toBeGreaterThan(total - 20);
  }, LOAD_MS);

  test('rollback: prewarm A, then B sharing a prefix, then generate B equals cold B', async () => {
    const a = await layout({ ...base, working: ['Tiles: Tuesday.', 'Paint: beige.'] }, false);
    const bParts = { ...base, working: ['The grout is grey.', 'The tiles arrive on Tuesday.'] };
    const bFull = await layout(bParts);
    await engine.prewarm(a);
    const b = await engine.prewarm(await layout(bParts, false));
    const stable = promptLength({ segments: a.segments.filter((s) => s.kind !== 'working' && s.kind !== 'draft') });
    expect(b.stats.tokensRolledBack).toBeGreaterThan(0);
    expect(b.stats.tokensReused).toBeGreaterThanOrEqual(stable);
    expect(flatten(await engine.held())).toEqual(flatten(await layout(bParts, false)));
    const reply = await engine.generate(bFull, { maxTokens: REPLY });
    expect(reply.tokens).toEqual(await coldReply(bFull));
    // The reply depends on the working set, so a stale cache would show.
    expect(reply.tokens).not.toEqual(await coldReply(await layout({ ...base, working: ['Tiles: Tuesday.', 'Paint: beige.'] })));
  }, LOAD_MS);

  test('a stale prewarm is interrupted between slices; a send never waits for it', async () => {
    const long = await layout({ ...base, activated: Array.from({ length: 30 }, (_, i) => `Memory number ${i}: something Alice said once.`) }, false);
    const controller = new AbortController();
    const stale = engine.prewarm(long, { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const stopped = await stale;
    expect(stopped.complete).toBe(false);
    expect(stopped.held).toBeLessThan(promptLength(long));
    expect(flatten(await engine.held())).toHaveLength(stopped.held);

    // A prewarm still running when the user sends: the send goes first, at the next slice.
    const full = await layout(base);
    const running = engine.prewarm(long);
    const reply = await engine.generate(full, { maxTokens: REPLY });
    expect((await running).complete).toBe(false);
    expect(reply.tokens).toEqual(await coldReply(full));
  }, LOAD_MS);

  test('replies stream in chunks that add up to the reply', async () => {
    const chunks: { tokens: readonly number[]; text: string }[] = [];
    const result = await engine.generate(await layout({ ...base, draft: 'Tell me everything.' }), { maxTokens: 20, chunkTokens: 8, chunkMs: 10_000, onChunk: (c) => chunks.push(c) });
    expect(chunks.flatMap((c) => c.tokens)).toEqual(result.tokens);
    expect(chunks.map((c) => c.text).join('')).toBe(result.text);
    expect(chunks.length).toBeLessThanOrEqual(1 + Math.ceil((result.tokens.length - 1) / 8));
  });

  test('bad input and a missing model fail with typed errors', async () => {
    await expect(engine.generate({ segments: [{ kind: 'draft', tokens: [-1] }] })).rejects.toThrow(InvalidInputError);
    expect(() => createTransformersEngine({ sliceTokens: 0 })).toThrow(InvalidInputError);
    const missing = createTransformersEngine({ modelBaseUrl: '/test/fixtures/generated/models', model: 'mneme/no-such-model', allowRemote: false, dtype: 'fp32', cacheName: 'mneme-test-missing' });
    const error = await missing.load().then(() => expect.unreachable(), (e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('model-load-failed');
    expect((error as ModelError).message).toMatch(/modelBaseUrl/);
    await missing.dispose();
  }, LOAD_MS);
});
