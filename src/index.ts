// Mneme: on-device, scheduled memory for LLM chat.
export { createMneme, Mneme, type MnemeEventMap, type MnemeOptions, type ModelStatus, type SearchOptions } from './mneme';
export * from './errors';
export type {
  CallerScope,
  EmbeddingRef,
  MemoryEvent,
  MemoryEventType,
  MemoryInput,
  MemoryPatch,
  MemoryRecord,
  MemoryScope,
  PersonalScope,
  SharedScope,
  Source,
  Tier,
} from './memory/types';
export { SOURCES, TIERS } from './memory/types';
export type { MemoryFilter } from './memory/filter';
export type { Limits } from './memory/validate';
export { openMemoryStore, MemoryStore, type ListOptions, type ReadOptions, type StoreChange, type StoreOptions } from './store/store';
export { EXPORT_FORMAT, EXPORT_VERSION, type ExportDocument, type ImportOptions, type ImportReport } from './store/transfer';
export type { ScoreParts, SearchResult } from './search/memory-index';
export { createWorkerEmbedder, type Embedder, type EmbedderConfig, type LoadProgress, type WorkerEmbedderOptions } from './embed';
export type { ReembedProgress } from './embed/reembed';
export { chooseEngine, chooseEngineHere, ENGINE_KINDS, type EngineChoice, type EngineChoiceConfig, type EngineKind } from './engine/choose';
export { probeGpu, type AdapterReport, type GpuProbe } from './engine/probe';
export { createWebLLMEngine, WEBLLM_DEFAULTS, type WebLLMEngineConfig, type WebLLMEngineOptions } from './engine/webllm';
export { createChatCompletions, type ChatCompletionsApi, type CreateOptions, type MnemeCompletionUsage } from './engine/openai';
export { createEngine, type EngineConfig, type EngineOptions } from './engine/create';
