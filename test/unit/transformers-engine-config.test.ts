// The transformers.js engine's configuration: defaults by ??, and every bad
// setting rejected with an InvalidInputError that names it.
import { describe, expect, test } from 'vitest';
import { InvalidInputError } from '../../src/errors';
import { resolveTransformersEngineConfig, TRANSFORMERS_ENGINE_DEFAULTS } from '../../src/engine/transformers/config';

describe('resolveTransformersEngineConfig', () => {
  test('applies the defaults', () => {
    expect(resolveTransformersEngineConfig()).toEqual({ ...TRANSFORMERS_ENGINE_DEFAULTS, modelBaseUrl: undefined, contextLength: undefined });
  });

  test('keeps explicit values, resolves a relative base URL against the page, and keeps an explicit false', () => {
    const config = resolveTransformersEngineConfig({ modelBaseUrl: '/models/', allowRemote: false, device: 'webgpu', sliceTokens: 1, contextLength: 512 }, 'http://localhost:5173/app/');
    expect(config).toMatchObject({ modelBaseUrl: 'http://localhost:5173/models', allowRemote: false, device: 'webgpu', sliceTokens: 1, contextLength: 512 });
  });

  test.each([
    [{ model: '../x' }, /model must be a model id/],
    [{ dtype: 'fp64' }, /dtype must be one of/],
    [{ device: 'cuda' }, /device must be one of/],
    [{ sliceTokens: 0 }, /sliceTokens/],
    [{ sliceTokens: 2.5 }, /sliceTokens/],
    [{ contextLength: 1 }, /contextLength/],
    [{ allowRemote: 'yes' }, /allowRemote/],
    [{ cacheName: '' }, /cacheName/],
    [{ modelBaseUrl: 'ftp://x' }, /modelBaseUrl/],
  ])('rejects %j', (bad, message) => {
    expect(() => resolveTransformersEngineConfig(bad as never, 'http://localhost/')).toThrow(message);
    expect(() => resolveTransformersEngineConfig(bad as never, 'http://localhost/')).toThrow(InvalidInputError);
  });
});
