// The engine benchmark, run in headless Chromium by scripts/bench.mjs
// (`npm run bench:engine`): time to first token of the transformers.js engine
// (WASM) on the stand-in SmolLM-360M-width model (4 layers, random weights,
// real tokenizer), cold versus prewarmed while typing, and on a working-set miss.
// The `ttft` step ends by saving the stable prefix (system prompt and activated
// block) as a KV snapshot in OPFS; the `reload` step, on a fresh page, loads the
// engine, restores it and answers the same message.
import { layoutPrompt, type PromptParts } from '../src/engine/layout';
import { promptLength, sliceSegments } from '../src/engine/ledger';
import { SnapshotDirectory } from '../src/engine/snapshot/directory';
import { memoizeTokenize } from '../src/engine/token-memo';
import { createTransformersEngine, type TransformersEngineConfig } from '../src/engine/transformers';
import type { Engine } from '../src/engine/types';
import type { MemoryRecord } from '../src/memory/types';
import { createMneme, type Mneme } from '../src/mneme';
import { KvKeeper } from '../src/scheduler/kv-keeper';
import { median } from './synthetic';

const REPS = 5;
/** Share of the question (in characters) typed when the prewarm ran; the rest is typed before send. */
const TYPED = 0.7;

const QUESTION = 'Given everything I told you about the bathroom, when do the new tiles arrive and who is going to install them for me?';

const PARTS: PromptParts = {
  system:
    'You are Mneme, a friendly assistant with a memory. Use the notes about the user when they help, say when you are unsure, and keep answers short and concrete.',
  activated: [
    'Alice lives in Lyon with her partner Sam and their cat Miso.',
    'Alice is vegetarian and does not eat fish either.',
    'Alice works as a nurse and does night shifts on Mondays and Tuesdays.',
    'Alice is renovating the upstairs bathroom this autumn.',
    'Alice prefers short answers with concrete next steps.',
    'Alice is learning Portuguese for a trip to Lisbon in May.',
    'Alice’s sister Jeanne is allergic to peanuts.',
    'Alice’s budget for the bathroom is 6,000 euros, tiles included.',
  ],
  history: [
    { role: 'user', text: 'I finally ordered the tiles for the bathroom, the grey hexagonal ones we talked about.' },
    { role: 'assistant', text: 'Great choice. Did the shop give you a delivery date?' },
    { role: 'user', text: 'They said sometime next week, they will call me the day before.' },
    { role: 'assistant', text: 'Good. Make sure someone is home, tiles are heavy to carry upstairs.' },
    { role: 'user', text: 'Sam works from home on Wednesdays so that should be fine.' },
    { role: 'assistant', text: 'Perfect, then Wednesday is the best day to ask for.' },
    { role: 'user', text: 'I also need to find someone to install them.' },
    { role: 'assistant', text: 'Your neighbour mentioned a tiler last month; do you want me to remind you of the name?' },
  ],
  working: [
    'The tile shop delivers on Tuesdays and Thursdays only.',
    'The tiler recommended by the neighbour is called Marco Duval.',
    'Marco Duval is booked until the 14th.',
    'The plumber must move the drain before the tiles go in.',
    'The old tiles were removed on Saturday.',
  ],
  draft: QUESTION,
};

const MISSED_WORKING = [
  'The paint for the hallway is a warm white.',
  'Sam wants a bigger mirror above the sink.',
  'The bathroom fan makes a rattling noise.',
  'The shower screen is on back order.',
  'The neighbour’s name is Claire.',
];

const ENGINE: TransformersEngineConfig = {
  modelBaseUrl: '/test/fixtures/generated/models',
  model: 'mneme/standin-smollm-360m-4l',
  allowRemote: false,
  dtype: 'fp32',
  cacheName: 'mneme-bench-engine',
};
/** The database holding the activated memories, and the snapshot's folder. */
const DB = 'mneme-bench-kv';
const USER = { userId: 'bench' };

/** How the bench sends: a fresh tokenize memo per session, and a send timed on the page from layout to the first token. */
function sender(engine: Engine) {
  const info = engine.info!;
  // Every repetition starts with a fresh tokenize memo, so what a send has not
  // seen while typing (the rest of the question, a new working set) is tokenized
  // inside the timed send, as in the app.
  const session = () => {
    const tokenize = memoizeTokenize((texts) => engine.tokenize(texts));
    return (parts: PromptParts, final: boolean) => layoutPrompt(parts, info.template, tokenize, { final });
  };
  /** Page-side time from send (layout included) to the first streamed token, with the worker's own numbers. */
  const send = async (lay: ReturnType<typeof session>, parts: PromptParts) => {
    const start = performance.now();
    let first = 0;
    const prompt = await lay(parts, true);
    const result = await engine.generate(prompt, { maxTokens: 1, onChunk: () => (first ||= performance.now()) });
    return { ms: first - start, stats: result.stats };
  };
  return { session, send };
}

/** The activated memories as records of the bench database (created once), in PARTS order, and a keeper saving their prefix. */
async function keeperFor(engine: Engine): Promise<{ mneme: Mneme; keeper: KvKeeper; directory: SnapshotDirectory }> {
  const mneme = await createMneme({ name: DB });
  const texts = PARTS.activated!;
  let records: MemoryRecord[] = await mneme.list({ scope: USER, limit: 100 });
  if (records.length !== texts.length) {
    await mneme.clear(USER);
    records = await mneme.addMany(texts.map((text) => ({ text, scope: USER })));
  }
  const ordered = texts.map((text) => records.find((r) => r.text === text)!);
  const directory = new SnapshotDirectory({ folder: `mneme-kv-${DB}`, sealer: mneme.store.bytesSealer });
  const keeper = new KvKeeper(engine, mneme.store, { directory, scope: () => USER, stable: () => ({ system: PARTS.system, activated: ordered }), settleMs: 60_000 });
  return { mneme, keeper, directory };
}

export async function ttft(): Promise<Record<string, number | string>> {
  const engine = createTransformersEngine(ENGINE);
  const loadStart = performance.now();
  const info = await engine.load();
  const loadMs = performance.now() - loadStart;
  const { session, send } = sender(engine);
  const typedDraft = QUESTION.slice(0, Math.round(QUESTION.length * TYPED));
  const layout = session();
  const full = await layout(PARTS, true);
  const questionTokens = (await engine.tokenize([QUESTION]))[0]!.length;
  if (questionTokens !== 25) throw new Error(`the question has ${questionTokens} tokens, not 25`);
  const empty = () => engine.prewarm({ segments: [] });

  await empty();
  await send(session(), PARTS); // warm-up: the runtime's first calls allocate
  const cold: Awaited<ReturnType<typeof send>>[] = [];
  const warm: Awaited<ReturnType<typeof send>>[] = [];
  const miss: Awaited<ReturnType<typeof send>>[] = [];
  let typedTokens = 0;
  for (let rep = 0; rep < REPS; rep++) {
    await empty();
    cold.push(await send(session(), PARTS));

    await empty();
    const typing = session();
    typedTokens = (await engine.prewarm(await typing({ ...PARTS, draft: typedDraft }, false))).held;
    warm.push(await send(typing, PARTS));

    const other = session(); // typing prewarmed another working set
    await engine.prewarm(await other({ ...PARTS, working: MISSED_WORKING, draft: typedDraft }, false));
    miss.push(await send(other, PARTS));
  }
  // Decode rate: a longer reply on a warm prompt.
  const decode = await engine.generate(full, { maxTokens: 32 });
  // The stable prefix saved for the next page (the reload step), as the keeper saves it once the block settles.
  const { mneme, keeper, directory } = await keeperFor(engine);
  for (const row of await keeper.list()) await directory.remove(row.name); // a snapshot of an earlier run is not this run's
  await keeper.restore().done; // nothing saved: prefills the stable prefix
  const saved = await keeper.save();
  if (!saved) throw new Error('the stable prefix was not saved');
  keeper.dispose();
  await mneme.close();
  await engine.dispose();

  const coldMs = median(cold.map((r) => r.ms));
  const warmMs = median(warm.map((r) => r.ms));
  return {
    'model': `${info.model} (hidden 960, 15 heads, 5 KV heads, 4 layers, fp32, ${info.device})`,
    'load_ms': loadMs,
    'tokens.cold': promptLength(full),
    'tokens.question': questionTokens,
    'tokens.at_send': median(warm.map((r) => r.stats.tokensPrefilled)),
    'tokens.at_send_miss': median(miss.map((r) => r.stats.tokensPrefilled)),
    'tokens.reused_at_send': median(warm.map((r) => r.stats.tokensReused)),
    'ttft.cold_ms': coldMs,
    'ttft.prewarmed_ms': warmMs,
    'ttft.ratio': warmMs / coldMs,
    'ttft.miss_ms': median(miss.map((r) => r.ms)),
    'ttft.miss_ratio': median(miss.map((r) => r.ms)) / coldMs,
    // The physical limit: the worker's forward pass over the un-typed tail alone.
    'ttft.tail_forward_ms': median(warm.map((r) => r.stats.prefillMs)),
    'ttft.prewarmed_overhead_ms': warmMs - median(warm.map((r) => r.stats.prefillMs)),
    'prefill.tokens_per_s': median(cold.map((r) => r.stats.prefillTokensPerS)),
    'decode.tokens_per_s': decode.stats.decodeTokensPerS,
    'reps': REPS,
    'tokens.prewarmed_while_typing': typedTokens,
    'snapshot.write_ms': saved.writeMs,
    'snapshot.bytes': saved.bytes,
    'snapshot.tokens': saved.tokens,
  };
}

/**
 * A fresh page after the ttft step: loads the engine, restores the saved stable prefix (the keeper, as the
 * scheduler worker does at load), then answers the same message: straight away (`untyped`), and after typing
 * it as in the prewarmed case (the same prewarm of 70% of the question, so against `ttft.prewarmed_ms`).
 * Each repetition empties the cache and restores the snapshot again (median of REPS).
 */
export async function reload(): Promise<Record<string, number | string>> {
  const engine = createTransformersEngine(ENGINE);
  await engine.load();
  const { mneme, keeper } = await keeperFor(engine);
  const { session, send } = sender(engine);
  const typedDraft = QUESTION.slice(0, Math.round(QUESTION.length * TYPED));
  /** The cache as a reload leaves it: emptied, then the snapshot restored (the rest prefilled, if any). */
  const reloaded = async () => {
    await engine.prewarm({ segments: [] });
    const restored = await keeper.restore().done;
    if (restored.restoredTokens === 0) throw new Error('no snapshot was restored; run the ttft step first');
    return restored;
  };
  const restores: Awaited<ReturnType<typeof reloaded>>[] = [];
  const untyped: Awaited<ReturnType<typeof send>>[] = [];
  const typed: Awaited<ReturnType<typeof send>>[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    restores.push(await reloaded());
    untyped.push(await send(session(), PARTS)); // the first message, sent before anything typed was prewarmed
    await reloaded();
    const typing = session(); // the same message typed, as in the prewarmed case
    await engine.prewarm(await typing({ ...PARTS, draft: typedDraft }, false));
    typed.push(await send(typing, PARTS));
  }
  keeper.dispose();
  await mneme.close();
  await engine.dispose();
  return {
    'snapshot.restore_ms': median(restores.map((r) => r.restoreMs)),
    'snapshot.restored_tokens': restores[0]!.restoredTokens,
    'ttft.after_reload_untyped_ms': median(untyped.map((r) => r.ms)),
    'tokens.after_reload_untyped_at_send': median(untyped.map((r) => r.stats.tokensPrefilled)),
    'ttft.after_reload_ms': median(typed.map((r) => r.ms)),
  };
}

/**
 * WebGPU (the software adapter here; the browser of this step has WebGPU on): bytes copied between CPU and
 * GPU memory per decoded token (one token's forward pass on the held cache), on the tiny stand-in at a short
 * and a long context. With the cache kept in
 * GPU buffers a decoded token moves only its logits, whatever the context. `…cpu_round_trip` is computed,
 * not measured: what the previous engine moved per token at the same context (the whole cache read back
 * after each pass and uploaded with the next, plus the logits).
 */
export async function webgpu(): Promise<Record<string, number | string>> {
  const model = 'mneme/standin-smollm-tiny';
  const engine = createTransformersEngine({ ...ENGINE, model, device: 'webgpu', cacheName: 'mneme-bench-engine-webgpu' });
  const info = await engine.load();
  const config = (await (await fetch(`${ENGINE.modelBaseUrl}/${model}/config.json`)).json()) as Record<string, number>;
  const kvBytesPerToken = config.num_hidden_layers! * 2 * (config.num_key_value_heads ?? config.num_attention_heads!) * (config.hidden_size! / config.num_attention_heads!) * 4;
  const { session } = sender(engine);
  /** Bytes per decoded token: one more token's forward pass on a cache holding the prompt less its last token. */
  const perToken = async (parts: PromptParts) => {
    const prompt = await session()(parts, true);
    const context = promptLength(prompt);
    await engine.prewarm({ segments: sliceSegments(prompt, 0, context - 1) });
    const step = await engine.prewarm(prompt);
    if (step.stats.tokensPrefilled !== 1 || step.stats.bytesMoved === undefined) throw new Error('the step was not one token, or the engine counts no bytes');
    // The previous engine at cache length L = context - 1: L tokens uploaded, L + 1 read back, and the logits.
    return { bytes: step.stats.bytesMoved, context, roundTrip: step.stats.bytesMoved + (2 * (context - 1) + 1) * kvBytesPerToken };
  };
  const short = await perToken({ ...PARTS, activated: PARTS.activated!.slice(0, 2), history: [], working: PARTS.working!.slice(0, 1) });
  const long = await perToken(PARTS);
  await engine.dispose();
  return {
    'webgpu.model': `${info.model} (${info.device})`,
    'webgpu.context_tokens.short': short.context,
    'webgpu.context_tokens.long': long.context,
    'webgpu.bytes_per_decoded_token.short': short.bytes,
    'webgpu.bytes_per_decoded_token.long': long.bytes,
    'webgpu.bytes_per_decoded_token.cpu_round_trip.short': short.roundTrip,
    'webgpu.bytes_per_decoded_token.cpu_round_trip.long': long.roundTrip,
  };
}
