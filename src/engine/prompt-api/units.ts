// How text maps onto the engine contract's token ids. The Prompt API takes
// text and never exposes its tokenizer, so this engine's "tokens" are units:
// a text of n model tokens (as the model's own measureContextUsage counts it,
// less the framing it adds to every input) becomes n ids — a 52-bit hash of
// the text, then n−1 continuation marks. The same text always gives the same
// ids, so layout offsets, the cache guard's search for a deleted memory and
// common prefixes all work as with a real tokenizer, and a prompt decodes back
// to its texts. Turn markers take one unit each; the model's real framing
// differs, which is why the engine also reports the session's own
// contextUsage (see PromptApiEngine.usage).
import { ModelError } from '../../errors';
import type { ChatTemplatePieces, PromptTokens, SegmentKind } from '../types';
import type { LanguageModelMessage } from './api';

/** Ids below FIRST_TEXT_ID are marks; a text's ids are its hash, then continuations. */
export const MARK = Object.freeze({ continued: 0, system: 1, user: 2, assistant: 3, end: 4 });
const FIRST_TEXT_ID = 16;

/** The chat template of this engine: one mark per turn start and end, no control texts (the API takes structured messages). */
export const PROMPT_API_TEMPLATE: ChatTemplatePieces = Object.freeze({
  prefix: [],
  turnStart: Object.freeze({ system: [MARK.system], user: [MARK.user], assistant: [MARK.assistant] }),
  turnEnd: [MARK.end],
  stopTokens: [],
  specialTexts: [],
});

/** A 52-bit FNV-1a-style hash of `text`, above the marks. */
export function textId(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return FIRST_TEXT_ID + (a >>> 0) * 2 ** 20 + ((b >>> 0) >>> 12);
}

export interface TextUnitsOptions {
  /** Model tokens of a text on its own (framing excluded); at least 1 is used for a non-empty text. */
  measure: (text: string) => Promise<number>;
  /** Most texts remembered (least recently used go first). Default 4096. */
  maxEntries?: number;
}

/** The two-way table between texts and their unit ids. */
export class TextUnits {
  private readonly known = new Map<number, { text: string; units: number }>(); // insertion order = recency
  private readonly maxEntries: number;

  constructor(private readonly options: TextUnitsOptions) {
    this.maxEntries = options.maxEntries ?? 4096;
  }

  /** The ids of each text (measured once, then remembered). */
  async tokenize(texts: readonly string[]): Promise<number[][]> {
    const missing = [...new Set(texts.filter((t) => t !== '' && !this.known.has(textId(t))))];
    const counts = await Promise.all(missing.map((t) => this.options.measure(t)));
    missing.forEach((text, i) => this.remember(text, counts[i]!));
    return texts.map((text) => (text === '' ? [] : this.ids(text)));
  }

  /** The ids of a text whose size is known already (a streamed reply, measured as it grew). */
  encodeMeasured(text: string, units: number): number[] {
    if (text === '') return [];
    this.remember(text, units);
    return this.ids(text);
  }

  /** The text an id stands for. */
  textOf(id: number): string {
    const entry = this.known.get(id);
    if (!entry) throw new ModelError('generation-failed', `Token ${id} is no text this Prompt API engine laid out (a prompt from another engine, or one laid out ${this.maxEntries} texts ago); lay the prompt out again with this engine's tokenize`);
    return entry.text;
  }

  private ids(text: string): number[] {
    const id = textId(text);
    const entry = this.known.get(id)!;
    if (entry.text !== text) throw new ModelError('generation-failed', 'Two texts hashed to the same id in the Prompt API engine; this should not happen, please report it');
    this.known.delete(id);
    this.known.set(id, entry);
    return [id, ...new Array<number>(entry.units - 1).fill(MARK.continued)];
  }

  private remember(text: string, units: number): void {
    const id = textId(text);
    this.known.delete(id);
    this.known.set(id, { text, units: Math.max(1, Math.round(units)) });
    if (this.known.size > this.maxEntries) this.known.delete(this.known.keys().next().value as number);
  }
}

/** A text of the prompt with the units it took. */
export interface Piece {
  readonly text: string;
  readonly units: number;
}

/** A laid-out prompt read back as the Prompt API takes it. */
export interface PromptText {
  /** The system text and the activated block, as one system message (the API allows one, first). */
  readonly system: string;
  /** Earlier turns. */
  readonly history: LanguageModelMessage[];
  /** Units of the system, activated and history segments. */
  readonly stableUnits: number;
  /** The working segment's texts: its header, then one memory element each (empty when none). */
  readonly working: readonly Piece[];
  /** The user's text. */
  readonly draft: Piece;
  /** Whether the prompt ends by opening the assistant's turn (a prompt to answer, not a prefix to prewarm). */
  readonly final: boolean;
}

/** Reads a prompt laid out with PROMPT_API_TEMPLATE back into texts and turns. */
export function readPrompt(prompt: PromptTokens, textOf: (id: number) => string): PromptText {
  const system: string[] = [];
  const history: LanguageModelMessage[] = [];
  const working: Piece[] = [];
  const draft: string[] = [];
  let draftUnits = 0;
  let stableUnits = 0;
  let final = false;
  for (const segment of prompt.segments) {
    const pieces = piecesOf(segment.tokens, textOf);
    if (isStable(segment.kind)) stableUnits += segment.tokens.length;
    if (segment.kind === 'system' || segment.kind === 'activated') system.push(pieces.map((p) => (typeof p === 'number' ? '' : p.text)).join(''));
    else if (segment.kind === 'history') history.push(...turnsOf(pieces));
    else if (segment.kind === 'working') working.push(...pieces.filter((p): p is Piece => typeof p !== 'number'));
    else {
      for (const p of pieces) if (typeof p !== 'number') (draft.push(p.text), (draftUnits += p.units));
      final = segment.tokens.at(-1) === MARK.assistant;
    }
  }
  return { system: system.filter((s) => s !== '').join('\n\n'), history, stableUnits, working, draft: { text: draft.join(''), units: draftUnits }, final };
}

function isStable(kind: SegmentKind): boolean {
  return kind === 'system' || kind === 'activated' || kind === 'history';
}

/** A segment's ids as marks (numbers) and texts with their unit counts. */
function piecesOf(tokens: readonly number[], textOf: (id: number) => string): (number | Piece)[] {
  const out: (number | Piece)[] = [];
  for (const id of tokens) {
    const last = out.at(-1);
    if (id === MARK.continued && last !== undefined && typeof last !== 'number') out[out.length - 1] = { text: last.text, units: last.units + 1 };
    else if (id < FIRST_TEXT_ID) out.push(id);
    else out.push({ text: textOf(id), units: 1 });
  }
  return out;
}

function turnsOf(pieces: readonly (number | Piece)[]): LanguageModelMessage[] {
  const turns: LanguageModelMessage[] = [];
  let open: LanguageModelMessage | undefined;
  for (const p of pieces) {
    if (p === MARK.user || p === MARK.assistant) turns.push((open = { role: p === MARK.user ? 'user' : 'assistant', content: '' }));
    else if (p === MARK.end) open = undefined;
    else if (typeof p !== 'number' && open) open.content += p.text;
  }
  return turns;
}
