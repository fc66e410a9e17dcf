// Contract tests of the WebLLM adapter (src/engine/webllm/) against a TEST
// DOUBLE of WebLLM 0.2.86 (test/support/webllm-double.ts, whose rules cite
// the lines of WebLLM's source they come from). No model and no GPU here: what
// these show is that our loop drives WebLLM's calls correctly — token
// bookkeeping, rollback kinds, the reply fed back, one queue — not model output.
import { describe, expect, it } from 'vitest';
import { CacheDriver } from '../../src/engine/driver';
import { layoutPrompt, type PromptParts } from '../../src/engine/layout';
import { flatten } from '../../src/engine/ledger';
import type { ChatTemplatePieces, PromptTokens } from '../../src/engine/types';
import { createWebLLMPrimitives } from '../../src/engine/webllm/primitives';
import { reachPipeline } from '../../src/engine/webllm/internals';
import { encodeText, templatePieces as jinjaTemplatePieces } from '../../src/engine/transformers/template';
import { templatePieces } from '../../src/engine/webllm/template';
import { InvalidInputError, ModelError } from '../../src/errors';
import { smollmTokenizer } from '../support/smollm-tokenizer';
import { CHATML_TEMPLATE, doubleTokenizer, MlcEngineDouble, type DoubleOptions } from '../support/webllm-double';

const MODEL = 'SmolLM2-360M-Instruct-q4f16_1-MLC';
const encode = (text: string) => [...doubleTokenizer.encode(text)];
const template: ChatTemplatePieces = templatePieces(CHATML_TEMPLATE, encode);
const decode = (ids: readonly number[]) => doubleTokenizer.decode(Int32Array.from(ids));
const tokenize = (texts: readonly string[]) => texts.map(encode);

function setup(options: DoubleOptions = {}) {
  const engine = new MlcEngineDouble(MODEL, options);
  const pipeline = reachPipeline(engine, MODEL);
  const primitives = createWebLLMPrimitives(engine, pipeline);
  const driver = new CacheDriver(primitives, { template, decode, sliceTokens: 8 });
  return { engine, double: engine.pipeline, primitives, driver };
}

const PARTS: PromptParts = {
  system: 'Be brief.',
  activated: ['Tiles arrive Tuesday'],
  history: [
    { role: 'user', text: 'hi' },
    { role: 'assistant', text: 'hello' },
  ],
  working: ['The plumber is Ana'],
  draft: 'when do the tiles come?',
};

const prompt = (parts: Partial<PromptParts> = {}, final = true) => layoutPrompt({ ...PARTS, ...parts }, template, tokenize, { final });

/** The greedy reply a fresh engine gives to `full`: the reference for every reuse path. */
async function coldReply(full: PromptTokens, options: DoubleOptions = {}) {
  return (await setup(options).driver.generate(full)).tokens;
}

describe('the WebLLM chat template', () => {
  it("splits SmolLM2's ChatML conv_template into pieces that render WebLLM's own prompt", async () => {
    expect(decode(template.turnStart.system)).toBe('<|im_start|>system\n');
    expect(decode(template.turnStart.user)).toBe('<|im_start|>user\n');
    expect(decode(template.turnStart.assistant)).toBe('<|im_start|>assistant\n');
    expect(decode(template.turnEnd)).toBe('<|im_end|>\n');
    expect(template.stopTokens).toEqual([2, 0]);
    expect(template.specialTexts).toEqual(expect.arrayContaining(['<|im_start|>', '<|im_end|>']));
    // Conversation.getPromptArray (index.js 10405–10520) for system + one user message, then the reply header:
    const full = await layoutPrompt({ system: 'Be brief.', draft: 'hi' }, template, tokenize);
    const webllm = '<|im_start|>system\nBe brief.<|im_end|>\n' + '<|im_start|>user\nhi<|im_end|>\n' + '<|im_start|>assistant\n';
    expect(decode(flatten(full))).toBe(webllm);
  });

  it('uses WebLLM\'s ": " when role_content_sep is unset, and system_prefix_token_ids as the prefix', () => {
    const pieces = templatePieces({ ...CHATML_TEMPLATE, role_content_sep: undefined, system_prefix_token_ids: [7] } as never, encode);
    expect(decode(pieces.turnStart.user)).toBe('<|im_start|>user: ');
    expect(pieces.prefix).toEqual([7]);
  });

  it("with SmolLM's real tokenizer, gives the same pieces as the model's own Jinja chat template (the transformers.js engine's)", () => {
    const tokenizer = smollmTokenizer();
    const fromConvTemplate = templatePieces(CHATML_TEMPLATE, (text) => encodeText(tokenizer, text));
    const fromJinja = jinjaTemplatePieces(tokenizer, 'smollm');
    expect(fromConvTemplate.turnStart).toEqual(fromJinja.turnStart);
    expect(fromConvTemplate.turnEnd).toEqual(fromJinja.turnEnd);
    expect(fromConvTemplate.prefix).toEqual(fromJinja.prefix);
    expect(fromConvTemplate.turnStart.user[0]).toBe(1); // <|im_start|> is one control token, not its characters
  });

  it('refuses a template whose turns close in more than one way, naming the setting', () => {
    expect(() => templatePieces({ ...CHATML_TEMPLATE, seps: [' ', '</s>'] }, encode)).toThrow(/choose another model with `model`/);
    expect(() => templatePieces({ ...CHATML_TEMPLATE, system_template: '{system_message}' }, encode)).toThrow(ModelError);
  });
});

describe('WebLLM capabilities are detected when the model loads', () => {
  it.each([
    ['popn', 'popn', false],
    ['checkpoint', 'checkpoint', true],
    ['none', 'reset', false],
  ] as const)('runtime with %s → rollback %s', (runtime, rollback, snapshots) => {
    const { primitives, double } = setup({ runtime, contextWindowSize: 300 });
    expect(primitives.capabilities).toEqual({ rollback, snapshots, contextLength: 300 });
    expect(primitives.rollbackNote).toMatch(rollback === 'popn' ? /kv_state_popn found/ : rollback === 'checkpoint' ? /checkpoints found/ : /resets/);
    expect(double.tvm.scopeDepth()).toBe(0); // every scope opened for the lookup was closed
  });

  it('refuses a pipeline without the fields it drives, naming the version to install', () => {
    const engine = new MlcEngineDouble(MODEL);
    delete (engine.pipeline as { filledKVCacheLength?: number }).filledKVCacheLength;
    expect(() => reachPipeline(engine, MODEL)).toThrow(/filledKVCacheLength.*0\.2\.86/);
    expect(() => reachPipeline(engine, 'other-model')).toThrow(ModelError);
  });
});

describe('the WebLLM loop against the double', () => {
  it('a cold generate: the cache ends with prompt + reply + <|im_end|>\\n, and filledKVCacheLength agrees', async () => {
    const { driver, double } = setup();
    const full = await prompt();
    const result = await driver.generate(full);
    expect(result.finishReason).toBe('stop');
    expect(result.tokens).toHaveLength(12);
    expect(result.text).toMatch(/^[a-z]{12}$/);
    expect(double.kvCache.seq).toEqual([...flatten(full), ...result.tokens, ...template.turnEnd]);
    expect(double.filledKVCacheLength).toBe(double.kvCache.seq.length);
    expect(result.stats).toMatchObject({ tokensReused: 0, tokensPrefilled: flatten(full).length, tokensGenerated: 12 });
  });

  it('a length-limited reply is fed back too (chatCompletion would reset here, R4)', async () => {
    const { driver, double } = setup();
    const full = await prompt();
    const result = await driver.generate(full, { maxTokens: 5 });
    expect(result.finishReason).toBe('length');
    expect(double.kvCache.seq).toEqual([...flatten(full), ...result.tokens, ...template.turnEnd]);
    expect(double.filledKVCacheLength).toBe(double.kvCache.seq.length);
  });

  it.each(['popn', 'checkpoint', 'none'] as const)('prewarm then send gives the cold reply, reusing the prefix (runtime %s)', async (runtime) => {
    const full = await prompt();
    const cold = await coldReply(full, { runtime });
    const { driver, double } = setup({ runtime });
    const typed = await prompt({ draft: 'when do the ti' }, false);
    const warm = await driver.prewarm(typed);
    expect(warm.complete).toBe(true);
    expect(double.kvCache.seq).toEqual(flatten(typed));
    const sent = await driver.generate(full);
    expect(sent.tokens).toEqual(cold);
    expect(sent.stats.tokensReused).toBe(flatten(typed).length);
    expect(sent.stats.tokensPrefilled).toBe(flatten(full).length - flatten(typed).length);
  });

  it('with kv_state_popn, an edited draft rolls back in place and keeps filledKVCacheLength in step (R6)', async () => {
    const { driver, double } = setup({ runtime: 'popn' });
    const first = await prompt({ draft: 'when do the tiles' }, false);
    await driver.prewarm(first);
    const forwardsBefore = double.forwards.flat().length;
    const edited = await prompt({ draft: 'when do the paints' }, false);
    const result = await driver.prewarm(edited);
    const common = flatten(first).findIndex((t, i) => t !== flatten(edited)[i]);
    expect(result.stats.tokensRolledBack).toBe(flatten(first).length - common);
    expect(double.forwards.flat().length - forwardsBefore).toBe(flatten(edited).length - common); // only the new tail
    expect(double.kvCache.seq).toEqual(flatten(edited));
    expect(double.filledKVCacheLength).toBe(double.kvCache.seq.length);
    const full = await prompt({ draft: 'when do the paints' });
    expect((await driver.generate(full)).tokens).toEqual(await coldReply(full));
  });

  it('with KV checkpoints only, an edited draft restores the stable prefix instead of starting over', async () => {
    const { driver, double } = setup({ runtime: 'checkpoint' });
    const first = await prompt({ draft: 'when do the tiles' }, false);
    await driver.prewarm(first);
    const edited = await prompt({ working: ['Paint is blue'], draft: 'when' }, false);
    const result = await driver.prewarm(edited);
    const stable = edited.segments.filter((s) => ['system', 'activated', 'history'].includes(s.kind)).reduce((n, s) => n + s.tokens.length, 0);
    expect(result.stats.tokensReused).toBe(stable);
    expect(result.stats.tokensPrefilled).toBe(flatten(edited).length - stable);
    expect(double.kvCache.seq).toEqual(flatten(edited));
    expect(double.filledKVCacheLength).toBe(double.kvCache.seq.length);
  });

  it('without popn or checkpoints, a differing prompt resets and prefills again', async () => {
    const { driver, double } = setup({ runtime: 'none' });
    await driver.prewarm(await prompt({ draft: 'when' }, false));
    const other = await prompt({ working: ['Paint is blue'], draft: 'when' }, false);
    const result = await driver.prewarm(other);
    expect(result.stats.tokensReused).toBe(0);
    expect(result.stats.tokensPrefilled).toBe(flatten(other).length);
    expect(double.kvCache.seq).toEqual(flatten(other));
    expect(double.filledKVCacheLength).toBe(flatten(other).length);
  });

  it('checkpoint snapshot and restore bring back the cache and WebLLM\'s count (R7)', async () => {
    const { primitives, double } = setup({ runtime: 'checkpoint' });
    await primitives.append(encode('stable prefix'), { sample: false });
    const id = await (primitives.snapshot as () => Promise<number>)();
    await primitives.append(encode(' and a draft'), { sample: false });
    await (primitives.restore as (id: number) => Promise<void>)(id);
    expect(double.kvCache.seq).toEqual(encode('stable prefix'));
    expect(primitives.length).toBe(encode('stable prefix').length);
    await expect((primitives.restore as (id: number) => Promise<void>)(99)).rejects.toThrow(InvalidInputError);
  });

  it('rollback validates its target and needs popn', async () => {
    const popn = setup({ runtime: 'popn' }).primitives;
    await popn.append(encode('abc'), { sample: false });
    await expect(popn.rollback(5)).rejects.toThrow(InvalidInputError);
    await popn.rollback(1);
    expect(popn.length).toBe(1);
    await popn.rollback(0); // a whole-sequence pop, which older TVM runtimes refuse, is a reset
    expect(popn.length).toBe(0);
    const none = setup({ runtime: 'none' }).primitives;
    await none.append(encode('abc'), { sample: false });
    await expect(none.rollback(1)).rejects.toThrow(/cannot roll back in place/);
  });

  it('append with sample: false still advances the cache and returns nothing', async () => {
    const { primitives, double } = setup();
    expect(await primitives.append(encode('hello'), { sample: false })).toBeUndefined();
    expect(await primitives.append(encode('!'), { sample: true })).toBeGreaterThanOrEqual(100);
    expect(double.filledKVCacheLength).toBe(6);
  });
});

describe('no lock in WebLLM: our queue is what keeps calls apart (R2)', () => {
  it('the double interleaves two concurrent raw calls, as WebLLM would', async () => {
    const { engine, double } = setup({ prefillChunkSize: 4 });
    const both = await Promise.allSettled([engine.forwardTokensAndSample(encode('aaaaaaaa'), true), engine.forwardTokensAndSample(encode('bbbbbbbb'), true)]);
    expect(decode(double.kvCache.seq.slice(0, 8))).toBe('aaaabbbb'); // the chunks interleaved in the cache
    expect(both[0]).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/filledKVCacheLength does not match/) } });
  });

  it('concurrent prewarms and sends through the engine never interleave and end as a sequential run would', async () => {
    const { driver, double } = setup({ prefillChunkSize: 4 });
    const full = await prompt();
    const calls = [
      driver.prewarm(await prompt({ draft: 'when' }, false)),
      driver.prewarm(await prompt({ draft: 'when do' }, false)),
      driver.generate(full),
      driver.prewarm(await prompt({ draft: 'x' }, false)),
    ];
    const [, , sent] = await Promise.all(calls);
    expect((sent as { tokens: number[] }).tokens).toEqual(await coldReply(full, { prefillChunkSize: 4 }));
    expect(double.kvCache.seq).toEqual(flatten(await prompt({ draft: 'x' }, false)));
    expect(double.filledKVCacheLength).toBe(double.kvCache.seq.length);
  });
});
