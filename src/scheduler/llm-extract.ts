// The LLM extractor: the engine reads a message beside the memories it may
// touch and answers in JSON — memories to add, to rewrite, or to retire because
// the message contradicts them. The answer is validated strictly; anything off
// is refused with a typed error, and the scheduler falls back to the heuristic.
import { ModelError } from '../errors';
import { layoutPrompt } from '../engine/layout';
import type { Engine } from '../engine/types';
import { isPlainObject } from '../memory/scope';
import type { MemoryRecord } from '../memory/types';

export interface ExtractionDecision {
  add: { text: string; importance: number }[];
  update: { id: string; text: string }[];
  retire: { id: string; reason: string }[];
}

/** Replaceable: turns a message (and the memories it may touch) into changes. */
export interface Extractor {
  extract(message: string, related: readonly MemoryRecord[]): Promise<ExtractionDecision>;
}

const SYSTEM = `You maintain a user's long-term memory. Read the user's message and the numbered notes.
Reply with JSON only, of this shape:
{"add":[{"text":"...","importance":0.5}],"update":[{"note":1,"text":"..."}],"retire":[{"note":2,"reason":"..."}]}
- add: facts, plans or preferences worth remembering, each a short self-contained sentence.
- update: a note the message corrects; give its new text.
- retire: a note the message makes untrue.
Use empty lists when nothing applies.`;

function refuse(why: string): never {
  throw new ModelError('generation-failed', `The model's memory extraction was not valid JSON of the expected shape (${why}); the heuristic extractor is used instead.`);
}

/** Validates the model's reply against the notes it was shown. */
export function parseDecision(reply: string, related: readonly MemoryRecord[], maxText: number): ExtractionDecision {
  const start = reply.indexOf('{');
  const end = reply.lastIndexOf('}');
  if (start < 0 || end < start) refuse('no JSON object');
  let value: unknown;
  try {
    value = JSON.parse(reply.slice(start, end + 1));
  } catch {
    refuse('unparsable JSON');
  }
  if (!isPlainObject(value)) refuse('not an object');
  const list = (key: string): Record<string, unknown>[] => {
    const v = value[key] ?? [];
    if (!Array.isArray(v) || !v.every(isPlainObject)) refuse(`"${key}" is not a list of objects`);
    return v;
  };
  const text = (v: unknown, where: string): string => {
    if (typeof v !== 'string' || v.trim() === '' || v.length > maxText) refuse(`${where} needs a non-empty text`);
    return v.trim();
  };
  const note = (v: unknown, where: string): string => {
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > related.length) refuse(`${where} names no shown note`);
    return related[(v as number) - 1]!.id;
  };
  return {
    add: list('add').map((a, i) => {
      const importance = a.importance ?? 0.5;
      if (typeof importance !== 'number' || !(importance >= 0 && importance <= 1)) refuse(`add[${i}].importance is not 0..1`);
      return { text: text(a.text, `add[${i}]`), importance };
    }),
    update: list('update').map((u, i) => ({ id: note(u.note, `update[${i}]`), text: text(u.text, `update[${i}]`) })),
    retire: list('retire').map((r, i) => ({ id: note(r.note, `retire[${i}]`), reason: typeof r.reason === 'string' && r.reason.trim() !== '' ? r.reason.trim() : 'contradicted' })),
  };
}

export function llmExtractor(engine: Engine, options: { maxTokens?: number; maxTextLength?: number } = {}): Extractor {
  return {
    async extract(message, related) {
      if (!engine.info) await engine.load();
      const notes = related.map((m, i) => `${i + 1}. ${m.text}`);
      const prompt = await layoutPrompt({ system: SYSTEM, working: notes, draft: message }, engine.info!.template, (t) => engine.tokenize(t));
      const reply = await engine.generate(prompt, { maxTokens: options.maxTokens ?? 256 });
      return parseDecision(reply.text, related, options.maxTextLength ?? 16_384);
    },
  };
}
