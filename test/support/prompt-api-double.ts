// A TEST DOUBLE of Chrome's Prompt API (`LanguageModel`) — not a model. What it
// cannot show: real answers (a reply lists what the session's context holds,
// so a test can see which memories the model was given), real token counts (a
// token here is a whitespace-separated word, and every message or string input
// costs FRAMING more), real timings (each token an append, a create or a
// reply handles waits `msPerToken`), Chrome's queueing of calls on one
// session, and any behaviour beyond the rules below. Each rule is read from the
// explainer (github.com/webmachinelearning/prompt-api, README.md, section
// named) or from the web-platform tests in wpt's ai/language-model/ folder:
//
//  D1 "System prompts" (and wpt language-model-create.tentative.https.window.js,
//     which creates with a system prompt first): a system message anywhere but
//     first in the first sequence given to create() / append() / prompt()
//     rejects with TypeError.
//  D2 "N-shot prompting" / "Download progress" (wpt language-model-create:
//     "notifies its monitor on downloadprogress"): initialPrompts too large for
//     the window reject create() with QuotaExceededError; a monitor hears at
//     least two downloadprogress events, loaded 0 and loaded 1.
//  D3 "Appending messages without prompting for a response": append() adds
//     context and answers nothing. "Aborting a specific prompt": an append
//     aborted while ongoing rejects with AbortError and leaves nothing of it in
//     the session; once resolved, aborting does nothing.
//  D4 "Session persistence and cloning": clone() copies the context; it can be
//     aborted with a signal (wpt's "Language Model Abort" test: "Aborting
//     LanguageModel.clone()").
//  D5 "Tokenization, context window length limits, and overflow": an input that
//     does not fit contextWindow − contextUsage removes the oldest messages
//     that are not initialPrompts until it fits, and fires contextoverflow; if
//     it cannot fit even then, the call rejects with QuotaExceededError
//     (requested, contextWindow) and nothing is removed. measureContextUsage()
//     counts an input with its control tokens.
//  D6 wpt language-model-destroy.tentative.https.window.js: destroy() rejects a
//     call under way, and every later call, with InvalidStateError ("The model
//     execution session has been destroyed."); contextUsage and contextWindow
//     stay readable. (The explainer's "Session destruction" says AbortError;
//     the double follows Chrome's tests.)
//  D7 "Aborting a specific prompt": a prompt aborted while answering rejects
//     (its stream errors) with AbortError and its prompt/response pair is
//     removed from the session.
//  D8 "Renamed Features": with `legacy`, sessions expose only inputUsage,
//     inputQuota, measureInputUsage() and quotaoverflow. (wpt
//     language-model-create still expects an `onquotaoverflow` handler next to
//     contextUsage, so an engine must listen to both event names.)
//  D9 "Permissions policy, iframes, and workers": not in workers — the double
//     exists only where a test passes it in.
import type { LanguageModelApi, LanguageModelAvailability, LanguageModelCreateOptions, LanguageModelMessage, LanguageModelSession } from '../../src/engine/prompt-api/api';

export const FRAMING = 4;

export interface LanguageModelDoubleOptions {
  availability?: LanguageModelAvailability;
  /** Default 6144, about Gemini Nano's window in Chrome. */
  contextWindow?: number;
  /** Default 0 (each step still waits a task, so an abort right after a call lands inside it). */
  msPerToken?: number;
  /** D8: only the names before the renaming. */
  legacy?: boolean;
  /** measureContextUsage() reports this many tokens fewer than an input takes (to provoke an overflow). Default 0. */
  undercount?: number;
  /** create() rejects with this DOMException name although availability() said yes (a model that fails to start). */
  failCreate?: string;
}

/** Tokens of an input as this double counts them (D5: control tokens included). */
export function countTokens(input: string | readonly LanguageModelMessage[]): number {
  const words = (text: string) => text.split(/\s+/).filter((w) => w !== '').length;
  return typeof input === 'string' ? FRAMING + words(input) : input.reduce((n, m) => n + FRAMING + words(m.content), 0);
}

function abortError(): DOMException {
  return new DOMException('The operation was aborted.', 'AbortError');
}

function destroyedError(): DOMException {
  return new DOMException('The model execution session has been destroyed.', 'InvalidStateError'); // D6
}

function quotaError(requested: number, available: number): DOMException {
  return Object.assign(new DOMException(`The input takes ${requested} tokens; ${available} are available.`, 'QuotaExceededError'), { requested, contextWindow: available });
}

/** D1 */
function checkSystem(messages: readonly LanguageModelMessage[], mayOpen: boolean): void {
  messages.forEach((m, i) => {
    if (m.role === 'system' && !(mayOpen && i === 0)) throw new TypeError('A system message must be the first message of the session.');
  });
}

export class LanguageModelDouble implements LanguageModelApi {
  /** Every session created or cloned, in order. */
  readonly sessions: SessionDouble[] = [];
  /** Calls in order: 'availability', 'create', 'clone', 'append', 'prompt', 'measure', 'destroy'. */
  readonly log: string[] = [];
  /** The options of every availability() and create() call, in order. */
  readonly asked: { call: 'availability' | 'create'; options: object }[] = [];

  constructor(readonly options: LanguageModelDoubleOptions = {}) {}

  get window(): number {
    return this.options.contextWindow ?? 6144;
  }

  /** Sessions not destroyed. */
  live(): SessionDouble[] {
    return this.sessions.filter((s) => !s.destroyed);
  }

  async availability(options: object = {}): Promise<LanguageModelAvailability> {
    this.log.push('availability');
    this.asked.push({ call: 'availability', options });
    return this.options.availability ?? 'available';
  }

  async create(options: LanguageModelCreateOptions = {}): Promise<LanguageModelSession> {
    this.log.push('create');
    this.asked.push({ call: 'create', options });
    if ((this.options.availability ?? 'available') === 'unavailable') throw new DOMException('No language model on this device.', 'NotSupportedError');
    if (this.options.failCreate) throw new DOMException('The model could not start.', this.options.failCreate);
    if (options.monitor) {
      const monitor = new EventTarget();
      options.monitor(monitor);
      for (const loaded of [0, 1]) monitor.dispatchEvent(Object.assign(new Event('downloadprogress'), { loaded, total: 1 })); // D2
    }
    const initial = [...(options.initialPrompts ?? [])];
    checkSystem(initial, true);
    const cost = countTokens(initial);
    if (cost > this.window) throw quotaError(cost, this.window); // D2
    const session = new SessionDouble(this, initial, []);
    await session.work(cost, options.signal);
    return session;
  }

  register(session: SessionDouble): void {
    this.sessions.push(session);
  }
}

export class SessionDouble extends EventTarget implements LanguageModelSession {
  destroyed = false;
  measureContextUsage?: (input: string | LanguageModelMessage[]) => Promise<number>;
  measureInputUsage?: (input: string | LanguageModelMessage[]) => Promise<number>;

  constructor(
    private readonly model: LanguageModelDouble,
    /** initialPrompts: never removed (D5). */
    readonly initial: readonly LanguageModelMessage[],
    /** Everything appended or prompted since, oldest first. */
    readonly later: LanguageModelMessage[],
  ) {
    super();
    const measure = async (input: string | LanguageModelMessage[]) => {
      this.model.log.push('measure');
      this.alive();
      return Math.max(0, countTokens(input) - (this.model.options.undercount ?? 0));
    };
    if (model.options.legacy) this.measureInputUsage = measure;
    else this.measureContextUsage = measure;
    model.register(this);
  }

  get contextUsage(): number | undefined {
    return this.model.options.legacy ? undefined : this.usage;
  }

  get inputUsage(): number | undefined {
    return this.model.options.legacy ? this.usage : undefined;
  }

  get contextWindow(): number | undefined {
    return this.model.options.legacy ? undefined : this.model.window;
  }

  get inputQuota(): number | undefined {
    return this.model.options.legacy ? this.model.window : undefined;
  }

  /** Every message the context holds, oldest first. */
  messages(): LanguageModelMessage[] {
    return [...this.initial, ...this.later];
  }

  private get usage(): number {
    return countTokens(this.messages());
  }

  async append(messages: LanguageModelMessage[], options: { signal?: AbortSignal } = {}): Promise<void> {
    this.model.log.push('append');
    this.alive();
    checkSystem(messages, this.messages().length === 0);
    const cost = countTokens(messages);
    this.room(cost); // D5: rejects before anything is removed
    await this.work(cost, options.signal); // D3: aborted here, nothing was added
    this.makeRoom(cost);
    this.later.push(...messages);
  }

  async clone(options: { signal?: AbortSignal } = {}): Promise<LanguageModelSession> {
    this.model.log.push('clone');
    this.alive();
    await this.work(1, options.signal); // D4
    return new SessionDouble(this.model, this.initial, [...this.later]);
  }

  async prompt(input: string | LanguageModelMessage[], options: { signal?: AbortSignal } = {}): Promise<string> {
    let reply = '';
    const reader = this.promptStreaming(input, options).getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) reply += r.value;
    return reply;
  }

  /** Answers with the contents of its context ("context: a | b | …"), a word per chunk. */
  promptStreaming(input: string | LanguageModelMessage[], options: { signal?: AbortSignal } = {}): ReadableStream<string> {
    this.model.log.push('prompt');
    const asked: LanguageModelMessage[] = typeof input === 'string' ? [{ role: 'user', content: input }] : input;
    let cancelled = false;
    return new ReadableStream<string>({
      start: async (controller) => {
        const before = this.later.length;
        try {
          this.alive();
          checkSystem(asked, false);
          const cost = countTokens(asked);
          this.room(cost);
          await this.work(cost, options.signal);
          this.makeRoom(cost);
          this.later.push(...asked);
          const words = `context: ${this.messages().map((m) => m.content.trim()).join(' | ')}`.split(/\s+/);
          for (const [i, word] of words.entries()) {
            await this.work(1, options.signal);
            if (cancelled) break;
            controller.enqueue(i === 0 ? word : ` ${word}`);
          }
          this.later.push({ role: 'assistant', content: words.join(' ') });
          if (!cancelled) controller.close();
        } catch (error) {
          this.later.splice(Math.min(before, this.later.length)); // D7: the pair is removed
          if (!cancelled) controller.error(error);
        }
      },
      cancel: () => {
        cancelled = true;
      },
    });
  }

  destroy(): void {
    this.model.log.push('destroy');
    this.destroyed = true; // D6: calls under way see it at their next step
  }

  /** Waits `cost` tokens' time, a task at least; rejects when aborted (AbortError: D3, D4) or destroyed (D6) meanwhile. */
  async work(cost: number, signal: AbortSignal | undefined): Promise<void> {
    const ms = (this.model.options.msPerToken ?? 0) * cost;
    const until = performance.now() + ms;
    do {
      await new Promise((resolve) => setTimeout(resolve, Math.min(5, Math.max(0, until - performance.now()))));
      if (this.destroyed) throw destroyedError();
      if (signal?.aborted) throw abortError();
    } while (performance.now() < until);
  }

  private alive(): void {
    if (this.destroyed) throw destroyedError();
  }

  /** D5: an input that could not fit even with every non-initial message removed. */
  private room(cost: number): void {
    const floor = countTokens(this.initial);
    if (floor + cost > this.model.window) throw quotaError(cost, this.model.window - this.usage);
  }

  /** D5: removes the oldest non-initial messages until `cost` fits, and says so. */
  private makeRoom(cost: number): void {
    if (this.usage + cost <= this.model.window) return;
    while (this.later.length > 0 && this.usage + cost > this.model.window) this.later.shift();
    this.dispatchEvent(new Event(this.model.options.legacy ? 'quotaoverflow' : 'contextoverflow'));
  }
}
