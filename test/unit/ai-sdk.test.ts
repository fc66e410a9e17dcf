// The pure parts of Mneme for the AI SDK: the prompt read as chat messages,
// and a chat completion's chunks read as LanguageModelV4 stream parts, usage
// and finish reasons. The chunks are written here by hand (a test double of
// the engine's stream): the browser test shows them coming from the engine.
import type { LanguageModelV4Prompt, LanguageModelV4StreamPart } from '@ai-sdk/provider';
import type { ChatCompletionChunk } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import { newUserText, replyText, toChatMessages } from '../../src/ai-sdk/messages';
import { finishReasonOf, streamParts, usageOf } from '../../src/ai-sdk/result';
import { augmentMessages, lastUserText, memoryNote } from '../../src/client/augment';
import { InvalidInputError } from '../../src/errors';

const prompt: LanguageModelV4Prompt = [
  { role: 'system', content: 'Be brief.', providerOptions: { app: { tag: 'kept' } } },
  { role: 'user', content: [{ type: 'text', text: 'Where does Ana live?' }] },
  { role: 'assistant', content: [{ type: 'reasoning', text: 'thinking' }, { type: 'text', text: 'In Porto.' }] },
  { role: 'user', content: [{ type: 'text', text: 'And her' }, { type: 'text', text: 'sister?' }] },
];

describe('the AI SDK prompt, read for Mneme', () => {
  it('augments like an OpenAI request: the note joins the system message, whose other fields stay', () => {
    const out = augmentMessages(prompt, ['Ana lives in Porto']);
    expect(out[0]).toEqual({ role: 'system', content: `Be brief.\n\n${memoryNote(['Ana lives in Porto'])}`, providerOptions: { app: { tag: 'kept' } } });
    expect(out.slice(1)).toEqual(prompt.slice(1));
    expect(lastUserText(prompt)).toBe('And her sister?');
  });

  it('becomes text chat messages; files and tool messages are refused, typed', () => {
    expect(toChatMessages(prompt)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Where does Ana live?' },
      { role: 'assistant', content: 'In Porto.' },
      { role: 'user', content: 'And her\nsister?' },
    ]);
    expect(() => toChatMessages([{ role: 'user', content: [{ type: 'file', data: { type: 'url', url: new URL('https://example.com/a.png') }, mediaType: 'image/png' }] }])).toThrow(InvalidInputError);
    expect(() => toChatMessages([{ role: 'tool', content: [] }])).toThrow(/'tool' message/);
    expect(() => toChatMessages([])).toThrow(InvalidInputError);
  });

  it('has a new user message only when it ends with one, and a reply’s text', () => {
    expect(newUserText(prompt)).toBe('And her sister?');
    expect(newUserText(prompt.slice(0, 3))).toBeUndefined();
    expect(replyText([{ type: 'reasoning', text: 'hm' }, { type: 'text', text: 'In ' }, { type: 'text', text: 'Porto.' }])).toBe('In Porto.');
  });
});

const chunk = (content: string | undefined, extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk => ({
  id: 'c1',
  created: 1,
  model: 'm',
  object: 'chat.completion.chunk',
  choices: content === undefined ? [] : [{ index: 0, delta: { content }, finish_reason: null, logprobs: null }],
  ...extra,
});
const usage = { prompt_tokens: 100, completion_tokens: 3, total_tokens: 103, extra: { tokens_reused: 92, tokens_prefilled: 8, memories: 2, memories_held: 2 } } as unknown as ChatCompletionChunk['usage'];

async function* chunks(list: ChatCompletionChunk[], failure?: Error): AsyncGenerator<ChatCompletionChunk> {
  yield* list;
  if (failure) throw failure;
}

async function read(stream: ReadableStream<LanguageModelV4StreamPart>): Promise<LanguageModelV4StreamPart[]> {
  const parts: LanguageModelV4StreamPart[] = [];
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  return parts;
}

const options = () => ({ warnings: [], includeRaw: false, signal: new AbortController().signal, cancel: () => undefined });

describe('a chat completion, read as the AI SDK has results', () => {
  it('maps usage: what the cache held is cacheRead, what was prefilled at send noCache; the finish reason as the spec has it', () => {
    expect(usageOf(usage)).toMatchObject({ inputTokens: { total: 100, noCache: 8, cacheRead: 92 }, outputTokens: { total: 3, text: 3 } });
    expect(usageOf(undefined).inputTokens.total).toBeUndefined();
    expect(finishReasonOf('length')).toEqual({ unified: 'length', raw: 'length' });
    expect(finishReasonOf('abort')).toEqual({ unified: 'other', raw: 'abort' });
  });

  it('streams text deltas in one block, then a finish carrying the usage chunk that came alone, and Mneme’s figures', async () => {
    const finishing = chunk('', { choices: [{ index: 0, delta: {}, finish_reason: 'stop', logprobs: null }] });
    const parts = await read(streamParts(chunks([chunk('In'), chunk(' Porto.'), finishing, chunk(undefined, { usage })]), options()));
    expect(parts.map((p) => p.type)).toEqual(['stream-start', 'response-metadata', 'text-start', 'text-delta', 'text-delta', 'text-end', 'finish']);
    expect(parts.at(-1)).toMatchObject({ finishReason: { unified: 'stop' }, usage: { inputTokens: { cacheRead: 92 } }, providerMetadata: { mneme: { memories_held: 2 } } });
  });

  it('gives an error part for a failed reply and finishes as an error', async () => {
    const failure = new Error('engine lost');
    const parts = await read(streamParts(chunks([chunk('In')], failure), options()));
    expect(parts.slice(-3)).toEqual([{ type: 'error', error: failure }, { type: 'text-end', id: '0' }, expect.objectContaining({ type: 'finish', finishReason: { unified: 'error', raw: undefined } })]);
  });
});
