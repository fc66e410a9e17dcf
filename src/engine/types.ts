// The engine contract: what the scheduler drives (`Engine`), what each engine
// implements underneath (`EnginePrimitives`), and the token-level vocabulary
// between them. Prompts are token ids laid out segment by segment
// (src/engine/layout.ts); the KV ledger (src/engine/ledger.ts) decides what the
// cache keeps, and `runPlan`-style drivers compose the primitives.
import type { LoadProgress } from '../embed/types';

export type { LoadProgress };

/**
 * The parts of a prompt, in layout order: the stable ones first so the cache
 * can keep them. `draft` is the user's text, partial while they type.
 */
export const SEGMENT_KINDS = ['system', 'activated', 'history', 'working', 'draft'] as const;
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

/** A run of token ids with the part of the prompt it came from. */
export interface TokenSegment {
  readonly kind: SegmentKind;
  readonly tokens: readonly number[];
}

/**
 * A prompt as token ids, segment by segment. Segments of a kind are
 * contiguous and kinds appear in `SEGMENT_KINDS` order (validated by
 * `validatePrompt`). `generate` takes a full prompt (ending with the template's
 * assistant-turn opening); `prewarm` takes any prefix of one.
 */
export interface PromptTokens {
  readonly segments: readonly TokenSegment[];
}

/**
 * The chat template as token ids, so prompts are built piece by piece and
 * never by re-tokenizing joined strings. Supplied by each engine from its
 * model's own template (e.g. ChatML for SmolLM: `<|im_start|>{role}\n` …
 * `<|im_end|>\n`).
 */
export interface ChatTemplatePieces {
  /** Tokens that open every prompt (a BOS token), possibly none. */
  readonly prefix: readonly number[];
  /** Opens a turn of each role, e.g. the ids of `<|im_start|>user\n`. */
  readonly turnStart: Readonly<Record<ChatRole, readonly number[]>>;
  /** Closes a turn, e.g. the ids of `<|im_end|>\n`. Fed back into the cache after a reply. */
  readonly turnEnd: readonly number[];
  /** Generation stops at any of these ids (they are not part of the reply text). */
  readonly stopTokens: readonly number[];
  /**
   * Strings the tokenizer turns into control tokens (`<|im_end|>`,
   * `<|endoftext|>`, …). Stored text is escaped so none of them survives into
   * a prompt (see `escapeMemoryText`).
   */
  readonly specialTexts: readonly string[];
}

export type ChatRole = 'system' | 'user' | 'assistant';

/** How an engine can shorten its cache, best first. */
export type RollbackKind =
  /** Drop the last n tokens in place (a KV `popn`, or slicing owned tensors). */
  | 'popn'
  /** Return to a snapshot taken earlier, then prefill again from there. */
  | 'checkpoint'
  /** Only clear everything and prefill again from the start. */
  | 'reset';

export interface EngineCapabilities {
  readonly rollback: RollbackKind;
  /** Whether `snapshot` / `restore` exist. */
  readonly snapshots: boolean;
  /** Most tokens the cache can hold (the model's context window). */
  readonly contextLength: number;
  /** Whether the engine owns its KV tensors, so `Engine.exportPrefix` / `importPrefix` work (transformers.js; not WebLLM). */
  readonly kvExport?: boolean;
}

/**
 * What an engine implements; the ledger's plans are carried out with these.
 * All calls on one engine are serialized by the caller (one queue): none of
 * them may run concurrently with another.
 */
export interface EnginePrimitives {
  readonly capabilities: EngineCapabilities;
  /** Tokens the cache holds now. */
  readonly length: number;
  /** Bytes copied between CPU and GPU memory so far (KV uploads and read-backs, logits), where the engine counts them. */
  readonly bytesMoved?: number;
  /**
   * Appends `tokens` to the cache. With `sample`, returns the next token after
   * them (greedy); without, returns undefined and may skip computing logits.
   * `tokens` is non-empty and fits the context.
   */
  append(tokens: readonly number[], options: { sample: boolean }): Promise<number | undefined>;
  /** Keeps only the first `length` tokens. Only when `capabilities.rollback` is 'popn'. */
  rollback(length: number): Promise<void>;
  /** Empties the cache. */
  reset(): Promise<void>;
  /** Records the cache as it is now; `restore` brings it back (length included). */
  snapshot?(): Promise<SnapshotId>;
  restore?(id: SnapshotId): Promise<void>;
  /** Frees a snapshot. */
  dropSnapshot?(id: SnapshotId): Promise<void>;
  /** Where the engine owns its KV tensors: a copy of the first `length` tokens' keys and values. */
  readKv?(length: number): Promise<KvTensors>;
  /** Where the engine owns its KV tensors: the cache becomes exactly these (`length` tokens). */
  writeKv?(kv: KvTensors): Promise<void>;
}

/**
 * A KV cache's tensors as plain arrays, one key and one value array per layer,
 * each [1, kvHeads, length, headDim] row-major (the layout of `present.*`).
 */
export interface KvTensors {
  readonly length: number;
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly keys: readonly Float32Array[];
  readonly values: readonly Float32Array[];
}

/**
 * A held prefix of the cache with what it was computed by: written to disk so
 * a reload restores it instead of prefilling (src/engine/snapshot/).
 */
export interface KvPrefix {
  /** The model, its revision and the weights' dtype; a prefix only restores into the same. */
  readonly model: string;
  readonly revision: string;
  readonly dtype: string;
  /** The tokens the tensors hold, by segment. */
  readonly segments: readonly TokenSegment[];
  readonly kv: KvTensors;
}

export type SnapshotId = number;

/** Numbers for one prewarm or generate call. Rates are tokens per second; 0 when nothing ran. */
export interface CallStats {
  /** Prompt tokens the cache already held and kept. */
  tokensReused: number;
  /** Prompt tokens fed through the model by this call. */
  tokensPrefilled: number;
  /** Tokens dropped from the cache because the prompt differed there. */
  tokensRolledBack: number;
  /** Reply tokens produced (generate only). */
  tokensGenerated: number;
  /** Call start to first reply token, in ms (generate only; 0 for prewarm). */
  ttftMs: number;
  prefillMs: number;
  prefillTokensPerS: number;
  decodeTokensPerS: number;
  /** Bytes copied between CPU and GPU memory by this call (KV cache and logits), where the engine counts them (transformers.js on WebGPU). */
  bytesMoved?: number;
}

export interface PrewarmOptions {
  /** Aborting stops the prewarm between prefill slices; what was prefilled stays cached and recorded. */
  signal?: AbortSignal;
}

export interface PrewarmResult {
  /** Tokens the cache holds afterwards (the whole prefix, unless aborted). */
  held: number;
  /** False when aborted before the whole prefix was prefilled. */
  complete: boolean;
  stats: CallStats;
}

/**
 * Tokens arrive in chunks, never one worker round trip per token: a chunk is
 * sent every `chunkTokens` tokens or `chunkMs` ms, whichever comes first.
 */
export interface TokenChunk {
  readonly tokens: readonly number[];
  /** Their text, decoded as part of the whole reply (so split characters come out whole). */
  readonly text: string;
}

export interface GenerateOptions {
  /** Most reply tokens. Default 256. */
  maxTokens?: number;
  signal?: AbortSignal;
  onChunk?: (chunk: TokenChunk) => void;
  /** Default 8. */
  chunkTokens?: number;
  /** Default 50. */
  chunkMs?: number;
}

export type FinishReason = 'stop' | 'length' | 'aborted';

export interface GenerateResult {
  tokens: number[];
  text: string;
  finishReason: FinishReason;
  stats: CallStats;
}

export interface EngineInfo {
  /** 'transformers', 'webllm' or 'prompt-api'. */
  readonly engine: string;
  readonly model: string;
  readonly device: string;
  readonly capabilities: EngineCapabilities;
  readonly template: ChatTemplatePieces;
  /** Why the engine runs as it does (a model swapped for its f32 build, how rollback works), one line each. */
  readonly notes?: readonly string[];
}

/**
 * One model with a managed KV cache, typically in a worker. Calls are
 * serialized, except that a `generate` makes any pending or running `prewarm`
 * stop at its next slice boundary, so a send never waits behind a stale prewarm.
 */
export interface Engine {
  load(options?: { onProgress?: (progress: LoadProgress) => void; signal?: AbortSignal }): Promise<EngineInfo>;
  /** Set once `load` has succeeded. */
  readonly info: EngineInfo | undefined;
  /** Token ids of each text, tokenized separately and without special tokens. */
  tokenize(texts: readonly string[]): Promise<number[][]>;
  /** Makes the cache hold exactly `prefix`: keeps the longest common prefix, rolls back the rest, prefills the new tail. */
  prewarm(prefix: PromptTokens, options?: PrewarmOptions): Promise<PrewarmResult>;
  /**
   * Streams a greedy reply to `prompt`, reusing what the cache holds. After it,
   * the cache holds the prompt, the reply and the template's `turnEnd`, so the
   * exchange can become history without a prefill.
   */
  generate(prompt: PromptTokens, options?: GenerateOptions): Promise<GenerateResult>;
  /** What the cache holds, by segment (the ledger's record). */
  held(): Promise<PromptTokens>;
  /**
   * Only engines that own their KV tensors (transformers.js; not WebLLM): a
   * copy of the cache's first `length` tokens, after every call queued before.
   */
  exportPrefix?(length: number): Promise<KvPrefix>;
  /**
   * The cache becomes exactly `prefix` (no prefill).
   * @throws InvalidInputError('snapshot-mismatch') when it was made by another model, revision, dtype or cache shape
   */
  importPrefix?(prefix: KvPrefix): Promise<void>;
  dispose(): Promise<void>;
}
