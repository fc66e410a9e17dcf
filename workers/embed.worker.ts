// The embedding worker: a thin shell exposing the transformers.js embed service.
import { createTransformersEmbedService } from '../src/embed/transformers-service';
import { ModelError } from '../src/errors';
import { exposeService } from '../src/rpc/server';
import type { EmbedService } from '../src/rpc/protocol';

exposeService<EmbedService>(createTransformersEmbedService(), {
  toError: (error) => new ModelError('embedding-failed', error instanceof Error ? error.message : String(error), { cause: error }),
});
