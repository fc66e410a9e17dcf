import { describe, expect, test } from 'vitest';
import { EMBEDDER_DEFAULTS, modelSource, resolveEmbedderConfig, validateTexts } from '../../src/embed/config';
import { createWorkerEmbedder } from '../../src/embed/worker-embedder';
import { InvalidInputError, ModelError } from '../../src/errors';

const PAGE = 'http://localhost:5173/app/index.html';

function rejects(fn: () => unknown, code: string, mentions: string) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe(code);
    expect((error as Error).message).toContain(mentions);
    return;
  }
  expect.unreachable('expected an InvalidInputError');
}

describe('resolveEmbedderConfig', () => {
  test('an empty config gets every default', () => {
    expect(resolveEmbedderConfig()).toEqual({ ...EMBEDDER_DEFAULTS, modelBaseUrl: undefined });
    expect(EMBEDDER_DEFAULTS).toMatchObject({ model: 'Xenova/all-MiniLM-L6-v2', dtype: 'q8', pooling: 'mean', normalize: true, allowRemote: true, device: 'wasm' });
  });

  test('explicit falsy values are kept, not replaced by defaults', () => {
    const c = resolveEmbedderConfig({ normalize: false, allowRemote: false, modelBaseUrl: '/models' }, PAGE);
    expect(c.normalize).toBe(false);
    expect(c.allowRemote).toBe(false);
    rejects(() => resolveEmbedderConfig({ batchSize: 0 }), 'invalid-input', 'batchSize');
  });

  test('modelBaseUrl resolves against the page and loses its trailing slash', () => {
    expect(resolveEmbedderConfig({ modelBaseUrl: '/test/models/' }, PAGE).modelBaseUrl).toBe('http://localhost:5173/test/models');
    expect(resolveEmbedderConfig({ modelBaseUrl: 'models' }, PAGE).modelBaseUrl).toBe('http://localhost:5173/app/models');
    expect(resolveEmbedderConfig({ modelBaseUrl: 'https://cdn.example.com/m' }).modelBaseUrl).toBe('https://cdn.example.com/m');
    rejects(() => resolveEmbedderConfig({ modelBaseUrl: '/models' }), 'invalid-input', 'absolute');
    rejects(() => resolveEmbedderConfig({ modelBaseUrl: 'file:///models' }, PAGE), 'invalid-input', 'http(s)');
    rejects(() => resolveEmbedderConfig({ modelBaseUrl: '' }, PAGE), 'invalid-input', 'modelBaseUrl');
  });

  test.each([
    [{ model: '' }, 'model'],
    [{ model: '../etc' }, 'model'],
    [{ model: 'org/' }, 'model'],
    [{ dtype: 'fp64' }, "dtype must be one of 'fp32'"],
    [{ pooling: 'max' }, 'pooling'],
    [{ device: 'cuda' }, 'device'],
    [{ batchSize: 2.5 }, 'batchSize'],
    [{ batchSize: 100_000 }, 'batchSize'],
    [{ normalize: 'yes' }, 'normalize must be true or false'],
    [{ cacheName: '' }, 'cacheName'],
  ])('rejects %j naming the setting', (config, mentions) => {
    rejects(() => resolveEmbedderConfig(config as never, PAGE), 'invalid-input', mentions);
  });

  test('createWorkerEmbedder validates eagerly, and starts no worker (none exists under Node)', () => {
    rejects(() => createWorkerEmbedder({ dtype: 'fp64' as never }), 'invalid-input', 'dtype');
    const embedder = createWorkerEmbedder({ modelBaseUrl: '/models', model: 'mneme/x' });
    expect(embedder.ref).toBeUndefined();
  });
});

describe('modelSource', () => {
  test('a base URL replaces the hub; allowRemote only governs the hub', () => {
    const selfHosted = resolveEmbedderConfig({ modelBaseUrl: '/m', model: 'mneme/a', allowRemote: false }, PAGE);
    expect(modelSource(selfHosted)).toEqual({ kind: 'self-hosted', url: 'http://localhost:5173/m/mneme/a/' });
    expect(modelSource(resolveEmbedderConfig({ model: 'org/model' }))).toEqual({ kind: 'hub', url: 'https://huggingface.co/org/model/resolve/main/' });
  });

  test('no base URL with remote loading off is a ModelError naming both settings', () => {
    const config = resolveEmbedderConfig({ allowRemote: false });
    expect(() => modelSource(config)).toThrow(ModelError);
    try {
      modelSource(config);
    } catch (error) {
      expect((error as ModelError).code).toBe('remote-loading-disabled');
      expect((error as Error).message).toMatch(/allowRemote.*modelBaseUrl|modelBaseUrl.*allowRemote/);
    }
  });
});

describe('validateTexts', () => {
  test('accepts an array of non-empty strings, including an empty array', () => {
    expect(() => validateTexts(['a', ' b '])).not.toThrow();
    expect(() => validateTexts([])).not.toThrow();
  });

  test('names the offending entry', () => {
    rejects(() => validateTexts('hello'), 'invalid-input', 'texts must be an array');
    rejects(() => validateTexts(['ok', 3]), 'invalid-input', 'texts[1] must be a string');
    rejects(() => validateTexts(['ok', 'fine', '   ']), 'text-empty', 'texts[2] is empty');
  });
});
