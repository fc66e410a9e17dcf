// Compile-time checks (tsc runs over test/): a service interface types both the
// client's calls and the worker's handler, so neither side casts.
import { expectTypeOf, test } from 'vitest';
import type { EmbeddingRef } from '../../src/memory/types';
import type { LoadProgress, ResolvedEmbedderConfig } from '../../src/embed/types';
import type { RpcClient } from '../../src/rpc/client';
import type { CallContext, EmbedService, ServiceHandler } from '../../src/rpc/protocol';

test('a service interface types the client and the handler alike', () => {
  type Client = RpcClient<EmbedService>;
  type Handler = ServiceHandler<EmbedService>;

  expectTypeOf<Handler['embed']>().parameters.toEqualTypeOf<[CallContext, readonly string[]]>();
  expectTypeOf<Handler['load']>().returns.resolves.toEqualTypeOf<EmbeddingRef>();
  expectTypeOf<Parameters<Handler['load']>[2]>().toEqualTypeOf<((progress: LoadProgress) => void) | undefined>();

  // Never run: only compiled.
  const uncalled = (client: Client, config: ResolvedEmbedderConfig) => {
    expectTypeOf(client.call('embed', [['a', 'b']])).resolves.toEqualTypeOf<Float32Array[]>();
    expectTypeOf(client.call('load', [config])).resolves.toEqualTypeOf<EmbeddingRef>();
    // @ts-expect-error: no such method
    void client.call('embedd', [['a']]);
    // @ts-expect-error: arguments are checked against the method
    void client.call('embed', ['a']);
    // @ts-expect-error: a signal goes in the options, never in the arguments
    void client.call('embed', [['a'], AbortSignal.abort()]);
  };
  expectTypeOf(uncalled).toBeFunction();
});
