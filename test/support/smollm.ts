// A test double: a dry-run engine with the real SmolLM-360M-Instruct tokenizer and chat
// template (test/fixtures/tokenizers/smollm-360m-instruct): exact token counts,
// no model. For scenarios and benchmarks that measure prefill, not text: it
// cannot show timing, compute or what a model would say.
import { PreTrainedTokenizer } from '@huggingface/transformers';
import { createDryRunEngine } from '../../src/engine/dry-run';
import { encodeText, templatePieces } from '../../src/engine/transformers/template';
import type { Engine } from '../../src/engine/types';

const BASE = '/test/fixtures/tokenizers/smollm-360m-instruct';

export async function smollmDryRun(): Promise<Engine> {
  const [json, config] = await Promise.all(['tokenizer.json', 'tokenizer_config.json'].map(async (f) => (await fetch(`${BASE}/${f}`)).json()));
  const tokenizer = new PreTrainedTokenizer(json, config);
  return createDryRunEngine({
    model: 'HuggingFaceTB/SmolLM-360M-Instruct (tokenizer only)',
    template: templatePieces(tokenizer, 'SmolLM-360M-Instruct'),
    tokenize: (texts) => texts.map((t) => encodeText(tokenizer, t)),
  });
}
