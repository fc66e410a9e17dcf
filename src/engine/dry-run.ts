// A dry-run engine: the real cache driver and ledger over primitives that run
// no model. It counts exactly the tokens a real engine with true rollback would
// reuse and prefill, in no time, so prediction can be measured over thousands
// of questions (bench:locomo) and scenarios run without weights. Its replies
// are empty: sampling returns the first stop token.
import { CacheDriver } from './driver';
import type { ChatTemplatePieces, Engine, EngineInfo, EnginePrimitives } from './types';
import type { Tokenize } from './layout';

export function createDryRunEngine(options: { template: ChatTemplatePieces; tokenize: Tokenize; model?: string; contextLength?: number }): Engine {
  let length = 0;
  const primitives: EnginePrimitives = {
    capabilities: { rollback: 'popn', snapshots: false, contextLength: options.contextLength ?? 1 << 20 },
    get length() {
      return length;
    },
    async append(tokens, { sample }) {
      length += tokens.length;
      return sample ? options.template.stopTokens[0] : undefined;
    },
    async rollback(to) {
      length = to;
    },
    async reset() {
      length = 0;
    },
  };
  const driver = new CacheDriver(primitives, { template: options.template, decode: () => '', sliceTokens: 1 << 20 });
  const info: EngineInfo = { engine: 'dry-run', model: options.model ?? 'none', device: 'none', capabilities: primitives.capabilities, template: options.template };
  return {
    info,
    load: async () => info,
    tokenize: async (texts) => options.tokenize(texts),
    prewarm: (prefix, o) => driver.prewarm(prefix, o),
    generate: (prompt, o) => driver.generate(prompt, o),
    held: async () => driver.ledger.held(),
    dispose: async () => undefined,
  };
}
