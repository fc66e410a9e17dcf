// The typing replay (scripts/bench.mjs typing), in headless Chromium. Each
// LoCoMo question with evidence is typed key by key on a virtual clock and sent,
// through the code the product runs: the Predictor (src/scheduler/predict.ts,
// the effect runner of the core in src/core/prediction.ts) against a timed
// engine double (test/support/timed-engine-double.ts: the SmolLM dry run on a
// virtual clock, prefill at tokens ÷ rate, superseded between 32-token slices).
//
// Typing: inter-key intervals are seeded log-normal with a median of 200 ms and
// sigma √(2·ln(239/200)) ≈ 0.597, so the mean is 239 ms (Dhakal et al., CHI
// 2018: 239 ms over 136 M keystrokes). Enter comes one more interval after the
// last key. Debounce as the scheduler worker ships it (src/scheduler/service.ts,
// 50 ms): a key's draft is issued 50 ms after it, only if the next key (or
// Enter) comes later than that; a send drops a draft still waiting.
//
// Virtual time and flushing: the replay alone moves the clock. Before each
// draft or send at time t it runs the double up to t (`advanceTo`: every slice
// or generate ending by t lands, in order, and its promise settles), then waits
// one task so the Predictor's continuations have fed those outcomes to the
// core. It then issues the draft, awaits its prediction, and when a prewarm was
// started waits until the double has received that call (`called(n)`), which is
// stamped with time t. Search, layout and tokenizing take no virtual time.
// A send is issued the same way, then the double runs until idle.
//
// Arms, at each rate, all with a prompt of system + activated tier + working
// memories + the question (each question a new chat, as in bench:locomo: a
// fresh Predictor, no history), budget 10 and k 10, each on its own engine
// whose cache carries over from the arm's previous question:
//   final          drafts prewarm; the send shows exactly the final set
//   held_plus_new  drafts prewarm; the send shows what was held plus the final
//                  set's new memories, within 600 tokens (the current default)
//   cold           no drafts; the cache is emptied before the send (a fresh engine)
//   reuse          no drafts; the cache holds the previous question's prompt and
//                  reply, and the send reuses their common prefix (what WebLLM's
//                  exact conversation reuse gets)
//   bm25_draft     drafts prewarm what plain BM25 ranks for the draft (no heat,
//                  themes or tiers; the last word a prefix); the send as `final`
//
// The hit diagnostic (typed arms): the share of the final top 10 that the cache
// held as the key at 25, 50 and 75% of the question came, before its draft.
import type { SendLayout } from '../src/core/prediction';
import { nextTask } from '../src/util/next-task';
import { Predictor, type SendReport } from '../src/scheduler/predict';
import type { Mneme } from '../src/mneme';
import type { Scheduler } from '../src/scheduler/scheduler';
import { seededRandom } from '../scripts/onnx/random.mjs';
import { smollmDryRun } from '../test/support/smollm';
import { TIMED_ENGINE_DEFAULTS, TimedEngineDouble, type GenerateTiming } from '../test/support/timed-engine-double';
import { loadConversation, mean, recall, type Conversation, type Question } from './locomo';

const RATES = [40, 300, 2000] as const;
/** Shares of the question typed at which the hit diagnostic reads what the cache held, in %. */
const TYPED_SHARES = [25, 50, 75] as const;
const BUDGET = 10;
const K = 10;
const DEBOUNCE_MS = 50;
const MEDIAN_MS = 200;
const MEAN_MS = 239;
const SIGMA = Math.sqrt(2 * Math.log(MEAN_MS / MEDIAN_MS));

interface ArmSpec {
  name: string;
  layout: SendLayout;
  /** Drafts while typing. */
  typed: boolean;
  /** The cache is emptied before the send. */
  cold: boolean;
  /** Drafts are ranked by plain BM25 instead of the scheduler (the send is not). */
  bm25Drafts?: boolean;
}

const ARMS: readonly ArmSpec[] = [
  { name: 'final', layout: { kind: 'final' }, typed: true, cold: false },
  { name: 'held_plus_new', layout: { kind: 'held-plus-new', tokens: 600 }, typed: true, cold: false },
  { name: 'cold', layout: { kind: 'final' }, typed: false, cold: true },
  { name: 'reuse', layout: { kind: 'final' }, typed: false, cold: false },
  { name: 'bm25_draft', layout: { kind: 'final' }, typed: true, cold: false, bm25Drafts: true },
];

/**
 * The scheduler with its draft searches answered by plain BM25 over the same memories (a baseline:
 * what a prediction without the scheduler's signals would prewarm); everything else is the scheduler's.
 */
function bm25Drafts(scheduler: Scheduler, mneme: Mneme): Scheduler {
  const view = Object.create(scheduler) as Scheduler;
  view.search = async (query, options) => {
    if (!options?.draft) return scheduler.search(query, options);
    const hits = await mneme.searchMemory(query, { scope: { userId: 'u' }, k: options.k ?? 10, prefix: true });
    return hits.map((h) => ({ memory: h.memory, score: h.score, parts: { ...h.parts, heat: 0, timeliness: 0, importance: 0, themeHeat: 0, confidence: 1, prior: 0, match: h.score, context: 0 }, reasons: [] }));
  };
  return view;
}

interface Arm extends ArmSpec {
  rate: number;
  engine: TimedEngineDouble;
  acc: { recall: number[]; share: number[]; ttft: number[]; wasted: number[]; prompt: number[]; typing: number[]; hit: Record<number, number[]> };
}

interface Replayed {
  report: SendReport;
  /** What the cache held (working memory ids) as the key at 25, 50 and 75% of the question came. */
  heldAt: Map<number, ReadonlySet<string>>;
  timing: GenerateTiming;
  drafts: number;
  /** Enter came within the debounce of the last key, so its draft was dropped. */
  lastDropped: boolean;
}

/** FNV-1a, for seeds. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** `n` log-normal inter-key intervals in ms (median 200, mean 239), seeded. */
export function keyGaps(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const u = 1 - random(); // (0, 1]
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return MEDIAN_MS * Math.exp(SIGMA * normal);
  });
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** Runs the double up to `t`, then one task, so the Predictor has taken in everything that landed. */
async function advance(engine: TimedEngineDouble, t: number): Promise<void> {
  await engine.advanceTo(t);
  await nextTask();
}

/** Types `question` with `gaps` (gaps[i] follows key i; the last one is Enter) and sends it, through a fresh Predictor. */
async function replay(arm: Arm, scheduler: Scheduler, question: string, gaps: number[]): Promise<Replayed> {
  const { engine } = arm;
  const predictor = new Predictor(scheduler, { engine, budget: BUDGET, k: K, sendLayout: arm.layout, recordRetrieval: false });
  if (arm.cold) await engine.clear();
  const keys: number[] = [];
  let t = engine.now + 1_000;
  for (const gap of gaps) keys.push(t), (t += gap);
  const sendAt = t;
  let drafts = 0;
  const heldAt = new Map<number, ReadonlySet<string>>();
  const checkpoints = new Map(TYPED_SHARES.map((pct) => [Math.max(0, Math.round((question.length * pct) / 100) - 1), pct]));
  for (let i = 0; arm.typed && i < question.length; i++) {
    const pct = checkpoints.get(i);
    if (pct !== undefined) {
      await advance(engine, keys[i]!);
      heldAt.set(pct, new Set(predictor.heldIds));
    }
    const next = i + 1 < question.length ? keys[i + 1]! : sendAt;
    if (next - keys[i]! <= DEBOUNCE_MS) continue; // a newer key (or the send) replaced it within the debounce
    await advance(engine, keys[i]! + DEBOUNCE_MS);
    const calls = engine.calls;
    const { prewarmed, settled } = await predictor.draft(question.slice(0, i + 1));
    drafts++;
    if (prewarmed) await Promise.race([engine.called(calls + 1), settled]);
  }
  await advance(engine, sendAt);
  const calls = engine.calls;
  const sending = predictor.send({ text: question, k: K });
  await Promise.race([engine.called(calls + 1), sending]);
  await engine.runUntilIdle();
  await nextTask();
  const report = await sending;
  const timing = engine.lastGenerate;
  if (!timing || timing.arrivedAt !== sendAt) throw new Error(`typing replay: the send at ${sendAt} ms reached the engine at ${timing?.arrivedAt} ms`);
  return { report, timing, heldAt, drafts, lastDropped: arm.typed && gaps.at(-1)! <= DEBOUNCE_MS };
}

/** A fixed, seeded subset of `n` questions (in their order), or all of them. */
function sample(c: Conversation, questions: Question[], n: number | undefined): Question[] {
  if (n === undefined || n >= questions.length) return questions;
  const keep = new Set(questions.map((q, i) => ({ q, key: hash(`${c.sample_id}/${i}`) })).sort((a, b) => a.key - b.key).slice(0, n).map((x) => x.q));
  return questions.filter((q) => keep.has(q));
}

export async function run(input: { conversations: Conversation[]; label: string; perConversation?: number }): Promise<Record<string, number | string>> {
  const arms: Arm[] = [];
  for (const rate of RATES) {
    for (const spec of ARMS) arms.push({ ...spec, rate, engine: new TimedEngineDouble(await smollmDryRun(), { rate }), acc: { recall: [], share: [], ttft: [], wasted: [], prompt: [], typing: [], hit: { 25: [], 50: [], 75: [] } } });
  }
  const fullsearch: number[] = [];
  const drafts: number[] = [];
  const activated: number[] = [];
  let lastDropped = 0;
  let finalDiffers = 0;
  let typingMismatch = 0;
  for (const c of input.conversations) {
    const { scheduler, mneme, questions, close } = await loadConversation(c);
    const bm25 = bm25Drafts(scheduler, mneme);
    activated.push(scheduler.activatedRecords().length);
    for (const q of sample(c, questions, input.perConversation)) {
      const gaps = keyGaps(q.question.length, hash(`${c.sample_id}/${q.question}`));
      let final: string | undefined;
      for (const arm of arms) {
        const { report, timing, heldAt, drafts: n, lastDropped: dropped } = await replay(arm, arm.bm25Drafts ? bm25 : scheduler, q.question, gaps);
        const top = report.results.map((r) => r.memory.id);
        if (final === undefined) {
          final = top.join();
          fullsearch.push(recall(top, q.evidence));
          drafts.push(n);
        } else if (top.join() !== final) finalDiffers++;
        if (arm === arms[0] && dropped) lastDropped++;
        if (timing.typingPrefilled !== report.typingPrefillTokens) typingMismatch++;
        const { acc } = arm;
        acc.recall.push(recall(report.seen.map((m) => m.id), q.evidence));
        acc.share.push(report.promptTokens === 0 ? 0 : report.prefillTokensAtSend / report.promptTokens);
        acc.ttft.push(timing.ttftMs);
        acc.wasted.push(timing.typingPrefilled - timing.typingReused);
        acc.prompt.push(report.promptTokens);
        acc.typing.push(timing.typingPrefilled);
        for (const [pct, held] of heldAt) acc.hit[pct]!.push(top.length === 0 ? 0 : top.filter((id) => held.has(id)).length / top.length);
      }
    }
    await close();
  }
  const out: Record<string, number | string> = {
    'typing.conversations': input.label,
    'typing.questions': fullsearch.length,
    'typing.sample': input.perConversation === undefined ? 'every question with evidence' : `${input.perConversation} questions per conversation, a fixed seeded subset (FNV-1a of sample_id/index)`,
    'typing.memories': "one per LoCoMo turn (LoCoMo's shape, not the product's sentences from observe)",
    'typing.dense': 'none: lexical + scheduler signals (stand-in embeddings carry no meaning)',
    'typing.keys': `seeded log-normal inter-key ms: median ${MEDIAN_MS}, sigma ${SIGMA.toFixed(3)}, mean ${MEAN_MS} (Dhakal et al., CHI 2018); Enter one interval after the last key`,
    'typing.debounce': `${DEBOUNCE_MS} ms, as shipped: a key gets a draft when the next key or Enter comes more than ${DEBOUNCE_MS} ms later`,
    'typing.engine': `TEST DOUBLE: SmolLM dry run (exact tokens, no model) on a virtual clock; prefill tokens/rate in ${TIMED_ENGINE_DEFAULTS.sliceTokens}-token slices, superseded between slices; no real compute contention, no memory-bandwidth effects`,
    'typing.ttft': `virtual: wait for the slice in flight + tokens prefilled at send / rate + one decode step (${TIMED_ENGINE_DEFAULTS.decodeStepTokens} token-times); search and layout at send count 0 ms`,
    'typing.arms': 'final, held_plus_new (600 tokens): drafts prewarm (budget 10); cold: no drafts, empty cache; reuse: no drafts, cache kept from the previous question (exact prefix reuse, as WebLLM); bm25_draft: drafts prewarm the plain BM25 ranking of the draft, the send as final. k 10, a new chat per question',
    'typing.hit_at_10': `typed arms, per rate (r{rate}.{arm}.hit_at_10.p25/p50/p75): the share of the final top 10 that the cache held as the key at ${TYPED_SHARES.join('/')}% of the question came (before that key's draft), on the virtual clock`,
    'typing.activated_memories.mean': mean(activated),
    'typing.drafts_per_question.mean': mean(drafts),
    'typing.last_draft_dropped': lastDropped,
    'typing.fullsearch_recall_at_10': mean(fullsearch),
  };
  for (const arm of arms) {
    const key = `typing.r${arm.rate}.${arm.name}`;
    const { acc } = arm;
    out[`${key}.prompt_recall`] = mean(acc.recall);
    out[`${key}.prefill_share_at_send.p50`] = percentile(acc.share, 0.5);
    out[`${key}.prefill_share_at_send.p95`] = percentile(acc.share, 0.95);
    out[`${key}.ttft_ms.p50`] = percentile(acc.ttft, 0.5);
    out[`${key}.ttft_ms.p95`] = percentile(acc.ttft, 0.95);
    out[`${key}.prompt_tokens.mean`] = mean(acc.prompt);
    if (arm.typed) {
      out[`${key}.wasted_tokens.mean`] = mean(acc.wasted);
      out[`${key}.typing_prefill_tokens.mean`] = mean(acc.typing);
      for (const pct of TYPED_SHARES) out[`${key}.hit_at_10.p${pct}`] = mean(acc.hit[pct]!);
    }
  }
  // Both are 0 unless something is wrong: every arm ranks the same final set, and the core's count of typing's prefill matches the cache's.
  out['typing.check.final_set_differs'] = finalDiffers;
  out['typing.check.typing_prefill_mismatch'] = typingMismatch;
  return out;
}
