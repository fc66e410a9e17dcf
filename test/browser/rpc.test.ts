// The RPC layer across a real worker boundary in Chromium.
import { describe, expect, test } from 'vitest';
import { InvalidInputError, RpcError } from '../../src/errors';
import { createRpcClient } from '../../src/rpc/client';
import type { TestService } from '../workers/test-service';
import { rejection } from '../support/rejection';

function startTestWorker(timeoutMs = 10_000) {
  const worker = new Worker(new URL('../workers/rpc-test.worker.ts', import.meta.url), { type: 'module' });
  return createRpcClient<TestService>(worker, { name: 'rpc-test', timeoutMs });
}


describe('rpc through a real worker', () => {
  test('results, rebuilt error classes and progress callbacks cross', async () => {
    const client = startTestWorker();
    try {
      expect(await client.call('echo', [new Float32Array([1, 2])])).toEqual(new Float32Array([1, 2]));
      const error = await rejection(client.call('fail', ['mneme']));
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.code).toBe('text-empty');
      expect((await rejection(client.call('fail', ['type']))).message).toBe('TypeError: x is not a function');
      const steps: number[] = [];
      expect(await client.call('count', [3, (i: number) => steps.push(i)])).toBe(3);
      expect(steps).toEqual([1, 2, 3]);
    } finally {
      client.terminate();
    }
  });

  test('timeout and abort reject locally and cancel the call in the worker', async () => {
    const client = startTestWorker();
    try {
      const timedOut = await rejection(client.call('wait', [60_000], { timeoutMs: 50 }));
      expect(timedOut).toBeInstanceOf(RpcError);
      expect(timedOut.code).toBe('timeout');

      const controller = new AbortController();
      const call = client.call('wait', [60_000], { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      const aborted = await rejection(call);
      expect(aborted).toBeInstanceOf(RpcError);
      expect(aborted.code).toBe('aborted');

      await expect.poll(() => client.call('cancelledCalls', [])).toHaveLength(2);
    } finally {
      client.terminate();
    }
  });

  test('a worker that dies rejects every pending call with worker-crashed', async () => {
    const client = startTestWorker();
    expect(await client.call('echo', ['up'])).toBe('up');
    const waiting = client.call('wait', [60_000]);
    const crashing = client.call('crash', []);
    const [a, b] = await Promise.all([rejection(waiting), rejection(crashing)]);
    for (const error of [a, b]) {
      expect(error).toBeInstanceOf(RpcError);
      expect(error.code).toBe('worker-crashed');
      expect(error.message).toContain('boom');
    }
    expect(client.alive).toBe(false);
    expect((await rejection(client.call('echo', [1]))).code).toBe('worker-crashed');
  });

  test('terminating rejects pending calls with worker-crashed', async () => {
    const client = startTestWorker();
    const call = client.call('wait', [60_000]);
    await new Promise((r) => setTimeout(r, 20));
    client.terminate();
    expect((await rejection(call)).code).toBe('worker-crashed');
  });

  test('a worker whose script cannot load counts as crashed', async () => {
    const worker = new Worker(new URL('/does-not-exist.worker.js', location.href), { type: 'module' });
    const client = createRpcClient<TestService>(worker, { name: 'missing', timeoutMs: 10_000 });
    const error = await rejection(client.call('echo', [1]));
    expect(error.code).toBe('worker-crashed');
  });
});
