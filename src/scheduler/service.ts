// The scheduler as a worker service: the store, its index, the scheduler and
// the predictor all live in the worker; the page only posts drafts and sends.
// Drafts are debounced here, so a page can post every keystroke: a draft that
// a newer one replaces within the debounce resolves as superseded.
import { InvalidInputError, MnemeError, ModelError } from '../errors';
import type { LoadProgress } from '../embed/types';
import { createEngine, type EngineConfig } from '../engine/create';
import { createTransformersEngine, type TransformersEngineConfig } from '../engine/transformers';
import type { Engine } from '../engine/types';
import { createMneme, type Mneme } from '../mneme';
import { isVisible } from '../memory/scope';
import type { CallerScope, MemoryRecord } from '../memory/types';
import type { ExportDocument, ImportReport } from '../store/transfer';
import type { CallContext, ServiceHandler } from '../rpc/protocol';
import type { Transition } from './lifecycle';
import { GuardedEngine } from './cache-guard';
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

/** A memory as the inspector shows it: its tier, heat and theme. */
export interface MemoryRow {
  id: string;
  text: string;
  tier: string;
  heat: number;
  theme: string | undefined;
  tags: string[];
  updatedAt: number;
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
  /** Loads the engine that prewarms and answers (after `open` without one); a failure leaves memory working. */
  loadEngine(config: EngineConfig, onProgress?: (progress: LoadProgress) => void): Promise<{ model: string; engine: string; reason: string }>;
  /** Every memory of the user (or those matching `query`), hottest first. */
  inspect(query?: string): Promise<MemoryRow[]>;
  edit(id: string, text: string): Promise<void>;
  remove(id: string): Promise<void>;
  exportAll(): Promise<ExportDocument>;
  importAll(doc: unknown): Promise<ImportReport>;
  close(): Promise<void>;
}

const view = (r: ScheduledResult): MemoryView => ({ id: r.memory.id, text: r.memory.text, tier: r.memory.tier, score: r.score, reasons: r.reasons });

function row(scheduler: Scheduler, m: MemoryRecord, now: number): MemoryRow {
  return { id: m.id, text: m.text, tier: m.tier, heat: scheduler.state.heatOf(m.id, now), theme: scheduler.state.themeSummary(m.id, now)?.label, tags: [...m.tags], updatedAt: m.updatedAt };
}

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

  /** Loads an engine for the open scheduler; the old one (if any) is disposed. */
  const load = async (engine: Engine, onProgress?: (progress: LoadProgress) => void): Promise<string> => {
    const target = live();
    try {
      const info = await engine.load(onProgress ? { onProgress } : {});
      await target.engine?.dispose();
      // Guarded: a deleted memory, or another user or role, never stays in the engine's cache.
      const guarded = new GuardedEngine(engine, target.mneme.store, { context: () => target.scheduler.contextScope });
      target.engine = guarded;
      target.predictor = new Predictor(target.scheduler, { engine: guarded });
      return info.model;
    } catch (error) {
      await engine.dispose().catch(() => undefined);
      throw error instanceof MnemeError ? error : new ModelError('model-load-failed', `The engine could not load its model: ${String(error)}`);
    }
  };

  return {
    async open(_c: CallContext, config) {
      if (opened) throw new InvalidInputError('invalid-input', 'The scheduler worker is already open.');
      const mneme = await createMneme({ ...(config.dbName !== undefined && { name: config.dbName }) });
      const scheduler = await Scheduler.create(mneme, { scope: config.scope });
      opened = { mneme, scheduler, predictor: undefined, engine: undefined, debounceMs: config.debounceMs ?? 120 };
      if (config.engine) await load(createTransformersEngine(config.engine));
      return { memories: mneme.size, engine: opened.engine?.info?.model ?? 'none' };
    },
    async loadEngine(_c, config, onProgress) {
      const { engine, choice } = await createEngine(config);
      return { model: await load(engine, onProgress), engine: choice.engine, reason: choice.reason };
    },
    async inspect(_c, query) {
      const { scheduler, mneme } = live();
      const now = Date.now();
      // A search here finds what matches (hybrid search), not what the scheduler would add by heat.
      const records = query?.trim() ? (await mneme.searchMemory(query, { scope: scheduler.scope, k: 200 })).map((r) => r.memory) : [...mneme.records()].filter((m) => isVisible(m.scope, scheduler.scope));
      const rows = records.map((m) => row(scheduler, m, now));
      return query?.trim() ? rows : rows.sort((a, b) => b.heat - a.heat || b.updatedAt - a.updatedAt);
    },
    async edit(_c, id, text) {
      await live().mneme.update(id, { text });
    },
    async remove(_c, id) {
      await live().mneme.remove(id);
    },
    async exportAll() {
      const { mneme, scheduler } = live();
      return mneme.exportMemories({ scope: scheduler.scope });
    },
    async importAll(_c, doc) {
      return live().mneme.importMemories(doc);
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
