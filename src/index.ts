// Mneme: on-device, scheduled memory for LLM chat.
export { createMneme, Mneme, type MnemeEventMap, type MnemeOptions, type ModelStatus, type SearchOptions } from './mneme';
export * from './errors';
export type {
  CallerScope,
  EmbeddingRef,
  MemoryEvent,
  MemoryEventOf,
  MemoryEventType,
  MemoryInput,
  MemoryPatch,
  MemoryRecord,
  MemoryScope,
  PatchField,
  PersonalScope,
  SharedScope,
  Source,
  StoredTier,
  Tier,
  TierChange,
  UseKind,
} from './memory/types';
export { SOURCES, STORED_TIERS, TIERS, USE_KINDS } from './memory/types';
export type { MemoryFilter } from './memory/filter';
export type { Limits } from './memory/validate';
export { DEFAULT_RETENTION, type Retention, type UseTally } from './memory/event-log';
export { openMemoryStore, MemoryStore, type ListOptions, type MemoryPage, type ReadOptions, type StoreChange, type StoreOptions, type ConnectionEvent, type ConnectionOptions } from './store/store';
export type { EncryptionOption } from './store/seal';
export { EXPORT_FORMAT, EXPORT_VERSION, type ExportDocument, type ImportOptions, type ImportReport } from './store/transfer';
export type { IndexSource, ScoreParts, SearchResult } from './search/memory-index';
export {
  createStaticEmbedder,
  createWorkerEmbedder,
  resolveStaticEmbedderConfig,
  STATIC_EMBEDDER_DEFAULTS,
  type Embedder,
  type EmbedderConfig,
  type LoadProgress,
  type ResolvedStaticEmbedderConfig,
  type StaticEmbedderConfig,
  type WorkerEmbedderOptions,
} from './embed';
export type { ReembedProgress } from './embed/reembed';
export { chooseEngine, chooseEngineHere, ENGINE_KINDS, type EngineChoice, type EngineChoiceConfig, type EngineKind } from './engine/choose';
export { probeBuiltInModel, probeGpu, type AdapterReport, type BuiltInModelProbe, type GpuProbe } from './engine/probe';
export { createPromptApiEngine, PromptApiEngine, servePromptApiEngine, type PromptApiEngineConfig, type PromptApiEngineOptions, type PromptApiUsage, type ServedPromptApiEngine } from './engine/prompt-api';
export { createWebLLMEngine, WEBLLM_DEFAULTS, type WebLLMEngineConfig, type WebLLMEngineOptions } from './engine/webllm';
export { createChatCompletions, type ChatCompletionsApi, type CreateOptions, type MnemeCompletionUsage } from './engine/openai';
export { createEngine, type EngineConfig, type EngineOptions } from './engine/create';
export { createTransformersEngine, type TransformersEngineConfig, type TransformersEngineOptions } from './engine/transformers';
export { createDryRunEngine } from './engine/dry-run';
export type { CallStats, ChatTemplatePieces, Engine, EngineInfo, GenerateOptions, GenerateResult, KvPrefix, KvTensors, PromptTokens, PrewarmResult, TokenSegment } from './engine/types';
export { layoutPrompt, type HistoryTurn, type PromptParts } from './engine/layout';
export { Scheduler, type Observed, type SchedulerOptions, type SearchScheduledOptions } from './scheduler/scheduler';
export { Predictor, type PredictorOptions, type SendReport } from './scheduler/predict';
export { GuardedEngine, type CacheGuardOptions } from './scheduler/cache-guard';
export { claimOwnership, type Ownership } from './scheduler/ownership';
export { composeGovernance, medicalForDoctors, sensitiveStaysInDomain } from './memory/governance';
export { CONVERSATION, RESEARCH, type MemorySignals, type ScheduledParts, type ScheduledResult, type SchedulingStrategy } from './scheduler/rank';
export { defaultRules, DEFAULT_LIFECYCLE, type LifecycleConfig, type MemoryState, type TransformationRules, type Transition } from './scheduler/lifecycle';
export { defaultBinding, MetricsEmitter, OPEN_GOVERNANCE, type ContextBinding, type Governance, type MetricEvent, type Metrics, type SessionContext } from './scheduler/plugins';
export { llmExtractor, type ExtractionDecision, type Extractor } from './scheduler/llm-extract';
export { createSchedulerWorker, type SchedulerClient } from './scheduler/client';
export type { DraftView, EngineLoaded, KvSnapshotView, MemoryRow, MemoryView, SchedulerService, SchedulerWorkerConfig, SendMessage, SendView } from './scheduler/service';
export type { RestoreReport, SaveReport, SnapshotRow } from './scheduler/kv-keeper';
export { runScenario, type RunOptions } from './scenario/run';
export { parseScenario, type Scenario, type ScenarioEvent, type ScenarioOutput } from './scenario/format';
