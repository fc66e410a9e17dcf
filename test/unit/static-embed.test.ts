// The static embedder in Node: the safetensors reader and the model2vec mean on
// small hand-made tensors, config validation, and — with the GloVe fixture
// (scripts/gen-static-glove.mjs, run by npm test) served over HTTP from this
// process — meaning: "doctor" finds "physician" in dense search and themes.
import { createServer, type Server } from 'node:http';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safetensorsBytes } from '../../scripts/gen-static-glove.mjs';
import { createStaticEmbedder } from '../../src/embed/static';
import { resolveStaticEmbedderConfig, STATIC_EMBEDDER_DEFAULTS } from '../../src/embed/static-config';
import { embedderUnavailable } from '../../src/scheduler/embedder-slot';
import { halfToFloat, readSafetensors } from '../../src/embed/safetensors';
import { createStaticModel, type TokenIds } from '../../src/embed/static-model';
import { InvalidInputError, ModelError } from '../../src/errors';
import { DenseIndex } from '../../src/search/dense';
import { DEFAULT_THEMES, ThemeIndex } from '../../src/scheduler/themes';
import type { Embedder } from '../../src/embed/types';
import { everydayMemories } from '../support/everyday-memories';

const DAY = 86_400_000;

const bytes = (tensors: Parameters<typeof safetensorsBytes>[0]) => {
  const b = safetensorsBytes(tensors);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};
const f32 = (shape: number[], values: number[]) => ({ dtype: 'F32', shape, data: Float32Array.from(values) });
const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

/** A test double of a tokenizer: a word per id, split at spaces. It cannot show real tokenization, only the mean over ids. */
function wordTokenizer(words: string[]): TokenIds {
  return { encode: (text) => text.split(' ').map((w) => words.indexOf(w)).map((i) => (i < 0 ? 0 : i)) };
}

describe('safetensors reader', () => {
  it('reads F32, F16, BF16 and I64 tensors', () => {
    const half = new Uint16Array([0x3c00, 0xc000, 0x3555]); // 1, -2, ~1/3
    const bf16 = new Uint16Array([0x3f80, 0x4049]); // 1, ~3.14
    const file = readSafetensors(
      bytes({
        a: f32([2, 2], [1, 2, 3, 4]),
        h: { dtype: 'F16', shape: [3], data: half },
        b: { dtype: 'BF16', shape: [2], data: bf16 },
        m: { dtype: 'I64', shape: [3], data: BigInt64Array.from([0n, 2n, 1n]) },
      }),
    );
    expect([...file.tensors.keys()]).toEqual(['a', 'h', 'b', 'm']);
    expect([...file.floats('a')]).toEqual([1, 2, 3, 4]);
    expect(file.tensors.get('a')!.shape).toEqual([2, 2]);
    expect([...file.floats('h')].map((x) => +x.toFixed(4))).toEqual([1, -2, 0.3333]);
    expect([...file.floats('b')].map((x) => +x.toFixed(2))).toEqual([1, 3.14]);
    expect([...file.ints('m')]).toEqual([0, 2, 1]);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0x0001)).toBeCloseTo(5.96e-8, 10);
  });

  it('rejects what is not safetensors, naming the file and the fault', () => {
    expect(() => readSafetensors(new ArrayBuffer(4), 'x.safetensors')).toThrow(/x\.safetensors .*4 bytes/);
    const huge = new ArrayBuffer(16);
    new DataView(huge).setBigUint64(0, 1000n, true);
    expect(() => readSafetensors(huge)).toThrow(ModelError);
    const good = bytes({ a: f32([2], [1, 2]) });
    const truncated = good.slice(0, good.byteLength - 4);
    expect(() => readSafetensors(truncated)).toThrow(/tensor "a" \(F32 \[2\]\) has bytes 0\.\.8 of 4/);
    expect(() => readSafetensors(good).floats('embeddings')).toThrow(/no tensor "embeddings" \(it has a\)/);
    expect(() => readSafetensors(good).ints('a')).toThrow(/not I32 or I64/);
  });
});

describe('static model', () => {
  const words = ['[UNK]', 'red', 'blue', 'green'];
  const tensors = (extra: Parameters<typeof safetensorsBytes>[0] = {}) =>
    readSafetensors(bytes({ embeddings: f32([4, 2], [0, 0, 1, 0, 0, 1, 3, 4]), ...extra }));
  const model = (extra?: Parameters<typeof safetensorsBytes>[0], maxTokens = 512) =>
    createStaticModel({ tensors: tensors(extra), tokenizer: wordTokenizer(words), vocabSize: 4, unknownId: 0, maxTokens, what: 'test model' });

  it('gives the normalised mean of the rows, leaving unknown tokens out', () => {
    const m = model();
    expect(m.dim).toBe(2);
    expect([...m.embed('red')]).toEqual([1, 0]);
    expect([...m.embed('green')].map((x) => +x.toFixed(3))).toEqual([0.6, 0.8]);
    expect([...m.embed('red blue nonsense')].map((x) => +x.toFixed(3))).toEqual([0.707, 0.707]);
    expect([...m.embed('nonsense')]).toEqual([0, 0]); // nothing known: no direction
    expect([...model(undefined, 1).embed('red blue')]).toEqual([1, 0]); // maxTokens
  });

  it('applies per-token weights and a token-to-row mapping', () => {
    const weighted = model({ weights: f32([4], [0, 3, 1, 1]) });
    expect([...weighted.embed('red blue')].map((x) => +x.toFixed(3))).toEqual([0.949, 0.316]);
    const mapped = model({ mapping: { dtype: 'I32', shape: [4], data: Int32Array.from([0, 2, 2, 3]) } });
    expect([...mapped.embed('red')]).toEqual([0, 1]); // red shares blue's row
  });

  it('rejects tensors that do not fit the tokenizer', () => {
    const make = (vocabSize: number, extra?: Parameters<typeof safetensorsBytes>[0]) => () =>
      createStaticModel({ tensors: tensors(extra), tokenizer: wordTokenizer(words), vocabSize, unknownId: 0, maxTokens: 512, what: 'test model' });
    expect(make(5)).toThrow(/4 rows for the tokenizer's 5 tokens/);
    expect(make(4, { weights: f32([3], [1, 1, 1]) })).toThrow(/"weights" has 3 entries for 4 tokens/);
    expect(make(4, { mapping: { dtype: 'I32', shape: [4], data: Int32Array.from([0, 1, 2, 9]) } })).toThrow(/outside the 4 rows/);
    const noMatrix = readSafetensors(bytes({ other: f32([1], [1]) }));
    expect(() => createStaticModel({ tensors: noMatrix, tokenizer: wordTokenizer(words), vocabSize: 4, unknownId: 0, maxTokens: 1, what: 'm' })).toThrow(
      /no "embeddings" tensor/,
    );
  });
});

describe('createStaticEmbedder config', () => {
  it('rejects invalid settings with a typed error naming them', () => {
    expect(() => createStaticEmbedder({ maxTokens: 0 })).toThrow(InvalidInputError);
    expect(() => createStaticEmbedder({ maxTokens: 1.5 })).toThrow(/maxTokens/);
    expect(() => createStaticEmbedder({ model: '../x' })).toThrow(/model must be a model id/);
    expect(() => createStaticEmbedder({ modelBaseUrl: 'ftp://x' })).toThrow(/modelBaseUrl must be an http/);
    expect(() => createStaticEmbedder({ allowRemote: 'no' as unknown as boolean })).toThrow(/allowRemote/);
    expect(() => createStaticEmbedder(null as unknown as object)).toThrow(InvalidInputError);
  });

  it('applies the defaults, keeps explicit falsy values, and makes a relative modelBaseUrl absolute against the page', () => {
    const page = 'https://chat.example/app/index.html';
    expect(resolveStaticEmbedderConfig()).toEqual({ ...STATIC_EMBEDDER_DEFAULTS, modelBaseUrl: undefined });
    expect(resolveStaticEmbedderConfig({ allowRemote: false, modelBaseUrl: '/models/' }, page)).toMatchObject({ allowRemote: false, modelBaseUrl: 'https://chat.example/models' });
    expect(resolveStaticEmbedderConfig({ modelBaseUrl: 'models' }, page).modelBaseUrl).toBe('https://chat.example/app/models');
    // What the client sends the worker resolves to itself there, wherever the worker's script is.
    const resolved = resolveStaticEmbedderConfig({ model: 'org/m2v', modelBaseUrl: 'models', maxTokens: 64 }, page);
    expect(resolveStaticEmbedderConfig(resolved, 'https://cdn.example/mneme/mneme-worker.js')).toEqual(resolved);
  });

  it('rejects each invalid setting with an InvalidInputError naming it', () => {
    const page = 'https://chat.example/';
    for (const [config, setting] of [
      [{ maxTokens: 0 }, 'maxTokens'],
      [{ maxTokens: '8' }, 'maxTokens'],
      [{ model: '' }, 'model'],
      [{ model: 'a//b' }, 'model'],
      [{ modelBaseUrl: '' }, 'modelBaseUrl'],
      [{ modelBaseUrl: 'file:///models' }, 'modelBaseUrl'],
      [{ allowRemote: 1 }, 'allowRemote'],
      [{ cacheName: '' }, 'cacheName'],
    ] as const) {
      expect(() => resolveStaticEmbedderConfig(config as object, page), JSON.stringify(config)).toThrow(InvalidInputError);
      expect(() => resolveStaticEmbedderConfig(config as object, page)).toThrow(setting);
    }
    expect(() => resolveStaticEmbedderConfig('static' as unknown as object)).toThrow(/must be an object/);
    expect(() => resolveStaticEmbedderConfig({ modelBaseUrl: 'models' })).toThrow(/relative URL needs a page/);
  });

  it("the memory-only worker's factory refuses to load, typed, naming the folder that can", async () => {
    const embedder = embedderUnavailable(resolveStaticEmbedderConfig({ model: 'org/m2v' }));
    expect(embedder.ref).toBeUndefined();
    const refused = embedder.load();
    await expect(refused).rejects.toBeInstanceOf(ModelError);
    await expect(refused).rejects.toMatchObject({ code: 'model-load-failed', message: expect.stringMatching(/"org\/m2v".*memory-only.*dist\/memory\/.*Serve the full folder \(dist\/: mneme\.js/) });
    await expect(embedder.embed(['x'])).rejects.toBeInstanceOf(ModelError);
  });

  it('says where to get the model when remote loading is off and no base URL is set', async () => {
    const embedder = createStaticEmbedder({ allowRemote: false });
    await expect(embedder.load()).rejects.toMatchObject({ code: 'remote-loading-disabled' });
    await expect(embedder.embed([''])).rejects.toMatchObject({ code: 'text-empty' });
  });
});

const MODELS = join(import.meta.dirname, '../fixtures/generated/models');
const GLOVE = 'mneme/glove-6b-100d-50k';
const haveGlove = existsSync(join(MODELS, GLOVE, 'model.safetensors'));

/** Serves a folder of models over HTTP, as a self-hosted modelBaseUrl. */
function serveModels(root = MODELS): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (!path.startsWith(root) || !existsSync(path)) return void res.writeHead(404).end();
    const body = readFileSync(path);
    res.writeHead(200, { 'content-length': body.byteLength }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

describe('a potion-shaped stand-in: WordPiece tokenizer.json and a float16 matrix', () => {
  // MiniLM's real tokenizer (WordPiece, BERT normalizer: the family potion-base-8M's tokenizer.json
  // belongs to) beside seeded random float16 rows: it cannot show meaning, only the load and the mean.
  const root = mkdtempSync(join(tmpdir(), 'mneme-static-'));
  const vocab = 30522;
  const dim = 8;
  let seed = 7;
  const halves = Uint16Array.from({ length: vocab * dim }, () => 0x3000 + ((seed = (seed * 48271) % 2147483647) % 0x0fff));
  let server: Server;
  let embedder: Embedder;

  beforeAll(async () => {
    mkdirSync(join(root, 'test/potion-like'), { recursive: true });
    copyFileSync(join(import.meta.dirname, '../fixtures/tokenizers/minilm-l6-v2/tokenizer.json'), join(root, 'test/potion-like/tokenizer.json'));
    writeFileSync(join(root, 'test/potion-like/model.safetensors'), safetensorsBytes({ embeddings: { dtype: 'F16', shape: [vocab, dim], data: halves } }));
    let base: string;
    ({ server, base } = await serveModels(root));
    embedder = createStaticEmbedder({ model: 'test/potion-like', modelBaseUrl: base });
  });
  afterAll(async () => {
    await embedder?.dispose();
    server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('embeds a word as its own row (no [CLS]/[SEP] added), and a sentence as the mean of its pieces', async () => {
    expect(await embedder.load()).toEqual({ model: 'test/potion-like', dim });
    const row = (id: number) => Float32Array.from({ length: dim }, (_, i) => halfToFloat(halves[id * dim + i]!));
    const unit = (v: Float32Array) => v.map((x) => x / Math.hypot(...v));
    const [hello, pair] = await embedder.embed(['Hello', 'hello world']); // 7592 and 2088 in MiniLM's vocabulary
    expect([...hello!].map((x) => +x.toFixed(5))).toEqual([...unit(row(7592))].map((x) => +x.toFixed(5)));
    const mean = row(7592).map((x, i) => x + row(2088)[i]!);
    expect([...pair!].map((x) => +x.toFixed(5))).toEqual([...unit(mean)].map((x) => +x.toFixed(5)));
  });
});

describe.skipIf(!haveGlove)('static embedder with real GloVe vectors (meaning)', () => {
  let server: Server;
  let embedder: Embedder;
  let base: string;
  const vec = async (text: string) => (await embedder.embed([text]))[0]!;

  beforeAll(async () => {
    ({ server, base } = await serveModels());
    embedder = createStaticEmbedder({ model: GLOVE, modelBaseUrl: base, allowRemote: false });
    await embedder.load();
  });
  afterAll(async () => {
    await embedder?.dispose();
    server?.close();
  });

  it('loads the model2vec folder: 100-d unit vectors', async () => {
    expect(embedder.ref).toEqual({ model: GLOVE, dim: 100 });
    const v = await vec('My doctor said to rest.');
    expect(v).toHaveLength(100);
    expect(cos(v, v)).toBeCloseTo(1, 5);
  });

  it('puts words of one meaning closer than unrelated ones', async () => {
    expect(cos(await vec('doctor'), await vec('physician'))).toBeGreaterThan(cos(await vec('doctor'), await vec('guitar')) + 0.3);
    expect(cos(await vec('I adopted a puppy'), await vec('We got a new dog'))).toBeGreaterThan(cos(await vec('I adopted a puppy'), await vec('The invoice is overdue')));
  });

  it('ranks by meaning in the dense index: "doctor" finds the physician memory with no word in common', async () => {
    const texts = [
      'The physician said my blood pressure is fine.',
      'I am learning to play the guitar on weekends.',
      'Our flight to Lisbon leaves on Friday morning.',
      'The electricity bill went up again this month.',
      'Caroline painted a sunset over the lake.',
    ];
    const index = new DenseIndex(100);
    (await embedder.embed(texts)).forEach((v, i) => index.upsert(`m${i}`, v));
    const hits = index.search(await vec('When did I last see my doctor?'), 3, () => true);
    expect(hits[0]!.id).toBe('m0');
    expect(hits[0]!.cosine).toBeGreaterThan(hits[1]!.cosine + 0.05);
  });

  it('joins a memory to the theme of its meaning only when themes use vectors', async () => {
    // Everyday memories a day apart (no co-occurrence): birthdays, bills, appointments, errands, plans.
    const memories = everydayMemories(300);
    const vectors = await embedder.embed(memories.map((m) => m.text));
    const party = 'Grandma turns ninety, we should throw her a party.'; // no word in common with the birthday memories
    const [partyVector] = await embedder.embed([party]);
    const joined = (semantic: boolean) => {
      const index = new ThemeIndex({ ...DEFAULT_THEMES, semantic });
      memories.forEach((m, i) => index.assign({ id: `m${i}`, text: m.text, at: i * DAY, vector: vectors[i]! }));
      const a = index.assign({ id: 'party', text: party, at: 400 * DAY, vector: partyVector! });
      const kinds = [...index.get(a.theme)!.members].filter((id) => id !== 'party').map((id) => memories[Number(id.slice(1))]!.kind);
      return { created: a.created, birthdays: kinds.filter((k) => k === 'birthday').length / Math.max(1, kinds.length) };
    };
    expect(joined(false)).toEqual({ created: true, birthdays: 0 });
    const semantic = joined(true);
    expect(semantic.created).toBe(false);
    expect(semantic.birthdays).toBeGreaterThan(0.5);
  });

  it('a missing model folder is a model-not-found error naming the URL', async () => {
    const missing = createStaticEmbedder({ model: 'mneme/absent', modelBaseUrl: base, allowRemote: false });
    await expect(missing.load()).rejects.toMatchObject({ name: 'ModelError', code: 'model-not-found', message: expect.stringContaining('/mneme/absent/') });
  });
});
