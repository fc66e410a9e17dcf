// @ts-check
// Generates the stand-in models the tests load through the real transformers.js
// path: real tokenizers (test/fixtures/tokenizers/) beside ONNX graphs with the
// real architectures' shapes and seeded random weights. No weights are
// downloaded, ever.
//
// Output: test/fixtures/generated/models/<org>/<name>/ (gitignored), laid out
// as transformers.js expects (config.json, tokenizer files, onnx/model.onnx).
// Idempotent: a model is rebuilt only when its recipe's inputs (this script,
// scripts/onnx/*, its tokenizer files) change or its output is incomplete.
//
// Usage: node scripts/gen-standin-models.mjs [--force] [--bench]  (--bench adds the large benchmark models)
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MINILM_L6, buildBert } from './onnx/bert.mjs';
import { SMOLLM_360M_4L, SMOLLM_TINY, buildLlama } from './onnx/llama.mjs';
import { model, writeMessage } from './onnx/onnx.mjs';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MODELS_ROOT = join(REPO, 'test/fixtures/generated/models');
const TOKENIZERS = join(REPO, 'test/fixtures/tokenizers');
const STAMP = '.generated.json';

/**
 * @typedef {object} Recipe
 * @property {string} id            model id, the path under MODELS_ROOT
 * @property {string} tokenizer     folder under test/fixtures/tokenizers
 * @property {string[]} tokenizerFiles
 * @property {Record<string, unknown>} config  config.json
 * @property {(dir: string) => void} writeOnnx  writes the ONNX file(s) into `dir`
 * @property {boolean} [benchOnly]  large; generated only with --bench (by `npm run bench`)
 */

/** @type {Recipe[]} */
const RECIPES = [
  {
    id: 'mneme/standin-minilm-l6',
    tokenizer: 'minilm-l6-v2',
    tokenizerFiles: ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'],
    config: {
      _name_or_path: 'mneme/standin-minilm-l6',
      architectures: ['BertModel'],
      model_type: 'bert',
      vocab_size: MINILM_L6.vocabSize,
      hidden_size: MINILM_L6.hiddenSize,
      num_hidden_layers: MINILM_L6.layers,
      num_attention_heads: MINILM_L6.heads,
      intermediate_size: MINILM_L6.intermediateSize,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
      max_position_embeddings: MINILM_L6.maxPositions,
      type_vocab_size: MINILM_L6.typeVocabSize,
      initializer_range: 0.02,
      layer_norm_eps: MINILM_L6.layerNormEps,
      pad_token_id: 0,
      position_embedding_type: 'absolute',
      use_cache: true,
      mneme_standin: 'random weights with the shape of sentence-transformers/all-MiniLM-L6-v2; for tests only',
    },
    writeOnnx(dir) {
      const graph = buildBert(MINILM_L6, 0x6d6e656d).graph.toGraph();
      writeMessage(join(dir, 'model.onnx'), model(graph, { opset: 17, metadata: { 'mneme.standin': 'minilm-l6' } }));
    },
  },
  smollmRecipe('mneme/standin-smollm-tiny', SMOLLM_TINY, false),
  smollmRecipe('mneme/standin-smollm-360m-4l', SMOLLM_360M_4L, true),
];

/**
 * A Llama decoder with SmolLM-360M-Instruct's tokenizer and chat template.
 * @param {string} id @param {import('./onnx/llama.mjs').LlamaShape} shape @param {boolean} benchOnly
 * @returns {Recipe}
 */
function smollmRecipe(id, shape, benchOnly) {
  const real = JSON.parse(readFileSync(join(TOKENIZERS, 'smollm-360m-instruct', 'config.json'), 'utf8'));
  return {
    id,
    tokenizer: 'smollm-360m-instruct',
    tokenizerFiles: ['tokenizer.json', 'tokenizer_config.json'],
    benchOnly,
    config: {
      ...real,
      _name_or_path: id,
      hidden_size: shape.hiddenSize,
      intermediate_size: shape.intermediateSize,
      num_attention_heads: shape.heads,
      num_key_value_heads: shape.kvHeads,
      num_hidden_layers: shape.layers,
      vocab_size: shape.vocabSize,
      rope_theta: shape.ropeTheta,
      rms_norm_eps: shape.rmsNormEps,
      mneme_standin: 'random weights with the shape of HuggingFaceTB/SmolLM-360M-Instruct (fewer layers); for tests only',
    },
    writeOnnx(dir) {
      const graph = buildLlama(shape, 0x6c6c616d).graph.toGraph();
      writeMessage(join(dir, 'model.onnx'), model(graph, { opset: 17, metadata: { 'mneme.standin': id } }));
      writeFileSync(join(dir, '..', 'generation_config.json'), `${JSON.stringify({ bos_token_id: 1, eos_token_id: 2, pad_token_id: 2 }, null, 2)}\n`);
    },
  };
}

/** What the output of a recipe depends on. @param {Recipe} recipe */
function inputsHash(recipe) {
  const hash = createHash('sha256');
  const sources = [fileURLToPath(import.meta.url), ...readdirSync(join(REPO, 'scripts/onnx')).sort().map((f) => join(REPO, 'scripts/onnx', f))];
  for (const file of [...sources, ...recipe.tokenizerFiles.map((f) => join(TOKENIZERS, recipe.tokenizer, f))]) {
    hash.update(relative(REPO, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.update(JSON.stringify(recipe.config)).digest('hex');
}

/** Files under `dir` with their sizes, the stamp excepted. @param {string} dir @returns {Record<string, number>} */
function listFiles(dir, prefix = '') {
  /** @type {Record<string, number>} */
  const out = {};
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) Object.assign(out, listFiles(dir, rel));
    else if (rel !== STAMP) out[rel] = statSync(join(dir, rel)).size;
  }
  return out;
}

/** @param {string} dir @param {string} hash */
function upToDate(dir, hash) {
  try {
    const stamp = JSON.parse(readFileSync(join(dir, STAMP), 'utf8'));
    return stamp.hash === hash && JSON.stringify(stamp.files) === JSON.stringify(listFiles(dir));
  } catch {
    return false;
  }
}

/** Builds into a temporary folder and swaps it in, so a half-written model never looks complete. @param {Recipe} recipe @param {string} hash */
function generate(recipe, hash) {
  const dir = join(MODELS_ROOT, recipe.id);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'onnx'), { recursive: true });
  for (const file of recipe.tokenizerFiles) copyFileSync(join(TOKENIZERS, recipe.tokenizer, file), join(tmp, file));
  writeFileSync(join(tmp, 'config.json'), `${JSON.stringify(recipe.config, null, 2)}\n`);
  recipe.writeOnnx(join(tmp, 'onnx'));
  const files = listFiles(tmp);
  writeFileSync(join(tmp, STAMP), `${JSON.stringify({ hash, files }, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return files;
}

function main() {
  const force = process.argv.includes('--force');
  const bench = process.argv.includes('--bench');
  for (const recipe of RECIPES.filter((r) => bench || !r.benchOnly)) {
    const dir = join(MODELS_ROOT, recipe.id);
    const hash = inputsHash(recipe);
    if (!force && existsSync(dir) && upToDate(dir, hash)) {
      console.log(`stand-in ${recipe.id}: up to date`);
      continue;
    }
    const started = performance.now();
    const files = generate(recipe, hash);
    const bytes = Object.values(files).reduce((a, b) => a + b, 0);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`stand-in ${recipe.id}: generated ${(bytes / 2 ** 20).toFixed(1)} MiB in ${seconds} s`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
