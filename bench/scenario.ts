// `npm run scenario -- FILE.json`: the page side. The real store, scheduler and
// CPU engine (transformers.js, WASM) with the stand-in models: embeddings and
// replies carry no meaning, so the scheduler runs without trusting dense scores.
import { createWorkerEmbedder } from '../src/embed';
import { runScenario } from '../src/scenario/run';
import { standinEngine } from '../test/support/standin-engine';

export async function run(input: { scenario: unknown }) {
  const engine = standinEngine('wasm', 'mneme-scenario-engine');
  const embedder = createWorkerEmbedder({ model: 'mneme/standin-minilm-l6', modelBaseUrl: '/test/fixtures/generated/models', allowRemote: false, dtype: 'fp32' });
  try {
    return await runScenario(input.scenario, { engine, embedder, semantic: false });
  } finally {
    await engine.dispose();
    await embedder.dispose();
  }
}
