// The engine benchmark, run in headless Chromium by scripts/bench.mjs
// (`npm run bench:engine`): time to first token of the transformers.js engine
// (WASM) on the stand-in SmolLM-360M-width model (4 layers, random weights,
// real tokenizer), cold versus prewarmed while typing, and on a working-set miss.
import { layoutPrompt, type PromptParts } from '../src/engine/layout';
import { promptLength } from '../src/engine/ledger';
import { memoizeTokenize } from '../src/engine/token-memo';
import { createTransformersEngine } from '../src/engine/transformers';
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

export async function ttft(): Promise<Record<string, number | string>> {
  const engine = createTransformersEngine({
    modelBaseUrl: '/test/fixtures/generated/models',
    model: 'mneme/standin-smollm-360m-4l',
    allowRemote: false,
    dtype: 'fp32',
    cacheName: 'mneme-bench-engine',
  });
  const loadStart = performance.now();
  const info = await engine.load();
  const loadMs = performance.now() - loadStart;
  // Every repetition starts with a fresh tokenize memo, so what a send has not
  // seen while typing (the rest of the question, a new working set) is tokenized
  // inside the timed send, as in the app.
  const session = () => {
    const tokenize = memoizeTokenize((texts) => engine.tokenize(texts));
    return (parts: PromptParts, final: boolean) => layoutPrompt(parts, info.template, tokenize, { final });
  };
  const typedDraft = QUESTION.slice(0, Math.round(QUESTION.length * TYPED));
  const layout = session();
  const full = await layout(PARTS, true);
  const questionTokens = (await engine.tokenize([QUESTION]))[0]!.length;
  if (questionTokens !== 25) throw new Error(`the question has ${questionTokens} tokens, not 25`);

  /** Page-side time from send (layout included) to the first streamed token, with the worker's own numbers. */
  const send = async (lay: ReturnType<typeof session>, parts: PromptParts) => {
    const start = performance.now();
    let first = 0;
    const prompt = await lay(parts, true);
    const result = await engine.generate(prompt, { maxTokens: 1, onChunk: () => (first ||= performance.now()) });
    return { ms: first - start, stats: result.stats };
  };
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
  };
}
