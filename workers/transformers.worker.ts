// The transformers.js engine worker: a thin shell exposing the engine service
// with the transformers.js loader (src/engine/transformers/load.ts).
import { createEngineService } from '../src/engine/engine-service';
import type { ResolvedTransformersEngineConfig } from '../src/engine/transformers/config';
import { loadTransformersEngine } from '../src/engine/transformers/load';
import { ModelError } from '../src/errors';
import { exposeService } from '../src/rpc/server';
import type { EngineService } from '../src/rpc/protocol';

exposeService<EngineService<ResolvedTransformersEngineConfig>>(createEngineService(loadTransformersEngine), {
  toError: (error) => new ModelError('generation-failed', error instanceof Error ? error.message : String(error), { cause: error }),
});
