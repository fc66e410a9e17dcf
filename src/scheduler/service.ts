// The scheduler as a worker service: the store, its index, the scheduler and
// the predictor all live in the worker; the page only posts drafts and sends.
// Drafts are debounced here, so a page can post every keystroke: a draft that
// a newer one replaces within the debounce resolves as superseded.
import { InvalidInputError } from '../errors';
import { createTransformersEngine, type TransformersEngineConfig } from '../engine/transformers';
import type { Engine } from '../engine/types';
import { createMneme, type Mneme } from '../mneme';
import type { CallerScope } from '../memory/types';
import type { CallContext, ServiceHandler } from '../rpc/protocol';
import type { Transition } from './lifecycle';
import { Predictor } from './predict';
import type { ScheduledResult } from './rank';
import { Scheduler } from './scheduler';

export interface SchedulerWorkerConfig {
  /** IndexedDB name. Default 'mneme'. */
  dbName?: string;
  scope: CallerScope;
  /** The transformers.js engine to prewarm and answer with; without one, drafts are predicted but nothing is prewarmed. */
  engine?: TransformersEngineConfig;
  /** Wait this long after a keystroke before predicting. Default 120 ms. */
  debounceMs?: number;
}

/** A memory as the page shows it. */
export interface MemoryView {
  id: string;
  text: string;
  tier: string;
  score: number;
  reasons: string[];
}

export type DraftView = { superseded: true } | { superseded: false; predicted: MemoryView[]; prewarmed: boolean };

export interface SendView {
  results: MemoryView[];
  reply: string;
  prewarmHit: number;
  prefillTokensAtSend: number;
  prefillTokensCold: number;
  ttftMs: number;
}

export interface SchedulerService {
  open(config: SchedulerWorkerConfig): Promise<{ memories: number; engine: string }>;
  startSession(options: { sessionId?: string; role?: string; agentId?: string }): Promise<Transition[]>;
  observe(message: { text: string; role?: 'user' | 'assistant' }): Promise<{ created: number; mentioned: number }>;
  draft(text: string): Promise<DraftView>;
  send(text: string, k: number): Promise<SendView>;
  search(query: string, k: number): Promise<MemoryView[]>;
  tick(): Promise<Transition[]>;
  close(): Promise<void>;
}

const view = (r: ScheduledResult): MemoryView => ({ id: r.memory.id, text: r.memory.text, tier: r.memory.tier, score: r.score, reasons: r.reasons });

export function createSchedulerService(): ServiceHandler<SchedulerService> {
  let opened: { mneme: Mneme; scheduler: Scheduler; predictor: Predictor | undefined; engine: Engine | undefined; debounceMs: number } | undefined;
  let latestDraft = 0;
  const live = () => {
    if (!opened) throw new InvalidInputError('invalid-input', 'The scheduler worker is not open; call open({ scope }) first.');
    return opened;
  };
  const wait = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });

  return {
    async open(_c: CallContext, config) {
      if (opened) throw new InvalidInputError('invalid-input', 'The scheduler worker is already open.');
      const mneme = await createMneme({ ...(config.dbName !== undefined && { name: config.dbName }) });
      const scheduler = await Scheduler.create(mneme, { scope: config.scope });
      const engine = config.engine ? createTransformersEngine(config.engine) : undefined;
      if (engine) await engine.load();
      const predictor = engine && new Predictor(scheduler, { engine });
      opened = { mneme, scheduler, predictor, engine, debounceMs: config.debounceMs ?? 120 };
      return { memories: mneme.size, engine: engine?.info?.model ?? 'none' };
    },
    async startSession(_c, options) {
      return live().scheduler.startSession(options);
    },
    async observe(_c, message) {
      const out = await live().scheduler.observe(message);
      await live().scheduler.tick();
      return { created: out.created.length, mentioned: out.mentioned.length };
    },
    async draft(context, text) {
      const { scheduler, predictor, debounceMs } = live();
      const mine = ++latestDraft;
      await wait(debounceMs, context.signal);
      if (mine !== latestDraft || context.signal.aborted) return { superseded: true };
      if (predictor) {
        const { results, prewarmed } = await predictor.draft(text);
        return { superseded: false, predicted: results.map(view), prewarmed };
      }
      return { superseded: false, predicted: (await scheduler.search(text, { k: 20, draft: true })).map(view), prewarmed: false };
    },
    async send(_c, text, k) {
      const { scheduler, predictor } = live();
      latestDraft++; // any pending draft is stale now
      if (!predictor) {
        const results = await scheduler.search(text, { k });
        await scheduler.retrieved(results.map((r) => r.memory.id));
        return { results: results.map(view), reply: '', prewarmHit: 0, prefillTokensAtSend: 0, prefillTokensCold: 0, ttftMs: 0 };
      }
      const sent = await predictor.send(text, k);
      return { ...sent, results: sent.results.map(view) };
    },
    async search(_c, query, k) {
      return (await live().scheduler.search(query, { k })).map(view);
    },
    async tick() {
      return live().scheduler.tick();
    },
    async close() {
      if (!opened) return;
      opened.scheduler.dispose();
      await opened.engine?.dispose();
      await opened.mneme.close();
      opened = undefined;
    },
  };
}
