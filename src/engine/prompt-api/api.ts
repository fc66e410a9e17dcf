// The parts of Chrome's Prompt API (`LanguageModel`, Gemini Nano) this engine
// uses, typed here since TypeScript's DOM types carry none of it. Shapes follow
// the explainer (github.com/webmachinelearning/prompt-api, README.md). Sessions
// of Chrome before the renaming expose `inputUsage`, `inputQuota`,
// `measureInputUsage()` and `quotaoverflow`; the readers below take either
// name. Nothing is touched until called, so this module imports under Node.

export type LanguageModelAvailability = 'unavailable' | 'downloadable' | 'downloading' | 'available';

export interface LanguageModelMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LanguageModelCreateOptions {
  initialPrompts?: LanguageModelMessage[];
  signal?: AbortSignal;
  monitor?: (monitor: EventTarget) => void;
  expectedInputs?: { type: 'text'; languages?: string[] }[];
  expectedOutputs?: { type: 'text'; languages?: string[] }[];
}

/** A session: a context the model holds, appended to and answered on. */
export interface LanguageModelSession extends EventTarget {
  append(messages: LanguageModelMessage[], options?: { signal?: AbortSignal }): Promise<void>;
  clone(options?: { signal?: AbortSignal }): Promise<LanguageModelSession>;
  prompt(input: string | LanguageModelMessage[], options?: { signal?: AbortSignal }): Promise<string>;
  promptStreaming(input: string | LanguageModelMessage[], options?: { signal?: AbortSignal }): ReadableStream<string>;
  measureContextUsage?(input: string | LanguageModelMessage[], options?: { signal?: AbortSignal }): Promise<number>;
  measureInputUsage?(input: string | LanguageModelMessage[], options?: { signal?: AbortSignal }): Promise<number>;
  readonly contextUsage?: number;
  readonly inputUsage?: number;
  readonly contextWindow?: number;
  readonly inputQuota?: number;
  destroy(): void;
}

/** The `LanguageModel` interface object. */
export interface LanguageModelApi {
  availability(options?: Omit<LanguageModelCreateOptions, 'initialPrompts' | 'signal' | 'monitor'>): Promise<LanguageModelAvailability>;
  create(options?: LanguageModelCreateOptions): Promise<LanguageModelSession>;
}

/** The events a session fires when its context overflowed (current name, then the one before the renaming). */
export const OVERFLOW_EVENTS = ['contextoverflow', 'quotaoverflow'] as const;

/** This context's `LanguageModel`, if it has one (pages of Chrome 148+ on capable desktops; never workers). */
export function languageModelHere(): LanguageModelApi | undefined {
  const api = (globalThis as { LanguageModel?: LanguageModelApi }).LanguageModel;
  return api && typeof api.create === 'function' && typeof api.availability === 'function' ? api : undefined;
}

/** Tokens the session's context holds now. */
export function contextUsage(session: LanguageModelSession): number {
  return session.contextUsage ?? session.inputUsage ?? 0;
}

/** Most tokens the session's context can hold. */
export function contextWindow(session: LanguageModelSession): number {
  return session.contextWindow ?? session.inputQuota ?? 0;
}

/** Tokens `input` would take in the session's context, control tokens included (the explainer's measureContextUsage). */
export function measureContext(session: LanguageModelSession, input: string | LanguageModelMessage[], signal?: AbortSignal): Promise<number> {
  const options = signal ? { signal } : {};
  if (session.measureContextUsage) return session.measureContextUsage(input, options);
  if (session.measureInputUsage) return session.measureInputUsage(input, options);
  return Promise.reject(new TypeError('This LanguageModel session has neither measureContextUsage nor measureInputUsage'));
}

/** Whether an error is the Prompt API's answer to an aborted call. */
export function isAbort(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'AbortError';
}
