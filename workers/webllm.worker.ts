// The WebLLM engine worker: a thin shell exposing the engine service with the
// WebLLM loader (src/engine/webllm/load.ts).
import { createEngineService } from '../src/engine/engine-service';
import type { ResolvedWebLLMConfig } from '../src/engine/webllm/config';
import { loadWebLLM } from '../src/engine/webllm/load';
import { ModelError } from '../src/errors';
import { exposeService } from '../src/rpc/server';
import type { EngineService } from '../src/rpc/protocol';

exposeService<EngineService<ResolvedWebLLMConfig>>(createEngineService((config, onProgress, signal) => loadWebLLM(config, onProgress, signal)), {
  toError: (error) => new ModelError('generation-failed', error instanceof Error ? error.message : String(error), { cause: error }),
});
