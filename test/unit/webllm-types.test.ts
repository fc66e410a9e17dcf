// Compile-time checks (tsc runs over test/): WebLLM's real MLCEngine is what
// our loop's structural view of it says, and chat code typed for WebLLM's
// `engine.chat.completions.create` type-checks against ours unchanged.
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, MLCEngine } from '@mlc-ai/web-llm';
import { expectTypeOf, test } from 'vitest';
import type { ChatCompletionsApi } from '../../src/engine/openai';
import type { MlcEngineLike } from '../../src/engine/webllm/internals';

test("WebLLM's MLCEngine has the public calls our loop drives", () => {
  expectTypeOf<MLCEngine>().toExtend<MlcEngineLike>();
});

test('chat code written for WebLLM runs on createChatCompletions unchanged', () => {
  // The same function body, typed once for WebLLM's engine and once for ours.
  const chat = async (engine: Pick<MLCEngine, 'chat'> | ChatCompletionsApi, request: ChatCompletionRequest) => {
    if (request.stream) {
      let text = '';
      for await (const chunk of await engine.chat.completions.create({ ...request, stream: true })) text += chunk.choices[0]?.delta.content ?? '';
      return text;
    }
    const reply = await engine.chat.completions.create({ ...request, stream: false });
    return reply.choices[0]?.message.content ?? '';
  };
  expectTypeOf(chat).returns.resolves.toEqualTypeOf<string>();
  expectTypeOf<Awaited<ReturnType<ChatCompletionsApi['chat']['completions']['create']>>>().toEqualTypeOf<AsyncIterable<ChatCompletionChunk> | ChatCompletion>();
});
