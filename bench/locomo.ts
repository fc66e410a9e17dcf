// LoCoMo on the scheduler, in headless Chromium (scripts/bench.mjs locomo).
// Each conversation's turns become memories on a clock set to their session
// dates; each question with evidence is typed in steps, and we record evidence
// recall@10 of the final ranking, a plain-BM25 baseline over the same memories
// (and lexical peers: our BM25 with @orama/stemmers' English stemmer in place
// of ours, and MiniSearch with its defaults),
// and how much of the final top 10 the cache held at 25/50/75% typed (a
// prewarm of 10).
// The main run has no dense model: stand-in embeddings carry no meaning, so it
// is lexical plus scheduler signals, and the output says so. A second run
// (`locomo.recall_at_10.static*`) embeds the same memories with the static
// GloVe model (real meaning, scripts/gen-static-glove.mjs): hybrid search.
import { createMneme, type Mneme } from '../src/mneme';
import { createStaticEmbedder } from '../src/embed/static';
import type { Embedder } from '../src/embed/types';
import { DenseIndex } from '../src/search/dense';
import { Predictor } from '../src/scheduler/predict';
import { Scheduler } from '../src/scheduler/scheduler';
import { Bm25Index } from '../src/search/bm25';
import { tokenize } from '../src/search/tokenize';
import { stemmer as porterStem } from '@orama/stemmers/english';
import MiniSearch from 'minisearch';
import type { Engine } from '../src/engine/types';
import { smollmDryRun } from '../test/support/smollm';

interface Turn {
  speaker: string;
  dia_id: string;
  text: string;
  blip_caption?: string;
}
export interface Conversation {
  sample_id: string;
  conversation: Record<string, unknown>;
  qa: { question: string; evidence?: string[]; category: number }[];
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** "1:56 pm on 8 May, 2023" → ms. */
export function parseLocomoDate(s: string): number {
  const m = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([a-z]+),?\s+(\d{4})/i.exec(s);
  if (!m) throw new Error(`unreadable LoCoMo date "${s}"`);
  const [, h, min, ampm, day, month, year] = m;
  const hour = (Number(h) % 12) + (ampm!.toLowerCase() === 'pm' ? 12 : 0);
  return Date.UTC(Number(year), MONTHS.indexOf(month!.toLowerCase()), Number(day), hour, Number(min));
}

function sessions(c: Conversation): { at: number; turns: Turn[] }[] {
  const out: { at: number; turns: Turn[] }[] = [];
  for (let i = 1; ; i++) {
    const turns = c.conversation[`session_${i}`] as Turn[] | undefined;
    const date = c.conversation[`session_${i}_date_time`] as string | undefined;
    if (!turns || !date) break;
    out.push({ at: parseLocomoDate(date), turns });
  }
  return out;
}

const turnText = (t: Turn) => `${t.speaker}: ${t.text}${t.blip_caption ? ` [shares a photo: ${t.blip_caption}]` : ''}`;
export const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
/** Share of `evidence` among `ids`. */
export const recall = (ids: readonly string[], evidence: Set<string>) => ids.filter((id) => evidence.has(id)).length / evidence.size;

/** A question with evidence, its evidence turns being memories. */
export interface Question {
  question: string;
  evidence: Set<string>;
}

/** The in-run baseline: BM25 with the textbook parameters and the query as asked (Mneme's own defaults are tuned, see README). */
const OKAPI = { k1: 1.2, b: 0.75 };

/** One conversation loaded for its questions: its scheduler, a plain-BM25 index over the same memories, and a close. */
export interface LoadedConversation {
  mneme: Mneme;
  scheduler: Scheduler;
  baseline: Bm25Index;
  /** Lexical peers over the same memories: Mneme's BM25 with its tuned defaults alone, our (textbook) BM25 with @orama/stemmers' English (Porter) stemmer in place of ours (Porter2), and MiniSearch. */
  peers: Record<string, (query: string) => string[]>;
  questions: Question[];
  close(): Promise<void>;
}

/**
 * Replays a conversation into a fresh store: one memory per turn (LoCoMo's
 * shape, not the product's sentences from `observe`), on a clock set to the
 * session dates, a tick after each session. The clock then stops a day after
 * the last session, where the questions are asked.
 */
export async function loadConversation(c: Conversation, embedder?: Embedder): Promise<LoadedConversation> {
  let now = 0;
  const clock = () => now;
  const mneme = await createMneme({ name: `locomo-${c.sample_id}-${crypto.randomUUID()}`, now: clock, ...(embedder && { embedder }) });
  if (embedder && !(await mneme.ready)) throw new Error(`the embedder did not load (model status ${mneme.modelStatus})`);
  const scheduler = await Scheduler.create(mneme, { scope: { userId: 'u' }, clock });
  const baseline = new Bm25Index(OKAPI);
  const tuned = new Bm25Index();
  const porter = new Bm25Index(OKAPI, (text) => tokenize(text, porterStem));
  const mini = new MiniSearch<{ id: string; text: string }>({ fields: ['text'] });
  for (const s of sessions(c)) {
    now = s.at;
    await scheduler.startSession({ sessionId: String(s.at) });
    // A turn every few seconds, so their order (and so their neighbours) is on the clock.
    for (const t of s.turns) {
      now += 5_000;
      await mneme.add({ id: t.dia_id, text: turnText(t), scope: { userId: 'u' }, source: 'user' });
      baseline.upsert(t.dia_id, turnText(t));
      tuned.upsert(t.dia_id, turnText(t));
      porter.upsert(t.dia_id, turnText(t));
      mini.add({ id: t.dia_id, text: turnText(t) });
    }
    await scheduler.tick();
  }
  now += 86_400_000;
  await scheduler.startSession({ sessionId: 'questions' });
  const questions: Question[] = [];
  for (const qa of c.qa) {
    const evidence = new Set((qa.evidence ?? []).flatMap((e) => e.split(/[;,\s]+/)).filter((e) => mneme.peek(e)));
    if (evidence.size > 0) questions.push({ question: qa.question, evidence });
  }
  return {
    mneme,
    scheduler,
    baseline,
    peers: {
      tuned: (q) => tuned.search(q, 10, () => true).map((h) => h.id),
      porter: (q) => porter.search(q, 10, () => true).map((h) => h.id),
      minisearch: (q) => mini.search(q).slice(0, 10).map((r) => r.id as string),
    },
    questions,
    close: async () => {
      scheduler.dispose();
      await mneme.close();
    },
  };
}

async function runConversation(c: Conversation, engine: Engine, acc: Record<string, number[]>) {
  const { scheduler, baseline, peers, questions, close } = await loadConversation(c);
  for (const { question: q, evidence } of questions) {
    // A prewarm the size of the final set, counted from what the cache held.
    const predictor = new Predictor(scheduler, { engine, budget: 10, k: 10, recordRetrieval: false });
    const prewarmedAt: Record<number, Set<string>> = {};
    for (const pct of [25, 50, 75]) {
      const { settled } = await predictor.draft(q.slice(0, Math.round((q.length * pct) / 100)));
      await settled;
      prewarmedAt[pct] = new Set(predictor.heldIds);
    }
    const sent = await predictor.send({ text: q, k: 10 });
    const top = sent.results.map((r) => r.memory.id);
    acc.recall!.push(recall(top, evidence));
    acc.bm25!.push(recall(baseline.search(q, 10, () => true).map((h) => h.id), evidence));
    for (const [name, top] of Object.entries(peers)) (acc[name] ??= []).push(recall(top(q), evidence));
    for (const pct of [25, 50, 75]) acc[`hit${pct}`]!.push(top.length === 0 ? 1 : top.filter((id) => prewarmedAt[pct]!.has(id)).length / top.length);
    acc.atSend!.push(sent.prefillTokensAtSend);
    acc.cold!.push(sent.promptTokens);
  }
  await close();
}

/** The GloVe static model (scripts/gen-static-glove.mjs), served by the bench's server. */
export const GLOVE = { model: 'mneme/glove-6b-100d-50k', modelBaseUrl: '/test/fixtures/generated/models', allowRemote: false } as const;

/**
 * The same questions over memories embedded by the static GloVe model: the scheduler's final
 * ranking (hybrid search plus its signals), Mneme's hybrid search alone, and dense search alone.
 */
async function runStatic(c: Conversation, embedder: Embedder, acc: Record<string, number[]>) {
  const { mneme, scheduler, questions, close } = await loadConversation(c, embedder);
  const dense = new DenseIndex(embedder.ref!.dim);
  const records = [...mneme.records()];
  (await embedder.embed(records.map((m) => m.text))).forEach((v, i) => dense.upsert(records[i]!.id, v));
  for (const { question: q, evidence } of questions) {
    acc.static!.push(recall((await scheduler.search(q, { k: 10 })).map((r) => r.memory.id), evidence));
    acc.staticHybrid!.push(recall((await mneme.searchMemory(q, { scope: { userId: 'u' }, k: 10 })).map((r) => r.memory.id), evidence));
    const [v] = await embedder.embed([q]);
    acc.staticDense!.push(recall(dense.search(v!, 10, () => true).map((h) => h.id), evidence));
  }
  await close();
}

/** The static run's keys; a note in place of numbers when the GloVe model was not generated. */
async function staticRun(conversations: Conversation[]): Promise<Record<string, number | string>> {
  const embedder = createStaticEmbedder(GLOVE);
  try {
    await embedder.load();
  } catch (error) {
    return { 'locomo.recall_at_10.static': `skipped: ${(error as Error).message}` };
  }
  const acc: Record<string, number[]> = { static: [], staticHybrid: [], staticDense: [] };
  for (const c of conversations) await runStatic(c, embedder, acc);
  await embedder.dispose();
  return {
    'locomo.static.model': `${GLOVE.model} (GloVe 6B 100-d, 50k words, model2vec format)`,
    'locomo.recall_at_10.static': mean(acc.static!),
    'locomo.recall_at_10.static.hybrid': mean(acc.staticHybrid!),
    'locomo.recall_at_10.static.dense': mean(acc.staticDense!),
  };
}

/**
 * The product's shape: each turn's words (no speaker name) go through `observe`, which keeps the
 * sentences worth remembering, several per message or none. A memory counts for the turn it came
 * from; a turn that left no memory is a miss. The same questions, through the scheduler with and
 * without neighbour sharing, and plain BM25 over the same memories.
 */
async function runObserved(c: Conversation, acc: Record<string, number[]>): Promise<void> {
  let now = 0;
  const mneme = await createMneme({ name: `locomo-observed-${c.sample_id}-${crypto.randomUUID()}`, now: () => now });
  const options = { scope: { userId: 'u' }, clock: () => now };
  const scheduler = await Scheduler.create(mneme, options);
  const lone = await Scheduler.create(mneme, { ...options, neighbourWeight: 0 });
  const baseline = new Bm25Index(OKAPI);
  const tuned = new Bm25Index();
  const turnOf = new Map<string, string>();
  for (const s of sessions(c)) {
    now = s.at;
    await scheduler.startSession({ sessionId: String(s.at) });
    for (const t of s.turns) {
      now += 5_000;
      for (const m of (await scheduler.observe({ text: `${t.text}${t.blip_caption ? ` [a photo: ${t.blip_caption}]` : ''}` })).created) {
        turnOf.set(m.id, t.dia_id);
        baseline.upsert(m.id, m.text);
        tuned.upsert(m.id, m.text);
      }
      acc.turns!.push(1);
    }
    await scheduler.tick();
  }
  now += 86_400_000;
  await scheduler.startSession({ sessionId: 'questions' });
  const turns = (ids: readonly string[]) => [...new Set(ids.map((id) => turnOf.get(id)!))];
  for (const qa of c.qa) {
    const evidence = new Set((qa.evidence ?? []).flatMap((e) => e.split(/[;,\s]+/)).filter((e) => /^D\d+:\d+$/.test(e)));
    if (evidence.size === 0) continue;
    acc.observed!.push(recall(turns((await scheduler.search(qa.question, { k: 10 })).map((r) => r.memory.id)), evidence));
    acc.observedLone!.push(recall(turns((await lone.search(qa.question, { k: 10 })).map((r) => r.memory.id)), evidence));
    acc.observedBm25!.push(recall(turns(baseline.search(qa.question, 10, () => true).map((h) => h.id)), evidence));
    acc.observedTuned!.push(recall(turns(tuned.search(qa.question, 10, () => true).map((h) => h.id)), evidence));
  }
  acc.memories!.push(turnOf.size);
  lone.dispose();
  scheduler.dispose();
  await mneme.close();
}

async function observedRun(conversations: Conversation[]): Promise<Record<string, number>> {
  const acc: Record<string, number[]> = { observed: [], observedLone: [], observedBm25: [], observedTuned: [], memories: [], turns: [] };
  for (const c of conversations) await runObserved(c, acc);
  return {
    'locomo.observed.memories_per_turn': acc.memories!.reduce((a, b) => a + b, 0) / acc.turns!.length,
    'locomo.observed.recall_at_10': mean(acc.observed!),
    'locomo.observed.recall_at_10.no_neighbours': mean(acc.observedLone!),
    'locomo.observed.recall_at_10.bm25': mean(acc.observedBm25!),
    'locomo.observed.recall_at_10.bm25.tuned': mean(acc.observedTuned!),
  };
}

export async function run(input: { conversations: Conversation[]; label: string }): Promise<Record<string, number | string>> {
  const engine = await smollmDryRun();
  const acc: Record<string, number[]> = { recall: [], bm25: [], hit25: [], hit50: [], hit75: [], atSend: [], cold: [] };
  for (const c of input.conversations) await runConversation(c, engine, acc);
  return {
    'locomo.conversations': input.label,
    'locomo.questions': acc.recall!.length,
    'locomo.dense': 'main run none: lexical + scheduler signals (stand-in embeddings carry no meaning); static run: GloVe',
    'locomo.recall_at_10': mean(acc.recall!),
    'locomo.recall_at_10.bm25': mean(acc.bm25!),
    'locomo.recall_at_10.bm25.tuned': mean(acc.tuned!),
    'locomo.recall_at_10.bm25.porter': mean(acc.porter!),
    'locomo.recall_at_10.minisearch': mean(acc.minisearch!),
    'predict.hit_at_10.p25': mean(acc.hit25!),
    'predict.hit_at_10.p50': mean(acc.hit50!),
    'predict.hit_at_10.p75': mean(acc.hit75!),
    'predict.prefill_tokens_at_send.mean': mean(acc.atSend!),
    'predict.prompt_tokens.mean': mean(acc.cold!),
    ...(await staticRun(input.conversations)),
    ...(await observedRun(input.conversations)),
  };
}
