// The scheduler as a worker service: the store, its index, the scheduler, the
// prediction core's runner and the origin's one engine (engine-slot.ts) all
// live in the worker; the page only posts drafts and sends.
// Drafts are debounced here, so a page can post every keystroke: a draft that
// a newer one replaces within the debounce resolves as superseded.
import { InvalidInputError } from '../errors';
import { resolveStaticEmbedderConfig, type StaticEmbedderConfig } from '../embed/static-config';
import type { EmbeddingRef, LoadProgress } from '../embed/types';
import type { EngineConfig } from '../engine/create';
import type { TransformersEngineConfig } from '../engine/transformers';
import type { HistoryTurn } from '../engine/layout';
import type { Engine, TokenChunk } from '../engine/types';
import { createMneme, type Mneme } from '../mneme';
import { isVisible } from '../memory/scope';
import type { CallerScope, MemoryRecord } from '../memory/types';
import type { ExportDocument, ImportReport } from '../store/transfer';
import type { CallContext, ServiceHandler } from '../rpc/protocol';
import type { Transition } from './lifecycle';
import { SnapshotDirectory, type SnapshotDirectoryOptions } from '../engine/snapshot/directory';
import { EmbedderSlot, type EmbedderFactory } from './embedder-slot';
import { EngineSlot, type EngineFactory, type EngineLoaded } from './engine-slot';
import { KvKeeper, type KvKeeperOptions, type RestoreReport, type SaveReport, type SnapshotRow } from './kv-keeper';
import { Predictor, type SendReport } from './predict';
import type { ScheduledResult } from './rank';
import { Scheduler } from './scheduler';

export type { EngineLoaded };

export interface SchedulerWorkerConfig {
  /** IndexedDB name. Default 'mneme'. */
  dbName?: string;
  scope: CallerScope;
  /** The transformers.js engine to prewarm and answer with; without one, drafts are predicted but nothing is prewarmed. */
  engine?: TransformersEngineConfig;
  /**
   * A static (model2vec) embedder, run in this worker: memories are embedded (the ones stored before, in the
   * background) and drafts ranked by meaning too, not only by their words. Without one, search is lexical.
   * A relative `modelBaseUrl` resolves against the worker's URL: the page's client makes it absolute first.
   */
  embedder?: StaticEmbedderConfig;
  /** Wait this long after a keystroke before predicting (a search in this worker; prewarms follow whole words). Default 50 ms. */
  debounceMs?: number;
  /**
   * The saved KV snapshot of the stable prefix (src/scheduler/kv-keeper.ts): how long things stay quiet before a changed
   * prefix is saved, and the most bytes all snapshots of this database take in OPFS. False: none is saved or restored.
   */
  kvSnapshots?: false | (Pick<KvKeeperOptions, 'settleMs'> & Pick<SnapshotDirectoryOptions, 'capBytes'>);
}

/** The saved KV snapshots: what the restore on load did, the last save, and every snapshot of this database (the inspector's list). */
export interface KvSnapshotView {
  restore: RestoreReport | undefined;
  lastSave: SaveReport | undefined;
  snapshots: SnapshotRow[];
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

/**
 * A draft's outcome, once its prewarm settled: what was predicted, whether a prewarm ran, and how many
 * of the predicted memories the engine's cache holds now (as it reported, not as asked).
 */
export type DraftView = { superseded: true } | { superseded: false; text: string; predicted: MemoryView[]; prewarmed: boolean; held: number };

/** A message to send: `answer: false` only picks the memories (for the page's own model). */
export interface SendMessage {
  text: string;
  /** Final memories. Default 5. */
  k?: number;
  /** The conversation so far, as the caller keeps it; otherwise the worker's own. */
  history?: HistoryTurn[];
  system?: string;
  maxTokens?: number;
  answer?: boolean;
}

/** One send, as the page shows it (the runner's SendReport with memories as views); token figures come from what the engine's cache held. */
export interface SendView extends Omit<SendReport, 'results' | 'seen' | 'ttftMs'> {
  /** The final set, ranked. */
  results: MemoryView[];
  /** Exactly the working memories the model saw, in prompt order. */
  seen: MemoryView[];
  /** Whether an engine answered (finishReason is not 'none'). */
  answered: boolean;
  /** From the send reaching the worker to the first token there (the page adds its own hop). */
  workerTtftMs: number;
}

export interface SchedulerService {
  open(config: SchedulerWorkerConfig): Promise<{ memories: number; engine: string }>;
  startSession(options: { sessionId?: string; role?: string; agentId?: string }): Promise<Transition[]>;
  observe(message: { text: string; role?: 'user' | 'assistant' }): Promise<{ created: number; mentioned: number }>;
  /** Predicts (and, with an engine, prewarms) for a draft; `onPredicted` hears the prediction before the prewarm settles. */
  draft(text: string, onPredicted?: (predicted: MemoryView[]) => void): Promise<DraftView>;
  /** The conversation the next prompt continues, as the page keeps it (restored after a reload, or cleared). */
  setConversation(history: HistoryTurn[], system?: string): Promise<void>;
  /** Picks the memories and, with an engine, answers on it; chunks stream through `onChunk`. */
  send(message: SendMessage, onChunk?: (chunk: TokenChunk) => void): Promise<SendView>;
  search(query: string, k: number): Promise<MemoryView[]>;
  tick(): Promise<Transition[]>;
  /**
   * Loads the one engine that prewarms and answers (once: later calls get the loaded one). A GPU engine
   * that fails falls back to the CPU engine; a failure of both leaves memory working.
   */
  loadEngine(config: EngineConfig, onProgress?: (progress: LoadProgress) => void): Promise<EngineLoaded>;
  /**
   * Waits for the embedder of `open`'s config to load, its progress through `onProgress`; resolves with its model
   * once drafts rank by meaning (undefined without one). Rejects with its ModelError when it could not load: memory
   * and lexical search go on, and nothing stored is lost.
   */
  embedderReady(onProgress?: (progress: LoadProgress) => void): Promise<EmbeddingRef | undefined>;
  /** Every memory of the user (or those matching `query`), hottest first. */
  inspect(query?: string): Promise<MemoryRow[]>;
  edit(id: string, text: string): Promise<void>;
  remove(id: string): Promise<void>;
  exportAll(): Promise<ExportDocument>;
  importAll(doc: unknown): Promise<ImportReport>;
  /** The saved KV snapshots; with `save`, the stable prefix is saved first if it changed (rather than after the quiet time). */
  kvSnapshots(options?: { save?: boolean }): Promise<KvSnapshotView>;
  close(): Promise<void>;
}

const view = (r: ScheduledResult): MemoryView => ({ id: r.memory.id, text: r.memory.text, tier: r.memory.tier, score: r.score, reasons: r.reasons });

function row(scheduler: Scheduler, m: MemoryRecord, now: number, working: ReadonlySet<string>): MemoryRow {
  const tier = working.has(m.id) && m.tier !== 'activated' ? 'working' : m.tier;
  return { id: m.id, text: m.text, tier, heat: scheduler.state.heatOf(m.id, now), theme: scheduler.state.themeSummary(m.id, now)?.label, tags: [...m.tags], updatedAt: m.updatedAt };
}

function sendView(report: SendReport): SendView {
  const { results, seen, ttftMs, ...figures } = report;
  const byId = new Map(results.map((r) => [r.memory.id, view(r)]));
  return {
    ...figures,
    results: results.map(view),
    seen: seen.map((m) => byId.get(m.id) ?? { id: m.id, text: m.text, tier: m.tier, score: 0, reasons: ['held in the cache from the prediction while typing'] }),
    answered: report.finishReason !== 'none',
    workerTtftMs: ttftMs,
  };
}

interface Opened {
  mneme: Mneme;
  scheduler: Scheduler;
  /** The one runner of the prediction core; replaced when the engine changes. */
  predictor: Predictor;
  engine: EngineSlot;
  embedder: EmbedderSlot;
  debounceMs: number;
  /** Keeps the engine's stable prefix across reloads; replaced with the engine. */
  kv: { keeper: KvKeeper; imported: Promise<void> } | undefined;
}

type MemoryHandlers = Pick<ServiceHandler<SchedulerService>, 'inspect' | 'edit' | 'remove' | 'exportAll' | 'importAll'>;

/** What the memory inspector asks of the worker: every memory with its tier, heat and theme, edits and deletes, export and import. */
function memoryHandlers(live: () => Opened): MemoryHandlers {
  return {
    async inspect(_c, query) {
      const { scheduler, mneme, predictor } = live();
      const now = Date.now();
      const working = new Set(predictor.working);
      // A search here finds what matches (hybrid search), not what the scheduler would add by heat.
      const records = query?.trim() ? (await mneme.searchMemory(query, { scope: scheduler.scope, k: 200 })).map((r) => r.memory) : [...mneme.records()].filter((m) => isVisible(m.scope, scheduler.scope));
      const rows = records.map((m) => row(scheduler, m, now, working));
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
  };
}

export interface SchedulerServiceOptions {
  /** Makes the engine `loadEngine` asks for: `createEngine` (engine/create.ts), or `engineUnavailable` in the memory-only worker. */
  createEngine: EngineFactory;
  /** Makes the embedder `open`'s config names: `createStaticEmbedder` (embed/static.ts), or `embedderUnavailable` in the memory-only worker. */
  createEmbedder: EmbedderFactory;
}

/** Restores the snapshot of the current user, role and model (or prefills its prefix), then saves once it settles. */
function restoreKv(kv: NonNullable<Opened['kv']>): void {
  const { imported, done } = kv.keeper.restore();
  kv.imported = imported;
  void done.then(() => kv.keeper.schedule()).catch(() => undefined); // a failed restore only means a cold first message
}

/**
 * Opens the store (with the config's embedder, made here and loaded in the background) and the scheduler; each engine
 * the slot loads gets a predictor and, unless turned off, a KV keeper.
 */
async function openWorker(config: SchedulerWorkerConfig, factories: SchedulerServiceOptions): Promise<Opened> {
  const embedder = config.embedder === undefined ? undefined : factories.createEmbedder(resolveStaticEmbedderConfig(config.embedder, globalThis.location?.href));
  const mneme = await createMneme({ ...(config.dbName !== undefined && { name: config.dbName }), ...(embedder && { embedder }) });
  const scheduler = await Scheduler.create(mneme, { scope: config.scope });
  const kv = config.kvSnapshots === false ? undefined : (config.kvSnapshots ?? {});
  const directory = kv && new SnapshotDirectory({ folder: `mneme-kv-${config.dbName ?? 'mneme'}`, sealer: mneme.store.bytesSealer, ...(kv.capBytes !== undefined && { capBytes: kv.capBytes }) });
  const onEngine = (engine: Engine) => {
    const history = target.predictor.history;
    target.predictor = new Predictor(scheduler, { engine });
    target.predictor.setConversation(history); // a new engine continues the same conversation
    target.kv?.keeper.dispose();
    target.kv = undefined;
    if (!directory) return;
    const keeper = new KvKeeper(engine, mneme.store, {
      directory,
      scope: () => scheduler.contextScope,
      stable: () => ({ system: target.predictor.system, activated: scheduler.activatedRecords() }),
      ...(kv?.settleMs !== undefined && { settleMs: kv.settleMs }),
    });
    target.kv = { keeper, imported: Promise.resolve() };
    restoreKv(target.kv);
  };
  const target: Opened = { mneme, scheduler, predictor: new Predictor(scheduler), engine: new EngineSlot(mneme.store, () => scheduler.contextScope, onEngine, factories.createEngine), embedder: new EmbedderSlot(mneme, embedder), debounceMs: config.debounceMs ?? 50, kv: undefined };
  return target;
}

type PredictionHandlers = Pick<ServiceHandler<SchedulerService>, 'draft' | 'setConversation' | 'send'>;

/** The keystroke-to-first-token path: drafts debounced here, then predicted and prewarmed; sends answered. */
function predictionHandlers(live: () => Opened): PredictionHandlers {
  let latestDraft = 0;
  return {
    async draft(context, text, onPredicted) {
      const { debounceMs } = live();
      const mine = ++latestDraft;
      await sleep(debounceMs, context.signal);
      if (mine !== latestDraft || context.signal.aborted) return { superseded: true };
      const { predictor } = live();
      const { results, prewarmed, settled } = await predictor.draft(text);
      if (mine !== latestDraft) return { superseded: true }; // the core dropped it for a newer one
      const predicted = results.map(view);
      await onPredicted?.(predicted);
      await settled;
      live().kv?.keeper.schedule();
      if (mine !== latestDraft) return { superseded: true };
      const held = new Set(predictor.heldIds);
      return { superseded: false, text, predicted, prewarmed, held: predicted.filter((m) => held.has(m.id)).length };
    },
    async setConversation(_c, history, system) {
      live().predictor.setConversation(history, system);
    },
    async send(context, message, onChunk) {
      latestDraft++; // any pending draft is stale now
      await live().engine.settled();
      await live().kv?.imported; // a restored prefix lands before the send's prompt, not after it
      const report = await live().predictor.send({ ...message, signal: context.signal, ...(onChunk && { onChunk }) });
      live().kv?.keeper.schedule();
      return sendView(report);
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

export function createSchedulerService(options: SchedulerServiceOptions): ServiceHandler<SchedulerService> {
  let opened: Opened | undefined;
  const live = () => {
    if (!opened) throw new InvalidInputError('invalid-input', 'The scheduler worker is not open; call open({ scope }) first.');
    return opened;
  };

  return {
    async open(_c: CallContext, config) {
      if (opened) throw new InvalidInputError('invalid-input', 'The scheduler worker is already open.');
      opened = await openWorker(config, options);
      if (config.engine) await opened.engine.load({ engine: 'transformers', transformers: config.engine });
      return { memories: opened.mneme.size, engine: opened.engine.loaded?.model ?? 'none' };
    },
    async loadEngine(_c, config, onProgress) {
      return live().engine.load(config, onProgress);
    },
    async embedderReady(context, onProgress) {
      return live().embedder.ready(onProgress, context.signal);
    },
    ...memoryHandlers(live),
    async startSession(_c, options) {
      const transitions = await live().scheduler.startSession(options);
      const { kv } = live();
      if (kv) restoreKv(kv); // another user or role has its own snapshot: restored (or its prefix prefilled) as at load
      return transitions;
    },
    async observe(_c, message) {
      const out = await live().scheduler.observe(message);
      await live().scheduler.tick();
      return { created: out.created.length, mentioned: out.mentioned.length };
    },
    ...predictionHandlers(live),
    async search(_c, query, k) {
      return (await live().scheduler.search(query, { k })).map(view);
    },
    async tick() {
      return live().scheduler.tick();
    },
    async kvSnapshots(_c, options) {
      const { kv } = live();
      if (!kv) return { restore: undefined, lastSave: undefined, snapshots: [] };
      if (options?.save) await kv.keeper.save();
      return { restore: kv.keeper.restored, lastSave: kv.keeper.lastSave, snapshots: await kv.keeper.list() };
    },
    async close() {
      if (!opened) return;
      opened.kv?.keeper.dispose();
      await opened.scheduler.dispose(); // saves themes placed since the last save
      await opened.engine.close();
      await opened.mneme.close();
      await opened.embedder.dispose();
      opened = undefined;
    },
  };
}
