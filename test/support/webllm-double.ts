// A TEST DOUBLE of WebLLM 0.2.86 — not WebLLM. No model, no GPU: it keeps the
// KV cache as a list of token ids and "samples" a token that is a hash of the
// whole cache, so any wrong cache content shows up as different tokens. It
// exposes what Mneme's WebLLM loop touches (MLCEngine's public calls and the
// private LLMChatPipeline fields named in src/engine/webllm/internals.ts) and
// follows these rules, each read from node_modules/@mlc-ai/web-llm/lib/index.js
// at 0.2.86:
//
//  R1 forwardTokensAndSample(ids, isPrefill) (LLMChatPipeline, 13958–14035)
//     splits ids into chunks of prefillChunkSize (getChunkedPrefillInputData)
//     and forwards each with an await (embedAndForward, 13279–13335), which
//     appends it to the cache and adds its length to filledKVCacheLength (13330;
//     checked at 14008–14012). It never resets and never checks the context
//     window. It then samples one token (13561) that is NOT in the cache.
//  R2 MLCEngine.forwardTokensAndSample (19008–19013) and resetChat (19035) take
//     no lock: the per-model CustomLock (11509) is taken only by chatCompletion's
//     asyncGenerate (18558). Concurrent calls interleave their chunks in the
//     cache at every await, and the first call's bookkeeping check (14010)
//     then throws "Internal Error: filledKVCacheLength does not match".
//  R3 resetChat (12008–12030) clears the runtime's sequence and sets
//     filledKVCacheLength to 0.
//  R4 chatCompletion reuses the cache only when the new request extends the
//     previous conversation and the previous reply did not end by 'length' or
//     'abort'; otherwise it resets (preparePrefillInput, 19072–19100). Mneme
//     never calls it, so here it throws.
//  R5 tvm.getGlobalFunc throws "Cannot find global function <name>" when the
//     runtime lacks it (7979–7987), and returns a function attached to the
//     current scope, throwing without one (7238–7241, 8006–8008).
//  R6 vm.builtin.kv_state_popn is a runtime builtin (TVM's
//     src/runtime/relax_vm/kv_state.cc registers KVStateObj::PopN; the paged KV
//     cache's PopN in paged_kv_cache.cc): it shortens the runtime's sequence
//     only, and older runtimes refuse to pop it whole (CHECK_LT(n, seq_length)).
//     filledKVCacheLength is WebLLM's JS bookkeeping; nothing in WebLLM updates
//     it after a popn.
//  R7 importPromptCheckpoint sets filledKVCacheLength from the runtime's sequence
//     length (12766–12802); exportPromptCheckpoint copies the pages (12716–12764).
//  R8 the paged KV cache is created for at most context_window_size tokens
//     (11926–11931); a forward past it fails in the runtime.
import { KV_CHECKPOINT_FUNCS, type ConvTemplate } from '../../src/engine/webllm/internals';

/** SmolLM2-360M-Instruct's conv_template as its mlc-chat-config.json has it (ChatML). */
export const CHATML_TEMPLATE: ConvTemplate = {
  system_template: '<|im_start|>system\n{system_message}<|im_end|>\n',
  system_message: 'You are a helpful AI assistant.',
  roles: { user: '<|im_start|>user', assistant: '<|im_start|>assistant', tool: '<|im_start|>user' },
  seps: ['<|im_end|>\n'],
  role_content_sep: '\n',
  role_empty_sep: '\n',
  stop_str: ['<|im_end|>'],
  stop_token_ids: [2, 0],
} as ConvTemplate;

const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

/** Characters are tokens (code point + 3); the three ChatML specials are 0, 1, 2. */
export const doubleTokenizer = {
  encode(text: string): Int32Array {
    const ids: number[] = [];
    for (let i = 0; i < text.length; ) {
      const special = SPECIALS.findIndex((s) => text.startsWith(s, i));
      if (special >= 0) {
        ids.push(special);
        i += (SPECIALS[special] as string).length;
      } else {
        const cp = text.codePointAt(i) as number;
        ids.push(cp + 3);
        i += cp > 0xffff ? 2 : 1;
      }
    }
    return Int32Array.from(ids);
  },
  decode(ids: Int32Array): string {
    return Array.from(ids, (id) => (id < 3 ? (SPECIALS[id] as string) : String.fromCodePoint(id - 3))).join('');
  },
};

export type DoubleRuntime = 'popn' | 'checkpoint' | 'none';

export interface DoubleOptions {
  /** Which KV functions the model's runtime has. Default 'popn'. */
  runtime?: DoubleRuntime;
  contextWindowSize?: number;
  prefillChunkSize?: number;
  /** The reply ends (token 2, `<|im_end|>`) after this many tokens of an assistant turn. Default 12. */
  stopAfter?: number;
}

interface Runtime {
  seq: number[];
}

export class PipelineDouble {
  filledKVCacheLength = 0;
  readonly kvCache: Runtime = { seq: [] };
  readonly rnnState = undefined;
  readonly slidingWindowSize = -1;
  readonly contextWindowSize: number;
  readonly prefillChunkSize: number;
  readonly tokenizer = doubleTokenizer;
  readonly config = { conv_template: CHATML_TEMPLATE };
  readonly tvm: ReturnType<typeof makeTvm>;
  /** Every forward, in order: the chunk's tokens. */
  readonly forwards: number[][] = [];
  exportPromptCheckpoint?: (logits: undefined, store: boolean) => Promise<{ processedSeqLen: number; pages: number[] }>;
  importPromptCheckpoint?: (checkpoint: { processedSeqLen: number; pages?: number[] }) => Promise<void>;
  private readonly stopAfter: number;

  constructor(options: DoubleOptions) {
    this.contextWindowSize = options.contextWindowSize ?? 512;
    this.prefillChunkSize = options.prefillChunkSize ?? 16;
    this.stopAfter = options.stopAfter ?? 12;
    const runtime = options.runtime ?? 'popn';
    const funcs = new Map<string, (...args: never[]) => unknown>();
    if (runtime === 'popn') {
      // R6: shortens the runtime's sequence; filledKVCacheLength is not touched.
      funcs.set('vm.builtin.kv_state_popn', (kv: Runtime, seqId: { value: number }, n: { value: number }) => {
        if (seqId.value !== 0) throw new Error(`The sequence "${seqId.value}" cannot be found in KV cache.`);
        // The stricter of TVM's two PopN checks (CHECK_LT in older runtimes): a sequence cannot be popped whole.
        if (n.value < 0 || n.value >= kv.seq.length) throw new Error(`The sequence only has length ${kv.seq.length} in the last block, while the length of pop is ${n.value}`);
        kv.seq.length -= n.value;
      });
    }
    if (runtime === 'checkpoint') {
      for (const name of KV_CHECKPOINT_FUNCS) funcs.set(name, () => undefined);
      this.exportPromptCheckpoint = async () => ({ processedSeqLen: this.kvCache.seq.length, pages: [...this.kvCache.seq] });
      this.importPromptCheckpoint = async (checkpoint) => {
        this.kvCache.seq = [...(checkpoint.pages ?? [])];
        this.filledKVCacheLength = this.kvCache.seq.length; // R7
      };
    }
    this.tvm = makeTvm(funcs);
  }

  /** R1 */
  async forwardTokensAndSample(ids: number[], _isPrefill: boolean): Promise<number> {
    if (ids.length === 0) throw new Error('inputIds must not be empty');
    for (let start = 0; start < ids.length; start += this.prefillChunkSize) {
      const chunk = ids.slice(start, start + this.prefillChunkSize);
      const before = this.filledKVCacheLength;
      // embedAndForward runs synchronously up to its result (no await for token input), then is awaited.
      if (this.kvCache.seq.length + chunk.length > this.contextWindowSize) throw new Error('TVMError: the paged KV cache is full'); // R8
      this.kvCache.seq.push(...chunk);
      this.forwards.push(chunk);
      this.filledKVCacheLength += chunk.length;
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (this.filledKVCacheLength !== before + chunk.length) throw new Error('Internal Error: filledKVCacheLength does not match expected value.');
    }
    return this.sample();
  }

  /** R3 */
  resetChat(): void {
    this.kvCache.seq = [];
    this.filledKVCacheLength = 0;
  }

  /** The next token: `<|im_end|>` once an assistant turn is `stopAfter` long, else a letter hashed from the whole cache. */
  private sample(): number {
    const seq = this.kvCache.seq;
    const header = [...doubleTokenizer.encode('<|im_start|>assistant\n')];
    const opened = lastIndexOfRun(seq, header);
    if (opened >= 0 && seq.length - (opened + header.length) >= this.stopAfter) return 2;
    let hash = 2166136261;
    for (const token of seq) hash = Math.imul(hash ^ token, 16777619) >>> 0;
    return 100 + (hash % 26); // 'a'..'z'
  }
}

export class MlcEngineDouble {
  readonly loadedModelIdToPipeline = new Map<string, PipelineDouble>();
  readonly pipeline: PipelineDouble;

  constructor(
    readonly modelId: string,
    options: DoubleOptions = {},
  ) {
    this.pipeline = new PipelineDouble(options);
    this.loadedModelIdToPipeline.set(modelId, this.pipeline);
  }

  /** R2: no lock, straight to the pipeline. */
  forwardTokensAndSample(ids: number[], isPrefill: boolean): Promise<number> {
    return this.pipeline.forwardTokensAndSample(ids, isPrefill);
  }

  async resetChat(): Promise<void> {
    this.pipeline.resetChat();
  }

  async unload(): Promise<void> {
    this.loadedModelIdToPipeline.clear();
  }

  /** R4: the loop must never go through chatCompletion. */
  chatCompletion(): never {
    throw new Error('The WebLLM double: Mneme must not call chatCompletion (it resets the cache after length/abort and cannot keep a prefix)');
  }
}

/** R5: global functions by name, attached to a scope that must be open. */
function makeTvm(funcs: Map<string, (...args: never[]) => unknown>) {
  const scopes: unknown[][] = [];
  return {
    scopeDepth: () => scopes.length,
    beginScope: () => void scopes.push([]),
    endScope: () => void scopes.pop(),
    getGlobalFunc(name: string) {
      const func = funcs.get(name);
      if (!func) throw Error('Cannot find global function ' + name);
      const scope = scopes.at(-1);
      if (!scope) throw Error('Must call beginScope to use functions that returns TVM objects');
      const packed = Object.assign((...args: unknown[]) => (func as (...a: unknown[]) => unknown)(...args), { dispose: () => undefined });
      scope.push(packed);
      return packed;
    },
    detachFromCurrentScope<T>(value: T): T {
      const scope = scopes.at(-1);
      const at = scope?.indexOf(value) ?? -1;
      if (!scope || at < 0) throw Error('Cannot find obj in the current auto conversion pool');
      scope.splice(at, 1);
      return value;
    },
    scalar: (value: number, dtype: string) => ({ value, dtype }),
  };
}

function lastIndexOfRun(seq: readonly number[], run: readonly number[]): number {
  for (let i = seq.length - run.length; i >= 0; i--) {
    if (run.every((t, j) => seq[i + j] === t)) return i;
  }
  return -1;
}
