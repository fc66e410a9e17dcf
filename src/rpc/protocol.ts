// The wire protocol of every Mneme worker. comlink carries the messages; this
// file fixes what they mean. A worker exposes one `RpcEndpoint`: `call` runs a
// method of its service under a caller-chosen id and answers an `RpcReply`,
// `cancel` stops that id.
// Each service is one interface mapping method → arguments → result, shared by
// the client (`RpcClient<S>.call`) and the handler (`ServiceHandler<S>`), so
// neither side casts.
import type { WireError } from '../errors';
import type { EmbeddingRef } from '../memory/types';
import type { LoadProgress, ResolvedEmbedderConfig } from '../embed/types';
import type { EngineInfo, GenerateOptions, GenerateResult, KvPrefix, PromptTokens, PrewarmResult, TokenChunk } from '../engine/types';

/**
 * A service: the methods one worker offers. Arguments and results must be
 * structured-clonable; function arguments (progress callbacks) are carried by
 * `Comlink.proxy`. An `AbortSignal` never crosses: cancellation goes by call id.
 */
export type Service<S> = { [M in keyof S]: (...args: never) => Promise<unknown> };

export type MethodName<S> = keyof S & string;
export type Args<S, M extends MethodName<S>> = S[M] extends (...args: infer A) => Promise<unknown> ? A : never;
export type Result<S, M extends MethodName<S>> = S[M] extends (...args: never) => Promise<infer R> ? R : never;

/** What a handler gets besides its arguments. */
export interface CallContext {
  readonly id: number;
  /** Aborted when the caller aborts, times out, or gives up on the call. */
  readonly signal: AbortSignal;
}

/** The worker side of a service: each method receives the call's context first. */
export type ServiceHandler<S extends Service<S>> = {
  [M in MethodName<S>]: (context: CallContext, ...args: Args<S, M>) => Promise<Result<S, M>>;
};

/**
 * How a call ended, keyed by `type`. A handler's error crosses as a `WireError` inside the reply
 * (the call itself resolves), so Mneme never touches comlink's global 'throw' transfer handler,
 * which a host app sharing comlink relies on.
 */
export type RpcReply = { type: 'value'; value: unknown } | { type: 'error'; error: WireError };

/** The one object a worker exposes through comlink. */
export interface RpcEndpoint {
  call(id: number, method: string, ...args: unknown[]): Promise<RpcReply>;
  cancel(id: number): void;
}

/** The embedding worker (workers/embed.worker.ts). */
export interface EmbedService {
  /** Loads the model (once per worker) and reports its identity. */
  load(config: ResolvedEmbedderConfig, onProgress?: (progress: LoadProgress) => void): Promise<EmbeddingRef>;
  /** One vector per text, in order. Texts were validated by the client. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/**
 * An engine worker (workers/webllm.worker.ts, …): the `Engine` of
 * src/engine/types.ts across a worker boundary, loaded with config `C`.
 * `interruptible` is a caller-chosen id that `interrupt` stops between
 * prefill slices or decode steps; the call then resolves as an aborted one
 * (`complete: false`, `finishReason: 'aborted'`) instead of rejecting.
 */
export interface EngineService<C> {
  load(config: C, onProgress?: (progress: LoadProgress) => void): Promise<EngineInfo>;
  tokenize(texts: readonly string[]): Promise<number[][]>;
  prewarm(prefix: PromptTokens, interruptible: number): Promise<PrewarmResult>;
  generate(prompt: PromptTokens, options: Omit<GenerateOptions, 'signal' | 'onChunk'>, interruptible: number, onChunk?: (chunk: TokenChunk) => void): Promise<GenerateResult>;
  interrupt(interruptible: number): Promise<void>;
  held(): Promise<PromptTokens>;
  /** Only where the engine owns its KV tensors (see `Engine.exportPrefix`). */
  exportPrefix(length: number): Promise<KvPrefix>;
  importPrefix(prefix: KvPrefix): Promise<void>;
  dispose(): Promise<void>;
}
