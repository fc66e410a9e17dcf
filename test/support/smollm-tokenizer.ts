// The real SmolLM-360M-Instruct tokenizer from its fixture, for Node tests.
import { readFileSync } from 'node:fs';
import { PreTrainedTokenizer } from '@huggingface/transformers';

const DIR = new URL('../fixtures/tokenizers/smollm-360m-instruct/', import.meta.url);

export function smollmTokenizer(): PreTrainedTokenizer {
  const read = (name: string) => JSON.parse(readFileSync(new URL(name, DIR), 'utf8'));
  return new PreTrainedTokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}
