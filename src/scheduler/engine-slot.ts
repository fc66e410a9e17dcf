// The one engine of the origin, as the scheduler worker holds it. The first
// worker to load a model takes the origin's engine lock, loads it (the GPU
// engine, or the CPU engine when that fails) and serves it to the other tabs;
// a worker that finds the lock taken drives that tab's engine instead, and
// queues for the lock, so when the owning tab closes it loads its own. Either
// way the engine is guarded: a deleted memory, or another user or role, never
// stays in its cache. Chrome's built-in model exists on pages only: with
// engine 'prompt-api' the worker drives the engine its page serves (on the
// channel servePromptApiEngine returned) rather than loading one.
import { InvalidInputError, MnemeError, ModelError } from '../errors';
import type { LoadProgress } from '../embed/types';
import type { EngineChoice } from '../engine/choose';
import type { createEngine, EngineConfig } from '../engine/create';
import { connectEngine, serveEngine } from '../engine/shared';
import type { Engine } from '../engine/types';
import type { MemoryStore } from '../store/store';
import type { CallerScope } from '../memory/types';
import { GuardedEngine } from './cache-guard';
import { claimOwnership, tryOwnership, type Ownership } from './ownership';

export interface EngineLoaded {
  model: string;
  /** 'webllm', 'prompt-api' or 'transformers'. */
  engine: string;
  reason: string;
  /** Set when the GPU engine failed and the CPU engine answers instead. */
  gpuFailure?: string;
  /** True when another tab of this origin runs the model and this one drives it. */
  shared: boolean;
}

/** The lock (and the channel) naming the origin's engine for a model: tabs asking for the same model share it. */
function engineKey(config: EngineConfig, choice: EngineChoice): string {
  const model = choice.engine === 'webllm' ? config.webllm?.model : config.transformers?.model;
  return `engine:${choice.engine}:${model ?? 'default'}`;
}

/**
 * Makes the engine a config asks for: `createEngine`, or (in the memory-only worker, which must not carry
 * engine code) `engineUnavailable`. Injected, so the worker shell decides what its bundle contains.
 */
export type EngineFactory = (config: EngineConfig) => ReturnType<typeof createEngine>;

/** The factory of the memory-only build, which imports no engine. @throws ModelError('model-load-failed') always */
export const engineUnavailable: EngineFactory = () =>
  Promise.reject(
    new ModelError(
      'model-load-failed',
      "This is Mneme's memory-only build (the drop-in's dist/memory/ folder): it has no on-device engine. Serve the full folder (dist/: mneme.js, mneme-worker.js and assets/) to load one.",
    ),
  );

type Created = Awaited<ReturnType<EngineFactory>>;

interface Held {
  engine: GuardedEngine;
  raw: Engine;
  loaded: EngineLoaded;
  /** Stops serving the engine to other tabs (owner only). */
  stopServing?: () => void;
}

export class EngineSlot {
  private held: Held | undefined;
  private loading: Promise<EngineLoaded> | undefined;
  private ownership: Ownership | undefined;
  private closed = false;

  constructor(
    private readonly store: MemoryStore,
    private readonly context: () => CallerScope,
    /** Called with the guarded engine whenever the one that prewarms and answers changes. */
    private readonly onEngine: (engine: Engine) => void,
    private readonly createEngine: EngineFactory,
  ) {}

  get loaded(): EngineLoaded | undefined {
    return this.held?.loaded;
  }

  /** Loads the engine once (later calls get the one loaded): here when this origin has none, else the other tab's. */
  load(config: EngineConfig, onProgress?: (progress: LoadProgress) => void): Promise<EngineLoaded> {
    if (this.held) return Promise.resolve(this.held.loaded);
    this.loading ??= this.acquire(config, onProgress).finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async acquire(config: EngineConfig, onProgress?: (progress: LoadProgress) => void): Promise<EngineLoaded> {
    if (config.engine === 'prompt-api') return this.adoptPage(config, onProgress);
    const created = await this.createEngine(config); // no model is fetched until load
    const key = engineKey(config, created.choice);
    const locks = typeof navigator !== 'undefined' && navigator.locks !== undefined;
    const owner = locks ? await tryOwnership(key) : undefined;
    if (locks && !owner) {
      await created.engine.dispose();
      const loaded = await this.adopt(connectEngine({ channelName: key }), (info) => ({ engine: info.engine, reason: `another tab of this site runs ${info.model}; this tab uses it, so the model is loaded once`, shared: true }), onProgress);
      this.awaitTakeover(config, key);
      return loaded;
    }
    this.ownership = owner;
    try {
      return await this.loadHere(config, key, onProgress, created);
    } catch (error) {
      owner?.release();
      this.ownership = undefined;
      throw error;
    }
  }

  /** The configured engine (or the CPU engine when a GPU one fails), served to the other tabs. */
  private async loadHere(config: EngineConfig, key: string, onProgress?: (progress: LoadProgress) => void, created?: Created): Promise<EngineLoaded> {
    const { engine, choice } = created ?? (await this.createEngine(config));
    try {
      await this.adopt(engine, () => ({ engine: choice.engine, reason: choice.reason, shared: false }), onProgress);
    } catch (error) {
      if (choice.engine !== 'webllm') throw error;
      const cpu = await this.createEngine({ ...config, engine: 'transformers' });
      const gpuFailure = error instanceof Error ? error.message : String(error);
      await this.adopt(cpu.engine, () => ({ engine: cpu.choice.engine, reason: cpu.choice.reason, gpuFailure, shared: false }), onProgress);
    }
    const held = this.held!;
    if (this.ownership) held.stopServing = serveEngine(held.raw, key);
    return held.loaded;
  }

  /** The Prompt API engine the page serves (the API exists on pages only), driven over its channel. */
  private adoptPage(config: EngineConfig, onProgress?: (progress: LoadProgress) => void): Promise<EngineLoaded> {
    const channelName = config.promptApi?.channel;
    if (channelName === undefined) {
      throw new InvalidInputError('invalid-input', "engine 'prompt-api' runs on the page: create it there with servePromptApiEngine() and pass its channel as promptApi.channel");
    }
    const reason = "the page serves Chrome's built-in model (the Prompt API exists on pages only) and this worker drives it";
    return this.adopt(connectEngine({ channelName }), (info) => ({ engine: info.engine, reason, shared: false }), onProgress);
  }

  /** Resolves once no load or takeover is under way (a send waits for it rather than use an engine that is going). */
  async settled(): Promise<void> {
    await this.loading?.catch(() => undefined);
  }

  /** When the tab that owns the engine closes, this one loads its own; sends wait for it (`settled`). */
  private awaitTakeover(config: EngineConfig, key: string): void {
    const queued = claimOwnership(key);
    this.ownership = queued;
    void queued.owned.then(() => {
      if (this.closed) return queued.release();
      this.loading = this.takeOver(config, key).finally(() => (this.loading = undefined));
      this.loading.catch(() => undefined); // memory goes on; the next load reports it
    });
  }

  private async takeOver(config: EngineConfig, key: string): Promise<EngineLoaded> {
    const shared = this.held!;
    try {
      const loaded = await this.loadHere(config, key);
      await shared.raw.dispose();
      return loaded;
    } catch (error) {
      await shared.raw.dispose();
      this.held = undefined;
      throw error;
    }
  }

  private async adopt(engine: Engine, describe: (info: { engine: string; model: string }) => Omit<EngineLoaded, 'model'>, onProgress?: (progress: LoadProgress) => void): Promise<EngineLoaded> {
    try {
      const info = await engine.load(onProgress ? { onProgress } : {});
      const guarded = new GuardedEngine(engine, this.store, { context: this.context });
      this.held = { engine: guarded, raw: engine, loaded: { ...describe(info), model: info.model } };
      this.onEngine(guarded);
      return this.held.loaded;
    } catch (error) {
      await engine.dispose().catch(() => undefined);
      throw error instanceof MnemeError ? error : new ModelError('model-load-failed', `The engine could not load its model: ${String(error)}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const held = this.held;
    this.held = undefined;
    held?.stopServing?.();
    await held?.engine.dispose();
    this.ownership?.release();
  }
}
