// The OpenAI-shaped chat.completions.create on a real engine in its worker:
// the transformers.js engine with the tiny stand-in SmolLM (real tokenizer and
// ChatML template, random weights), in Chromium. It shows the API works over
// the Engine interface, not WebLLM specifically; what the text says is noise.
import { afterAll, describe, expect, it } from 'vitest';
import { layoutPrompt } from '../../src/engine/layout';
import { createChatCompletions, type MnemeCompletionUsage } from '../../src/engine/openai';
import { standinEngine } from '../support/standin-engine';

const engine = standinEngine('wasm', 'mneme-test-chat-completions');
afterAll(() => engine.dispose());

describe('chat.completions.create over the transformers.js engine', () => {
  const messages = [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'When do the tiles come?' },
  ];

  it('gives the engine’s own greedy reply, streamed or not, and reuses the cache on a follow-up', async () => {
    const api = createChatCompletions(engine);
    const info = await engine.load();
    const reply = await api.chat.completions.create({ messages, max_tokens: 8 });
    expect(reply).toMatchObject({ object: 'chat.completion', model: info.model, usage: { completion_tokens: 8 } });
    const direct = await engine.generate(await layoutPrompt({ system: 'Be brief.', draft: 'When do the tiles come?' }, info.template, (t) => engine.tokenize(t)), { maxTokens: 8 });
    expect(reply.choices[0]?.message.content).toBe(direct.text);

    let streamed = '';
    let last;
    for await (const chunk of await api.chat.completions.create({ messages, max_tokens: 8, stream: true, stream_options: { include_usage: true } })) {
      streamed += chunk.choices[0]?.delta.content ?? '';
      last = chunk;
    }
    expect(streamed).toBe(direct.text);
    expect(last?.usage?.completion_tokens).toBe(8);

    // The follow-up extends the conversation: the cache keeps at least the first prompt.
    const firstPrompt = reply.usage?.prompt_tokens ?? 0;
    const followUp = await api.chat.completions.create({ messages: [...messages, { role: 'assistant', content: direct.text }, { role: 'user', content: 'And the paint?' }], max_tokens: 4 });
    expect((followUp.usage as MnemeCompletionUsage).extra.tokens_reused).toBeGreaterThanOrEqual(firstPrompt);
  });
});
