// The engine primitives on WebLLM: append tokens and sample, roll back, reset,
// snapshot and restore. Rollback uses, best first, the runtime's
// `vm.builtin.kv_state_popn` (keeping WebLLM's `filledKVCacheLength` in step),
// else KV checkpoints (export the pages to CPU memory, import them back), else
// only a reset. Which one is detected once, when the model has loaded.
// WebLLM takes no lock for any of these calls: the caller serializes them
// (CacheDriver's queue).
import { InvalidInputError, ModelError } from '../../errors';
import type { EngineCapabilities, EnginePrimitives, RollbackKind, SnapshotId } from '../types';
import { findGlobalFunc, KV_CHECKPOINT_FUNCS, KV_POPN, type KvCheckpoint, type MlcEngineLike, type PackedFunc, type PipelineLike } from './internals';

export interface WebLLMPrimitives extends EnginePrimitives {
  /** Why this rollback kind, for the engine's report. */
  readonly rollbackNote: string;
  /** Frees the runtime functions and checkpoints held here. */
  dispose(): void;
}

export function createWebLLMPrimitives(engine: MlcEngineLike, pipeline: PipelineLike): WebLLMPrimitives {
  const { popn, canCheckpoint, rollback, rollbackNote } = detectRollback(pipeline);
  const contextLength = pipeline.contextWindowSize > 0 ? pipeline.contextWindowSize : pipeline.slidingWindowSize;
  const capabilities: EngineCapabilities = Object.freeze({ rollback, snapshots: canCheckpoint, contextLength });
  const checkpoints = new Map<SnapshotId, KvCheckpoint>();
  const primitives: WebLLMPrimitives = {
    capabilities,
    rollbackNote,
    get length() {
      return pipeline.filledKVCacheLength;
    },
    async append(tokens, { sample }) {
      if (tokens.length === 0) throw new InvalidInputError('invalid-input', 'append needs at least one token');
      // One token is a decode step, more a prefill (WebLLM's artifact models accept only one token in decode).
      const next = await engine.forwardTokensAndSample([...tokens], tokens.length > 1);
      return sample ? next : undefined;
    },
    async rollback(length) {
      const held = pipeline.filledKVCacheLength;
      if (!Number.isInteger(length) || length < 0 || length > held) {
        throw new InvalidInputError('invalid-input', `Cannot roll a cache of ${held} tokens back to ${length}`);
      }
      if (!popn) throw new ModelError('generation-failed', `This model cannot roll back in place (${rollbackNote})`);
      if (length === held) return;
      // Older TVM runtimes refuse to pop a whole sequence (PopN: CHECK_LT(n, seq_length)); emptying is a reset.
      if (length === 0) return engine.resetChat();
      popInPlace(pipeline, popn, held - length);
    },
    async reset() {
      await engine.resetChat();
    },
    dispose() {
      popn?.dispose?.();
      checkpoints.clear();
    },
  };
  return canCheckpoint ? Object.assign(primitives, checkpointing(engine, pipeline, checkpoints)) : primitives;
}

/** Which rollback this model's runtime allows, best first, and why, for the engine's report. */
function detectRollback(pipeline: PipelineLike): { popn: PackedFunc | undefined; canCheckpoint: boolean; rollback: RollbackKind; rollbackNote: string } {
  const plainKv = pipeline.kvCache !== undefined && pipeline.kvCache !== null && (pipeline.rnnState === undefined || pipeline.rnnState === null);
  const popn = plainKv && pipeline.slidingWindowSize === -1 ? findGlobalFunc(pipeline.tvm, KV_POPN) : undefined;
  const canCheckpoint =
    plainKv &&
    typeof pipeline.exportPromptCheckpoint === 'function' &&
    typeof pipeline.importPromptCheckpoint === 'function' &&
    KV_CHECKPOINT_FUNCS.every((name) => hasGlobalFunc(pipeline, name));
  const rollback: RollbackKind = popn ? 'popn' : canCheckpoint ? 'checkpoint' : 'reset';
  const rollbackNote = popn
    ? `${KV_POPN} found: rollback drops tokens in place`
    : canCheckpoint
      ? `no ${KV_POPN}${plainKv ? '' : ' (the model keeps recurrent state)'}; KV checkpoints found: rollback restores a held prefix`
      : `neither ${KV_POPN} nor KV checkpoints in this model's runtime: rollback resets and prefills again`;
  return { popn, canCheckpoint, rollback, rollbackNote };
}

/** Drops the last `n` tokens of the runtime's cache, and makes WebLLM's own count follow. */
function popInPlace(pipeline: PipelineLike, popn: PackedFunc, n: number): void {
  const { tvm } = pipeline;
  tvm.beginScope();
  try {
    popn(pipeline.kvCache, tvm.scalar(0, 'int64'), tvm.scalar(n, 'int64'));
  } finally {
    tvm.endScope();
  }
  pipeline.filledKVCacheLength -= n;
}

/** Snapshots as KV checkpoints: the pages exported to CPU memory, imported back on restore. */
function checkpointing(engine: MlcEngineLike, pipeline: PipelineLike, checkpoints: Map<SnapshotId, KvCheckpoint>): Required<Pick<EnginePrimitives, 'snapshot' | 'restore' | 'dropSnapshot'>> {
  const exportCheckpoint = (pipeline.exportPromptCheckpoint as NonNullable<PipelineLike['exportPromptCheckpoint']>).bind(pipeline);
  const importCheckpoint = (pipeline.importPromptCheckpoint as NonNullable<PipelineLike['importPromptCheckpoint']>).bind(pipeline);
  let nextSnapshot = 1;
  return {
    async snapshot(): Promise<SnapshotId> {
      const checkpoint = await exportCheckpoint(undefined, false);
      if (!checkpoint) throw new ModelError('generation-failed', 'WebLLM could not export a KV checkpoint of this model');
      const id = nextSnapshot++;
      checkpoints.set(id, checkpoint);
      return id;
    },
    async restore(id: SnapshotId): Promise<void> {
      const checkpoint = checkpoints.get(id);
      if (!checkpoint) throw new InvalidInputError('invalid-input', `No snapshot ${id} is held`);
      // As WebLLM's own resume path does (index.js 12807–12820): reset, import, check the length.
      await engine.resetChat();
      await importCheckpoint(checkpoint);
      if (pipeline.filledKVCacheLength !== checkpoint.processedSeqLen) {
        throw new ModelError('generation-failed', `A restored KV checkpoint holds ${pipeline.filledKVCacheLength} tokens, expected ${checkpoint.processedSeqLen}`);
      }
    },
    async dropSnapshot(id: SnapshotId): Promise<void> {
      checkpoints.delete(id);
    },
  };
}

function hasGlobalFunc(pipeline: PipelineLike, name: string): boolean {
  const func: PackedFunc | undefined = findGlobalFunc(pipeline.tvm, name);
  func?.dispose?.();
  return func !== undefined;
}
