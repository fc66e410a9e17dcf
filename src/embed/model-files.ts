// Fetches the files of a model folder for models Mneme runs itself (not
// through transformers.js): from the self-hosted base URL or the hub, as
// `modelSource` says, through the Cache API (so a later session works
// offline), with byte progress in transformers.js's event shape.
import { ModelError, RpcError } from '../errors';
import { modelSource, type ModelLocation } from './config';
import type { TransformersProgressEvent } from './progress';

export interface ModelFileOptions {
  signal?: AbortSignal;
  /** Hears 'initiate', 'progress' and 'done' for the file, as LoadProgressTracker takes them. */
  onEvent?: (event: TransformersProgressEvent) => void;
  /** What the model is, for error messages. Default 'embedding model'. */
  what?: string;
}

/**
 * The bytes of `file` in the model's folder.
 * @throws ModelError('model-not-found') when the file is missing or the host cannot be reached,
 *   ModelError('remote-loading-disabled') when there is nowhere to load from, RpcError('aborted') when cancelled
 */
export async function fetchModelFile(location: ModelLocation, file: string, options: ModelFileOptions = {}): Promise<ArrayBuffer> {
  const what = options.what ?? 'embedding model';
  const source = modelSource(location, what);
  const url = new URL(file, source.url).href;
  options.onEvent?.({ status: 'initiate', file });
  try {
    const cache = typeof caches === 'undefined' ? undefined : await caches.open(location.cacheName);
    let response = await cache?.match(url);
    if (!response) {
      response = await fetch(url, options.signal ? { signal: options.signal } : {});
      if (!response.ok) throw notFound(location, source, url, `HTTP ${response.status}`, what);
      await cache?.put(url, response.clone()).catch(() => undefined); // a full quota only costs the offline copy
    }
    const bytes = await readBody(response, file, options.onEvent);
    options.onEvent?.({ status: 'done', file });
    return bytes;
  } catch (error) {
    if (options.signal?.aborted) throw new RpcError('aborted', `Loading ${what} "${location.model}" was cancelled`);
    if (error instanceof ModelError) throw error;
    throw notFound(location, source, url, error instanceof Error ? error.message : String(error), what);
  }
}

/** The body, read in chunks so that progress can be reported. */
async function readBody(response: Response, file: string, onEvent: ModelFileOptions['onEvent']): Promise<ArrayBuffer> {
  const total = Number(response.headers.get('content-length') ?? 0);
  if (!onEvent || !response.body) return response.arrayBuffer();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onEvent({ status: 'progress', file, loaded, total: Math.max(total, loaded) });
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out.buffer;
}

function notFound(location: ModelLocation, source: { kind: string; url: string }, url: string, reason: string, what: string): ModelError {
  const fix =
    source.kind === 'self-hosted'
      ? `Check that ${source.url} serves the model's files, or change modelBaseUrl or model.`
      : 'Check the model id and the network, or host the files yourself and set modelBaseUrl.';
  return new ModelError('model-not-found', `Could not fetch ${what} "${location.model}" file ${url}: ${reason}. ${fix}`);
}
