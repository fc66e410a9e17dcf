// LoCoMo on the scheduler, in headless Chromium (scripts/bench.mjs locomo).
// Each conversation's turns become memories on a clock set to their session
// dates; each question with evidence is typed in steps, and we record evidence
// recall@10 of the final ranking, a plain-BM25 baseline over the same memories,
// and how much of the final top 10 the cache held at 25/50/75% typed (a
// prewarm of 10).
// No dense model: stand-in embeddings carry no meaning, so this is lexical plus
// scheduler signals, and the output says so.
import { createMneme } from '../src/mneme';
import { Predictor } from '../src/scheduler/predict';
import { Scheduler } from '../src/scheduler/scheduler';
import { Bm25Index } from '../src/search/bm25';
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

/** One conversation loaded for its questions: its scheduler, a plain-BM25 index over the same memories, and a close. */
export interface LoadedConversation {
  scheduler: Scheduler;
  baseline: Bm25Index;
  questions: Question[];
  close(): Promise<void>;
}

/**
 * Replays a conversation into a fresh store: one memory per turn (LoCoMo's
 * shape, not the product's sentences from `observe`), on a clock set to the
 * session dates, a tick after each session. The clock then stops a day after
 * the last session, where the questions are asked.
 */
export async function loadConversation(c: Conversation): Promise<LoadedConversation> {
  let now = 0;
  const clock = () => now;
  const mneme = await createMneme({ name: `locomo-${c.sample_id}-${crypto.randomUUID()}`, now: clock });
  const scheduler = await Scheduler.create(mneme, { scope: { userId: 'u' }, clock });
  const baseline = new Bm25Index();
  for (const s of sessions(c)) {
    now = s.at;
    await scheduler.startSession({ sessionId: String(s.at) });
    // A turn every few seconds, so their order (and so their neighbours) is on the clock.
    for (const t of s.turns) {
      now += 5_000;
      await mneme.add({ id: t.dia_id, text: turnText(t), scope: { userId: 'u' }, source: 'user' });
      baseline.upsert(t.dia_id, turnText(t));
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
    scheduler,
    baseline,
    questions,
    close: async () => {
      scheduler.dispose();
      await mneme.close();
    },
  };
}

async function runConversation(c: Conversation, engine: Engine, acc: Record<string, number[]>) {
  const { scheduler, baseline, questions, close } = await loadConversation(c);
  for (const { question: q, evidence } of questions) {
    // A prewarm the size of the final set, counted from what the cache held.
    const predictor = new Predictor(scheduler, { engine, budget: 10, recordRetrieval: false });
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
    for (const pct of [25, 50, 75]) acc[`hit${pct}`]!.push(top.length === 0 ? 1 : top.filter((id) => prewarmedAt[pct]!.has(id)).length / top.length);
    acc.atSend!.push(sent.prefillTokensAtSend);
    acc.cold!.push(sent.promptTokens);
  }
  await close();
}

export async function run(input: { conversations: Conversation[]; label: string }): Promise<Record<string, number | string>> {
  const engine = await smollmDryRun();
  const acc: Record<string, number[]> = { recall: [], bm25: [], hit25: [], hit50: [], hit75: [], atSend: [], cold: [] };
  for (const c of input.conversations) await runConversation(c, engine, acc);
  return {
    'locomo.conversations': input.label,
    'locomo.questions': acc.recall!.length,
    'locomo.dense': 'none: lexical + scheduler signals (stand-in embeddings carry no meaning)',
    'locomo.recall_at_10': mean(acc.recall!),
    'locomo.recall_at_10.bm25': mean(acc.bm25!),
    'predict.hit_at_10.p25': mean(acc.hit25!),
    'predict.hit_at_10.p50': mean(acc.hit50!),
    'predict.hit_at_10.p75': mean(acc.hit75!),
    'predict.prefill_tokens_at_send.mean': mean(acc.atSend!),
    'predict.prompt_tokens.mean': mean(acc.cold!),
  };
}
