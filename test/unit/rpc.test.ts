// The RPC layer's logic over a Node MessageChannel: the "worker" is the other
// port, with terminate() and an 'error' event faked. Real workers are covered
// in test/browser/rpc.test.ts.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { expose, transferHandlers, wrap } from 'comlink';
import { afterEach, describe, expect, test } from 'vitest';
import { InvalidInputError, MnemeError, ModelError, RpcError } from '../../src/errors';
import { createRpcClient } from '../../src/rpc/client';
import { exposeService } from '../../src/rpc/server';
import { createTestService, type TestService } from '../workers/test-service';
import { fakeWorker } from '../support/fake-worker';
import { rejection } from '../support/rejection';

/** comlink's own 'throw' handler, read before any Mneme client or server exists. */
const comlinkThrow = transferHandlers.get('throw');

const open: MessagePort[] = [];
afterEach(() => {
  for (const port of open.splice(0)) port.close();
});

function setup(options: { timeoutMs?: number; toError?: (e: unknown) => MnemeError } = {}) {
  const { port1, port2 } = new MessageChannel();
  open.push(port1, port2);
  exposeService<TestService>(createTestService(), {
    endpoint: port1 as never,
    ...(options.toError ? { toError: options.toError } : {}),
  });
  const worker = fakeWorker(port2);
  const client = createRpcClient<TestService>(worker, { name: 'test', timeoutMs: options.timeoutMs ?? 5_000 });
  return { client, worker };
}


describe('rpc over a MessageChannel', () => {
  test('calls return their results', async () => {
    const { client } = setup();
    expect(await client.call('echo', [{ a: [1, 2], b: 'x' }])).toEqual({ a: [1, 2], b: 'x' });
    expect(await client.call('wait', [1])).toBe('waited 1');
  });

  test('a MnemeError crosses as its own subclass and code', async () => {
    const { client } = setup();
    const error = await rejection(client.call('fail', ['mneme']));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.code).toBe('text-empty');
    expect(error.message).toBe('texts[0] is empty');
  });

  test('other errors arrive as MnemeError code internal, never a bare string', async () => {
    const { client } = setup();
    const typeError = await rejection(client.call('fail', ['type']));
    expect(typeError.code).toBe('internal');
    expect(typeError.message).toBe('TypeError: x is not a function');
    const stringError = await rejection(client.call('fail', ['string']));
    expect(stringError.code).toBe('internal');
    expect(stringError.message).toContain('a bare string');
  });

  test("a service's toError maps foreign errors to its own kind", async () => {
    const { client } = setup({ toError: (e) => new ModelError('embedding-failed', String(e)) });
    const error = await rejection(client.call('fail', ['type']));
    expect(error).toBeInstanceOf(ModelError);
    expect(error.code).toBe('embedding-failed');
    expect(await rejection(client.call('fail', ['mneme']))).toBeInstanceOf(InvalidInputError); // Mneme's own pass through
  });

  test('a call past its time limit rejects with timeout and is cancelled in the worker', async () => {
    const { client } = setup({ timeoutMs: 5_000 });
    const error = await rejection(client.call('wait', [10_000], { timeoutMs: 30 }));
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('timeout');
    expect(error.message).toContain('test.wait');
    await expect.poll(() => client.call('cancelledCalls', [])).toHaveLength(1);
  });

  test('aborting rejects at once with aborted and cancels the call in the worker', async () => {
    const { client } = setup();
    const controller = new AbortController();
    const call = client.call('wait', [10_000], { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    const error = await rejection(call);
    expect(error).toBeInstanceOf(RpcError);
    expect(error.code).toBe('aborted');
    await expect.poll(() => client.call('cancelledCalls', [])).toHaveLength(1);
    expect(await client.call('echo', ['still fine'])).toBe('still fine');
  });

  test('an already aborted signal never reaches the worker', async () => {
    const { client } = setup();
    const error = await rejection(client.call('wait', [10], { signal: AbortSignal.abort() }));
    expect(error.code).toBe('aborted');
    expect(await client.call('cancelledCalls', [])).toEqual([]);
  });

  test("the worker's error event rejects every pending call with worker-crashed and ends the client", async () => {
    const { client, worker } = setup();
    const pending = [client.call('wait', [10_000]), client.call('wait', [10_000])];
    await new Promise((r) => setTimeout(r, 10));
    worker.crash('Uncaught Error: boom');
    for (const call of pending) {
      const error = await rejection(call);
      expect(error).toBeInstanceOf(RpcError);
      expect(error.code).toBe('worker-crashed');
      expect(error.message).toContain('boom');
    }
    expect(worker.terminated).toBe(true);
    expect(client.alive).toBe(false);
    expect((await rejection(client.call('echo', [1]))).code).toBe('worker-crashed');
  });

  test('terminate rejects pending calls with worker-crashed', async () => {
    const { client, worker } = setup();
    const call = client.call('wait', [10_000]);
    client.terminate();
    expect((await rejection(call)).code).toBe('worker-crashed');
    expect(worker.terminated).toBe(true);
  });

  test('progress callbacks arrive in order, before the result', async () => {
    const { client } = setup();
    const steps: number[] = [];
    const result = await client.call('count', [5, (i: number) => steps.push(i)]);
    expect(result).toBe(5);
    expect(steps).toEqual([1, 2, 3, 4, 5]);
  });

  test('arguments that cannot be cloned reject as a MnemeError', async () => {
    const { client } = setup();
    const error = await rejection(client.call('echo', [{ f: () => 1 }]));
    expect(error.code).toBe('internal');
    expect(error.message).toContain('DataCloneError');
  });

  test('an unknown method is an internal error, and a bad time limit is invalid input', async () => {
    const { client } = setup();
    const error = await rejection((client.call as (m: string, a: unknown[]) => Promise<unknown>)('nope', []));
    expect(error.code).toBe('internal');
    await expect(client.call('echo', [1], { timeoutMs: 0 })).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe("comlink's global state is the host app's", () => {
  class HostError extends Error {
    override name = 'HostError';
    constructor(readonly detail: string) {
      super(`host failed: ${detail}`);
    }
  }

  test("Mneme clients and servers leave comlink's 'throw' handler alone, so a host's comlink errors arrive as comlink delivers them", async () => {
    const { client } = setup();
    expect(await rejection(client.call('fail', ['mneme']))).toBeInstanceOf(InvalidInputError); // Mneme's errors still cross typed
    expect(comlinkThrow).toBeDefined();
    expect(transferHandlers.get('throw')).toBe(comlinkThrow);

    const { port1, port2 } = new MessageChannel();
    open.push(port1, port2);
    expose({ run: () => Promise.reject(new HostError('disk')) }, port1 as never);
    port2.start();
    const host = wrap<{ run(): Promise<void> }>(port2 as never);
    const error: unknown = await host.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(MnemeError);
    expect(error).toMatchObject({ name: 'HostError', message: 'host failed: disk' });
  });
});
