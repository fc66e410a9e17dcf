// The double of `LanguageModel` follows the rules it cites (D1–D8 in
// test/support/prompt-api-double.ts); the engine's contract tests rely on them.
import { describe, expect, it } from 'vitest';
import { countTokens, FRAMING, LanguageModelDouble, type SessionDouble } from '../support/prompt-api-double';

const user = (content: string) => ({ role: 'user' as const, content });

describe('the LanguageModel double', () => {
  it('D1 a system message only first; D2 initialPrompts beyond the window are refused, a monitor hears 0 and 1', async () => {
    const model = new LanguageModelDouble({ contextWindow: 20 });
    const heard: number[] = [];
    const session = await model.create({ initialPrompts: [{ role: 'system', content: 'be brief' }], monitor: (m) => m.addEventListener('downloadprogress', (e) => heard.push((e as ProgressEvent).loaded)) });
    expect(heard).toEqual([0, 1]);
    await expect(session.append([{ role: 'system', content: 'late' }])).rejects.toBeInstanceOf(TypeError);
    await expect(model.create({ initialPrompts: [user('one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen')] })).rejects.toMatchObject({ name: 'QuotaExceededError' });
  });

  it('D3 an append aborted while ongoing leaves nothing; D4 a clone copies the context and can be aborted', async () => {
    const model = new LanguageModelDouble({ msPerToken: 2 });
    const session = (await model.create()) as SessionDouble;
    await session.append([user('kept')]);
    const control = new AbortController();
    const pending = session.append([user('a long message that takes a while to process')], { signal: control.signal });
    setTimeout(() => control.abort(), 4);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(session.later).toEqual([user('kept')]);
    const clone = (await session.clone()) as SessionDouble;
    expect(clone.messages()).toEqual(session.messages());
    await expect(session.clone({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('D5 overflow drops the oldest non-initial messages and fires contextoverflow; what cannot fit is refused, nothing removed', async () => {
    const model = new LanguageModelDouble({ contextWindow: 3 * FRAMING + 5 });
    const session = (await model.create({ initialPrompts: [user('initial')] })) as SessionDouble;
    let overflows = 0;
    session.addEventListener('contextoverflow', () => overflows++);
    await session.append([user('first two')]);
    await session.append([user('second message here')]);
    expect(overflows).toBe(1);
    expect(session.messages()).toEqual([user('initial'), user('second message here')]);
    expect(session.contextUsage).toBe(countTokens(session.messages()));
    await expect(session.append([user('far too many words for this small window to ever hold')])).rejects.toMatchObject({ name: 'QuotaExceededError' });
    expect(session.messages()).toHaveLength(2);
    expect(await session.measureContextUsage!('two words')).toBe(FRAMING + 2);
  });

  it('D6 destroy rejects calls under way and later ones with InvalidStateError; D7 an aborted prompt leaves no pair', async () => {
    const model = new LanguageModelDouble({ msPerToken: 2 });
    const session = (await model.create()) as SessionDouble;
    const control = new AbortController();
    const reader = session.promptStreaming('hello there', { signal: control.signal }).getReader();
    await reader.read();
    control.abort();
    await expect((async () => { for (;;) if ((await reader.read()).done) return; })()).rejects.toMatchObject({ name: 'AbortError' });
    expect(session.later).toEqual([]);
    const running = session.append([user('some words to process here')]);
    session.destroy();
    await expect(running).rejects.toMatchObject({ name: 'InvalidStateError' });
    await expect(session.prompt('again')).rejects.toMatchObject({ name: 'InvalidStateError' });
    expect(typeof session.contextUsage).toBe('number');
  });

  it('D8 legacy sessions have only the old names', async () => {
    const session = (await new LanguageModelDouble({ legacy: true, contextWindow: 99 }).create()) as SessionDouble;
    expect([session.contextUsage, session.contextWindow, session.measureContextUsage]).toEqual([undefined, undefined, undefined]);
    expect([session.inputUsage, session.inputQuota, typeof session.measureInputUsage]).toEqual([0, 99, 'function']);
  });
});
