// The scenario file format (`npm run scenario -- FILE.json`): a user's timeline
// of sessions, messages, explicit accesses and typed queries, with ISO times on
// the injected clock. Others feed their own files to it, so it is validated
// strictly and its output shape stays stable.
import { InvalidInputError } from '../errors';
import { describe, isPlainObject } from '../memory/scope';

export type ScenarioEvent =
  | { at: string; type: 'session'; role?: string }
  | { at: string; type: 'message'; text: string; role?: 'user' | 'assistant' }
  | { at: string; type: 'access'; match: string }
  | { at: string; type: 'query'; text: string; msPerKey?: number; k?: number };

export interface Scenario {
  name: string;
  user: string;
  events: ScenarioEvent[];
}

export interface ScenarioQueryResult {
  at: string;
  text: string;
  results: { text: string; tier: string; score: number; reasons: string[] }[];
  /** Exactly the working memories the model saw. */
  seen: string[];
  /** Final memories the cache held at send. */
  heldFinal: number;
  prefillTokensAtSend: number;
  promptTokens: number;
  /** Tokens prefilled while typing that the send did not reuse. */
  wastedPrefillTokens: number;
}

export interface ScenarioOutput {
  name: string;
  queries: ScenarioQueryResult[];
  transitions: { at: string; text: string; from: string; to: string; reason: string }[];
}

function fail(where: string, what: string): never {
  throw new InvalidInputError('invalid-input', `Scenario ${where}: ${what}`);
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(where, `needs a non-empty string (got ${describe(value)}).`);
  return value;
}

export function parseScenario(value: unknown): Scenario {
  if (!isPlainObject(value)) fail('file', `is a JSON object { name, user, events } (got ${describe(value)}).`);
  const name = text(value.name, 'name');
  const user = text(value.user, 'user');
  if (!Array.isArray(value.events)) fail('events', 'is an array.');
  let last = -Infinity;
  const events = value.events.map((e: unknown, i: number): ScenarioEvent => {
    const where = `events[${i}]`;
    if (!isPlainObject(e)) fail(where, 'is an object.');
    const at = text(e.at, `${where}.at`);
    const t = Date.parse(at);
    if (Number.isNaN(t)) fail(`${where}.at`, `is an ISO time (got ${describe(at)}).`);
    if (t < last) fail(`${where}.at`, 'is earlier than the event before it; events are in time order.');
    last = t;
    switch (e.type) {
      case 'session':
        return { at, type: 'session', ...(e.role !== undefined && { role: text(e.role, `${where}.role`) }) };
      case 'message':
        if (e.role !== undefined && e.role !== 'user' && e.role !== 'assistant') fail(`${where}.role`, 'is "user" or "assistant".');
        return { at, type: 'message', text: text(e.text, `${where}.text`), ...(e.role !== undefined && { role: e.role as 'user' | 'assistant' }) };
      case 'access':
        return { at, type: 'access', match: text(e.match, `${where}.match`) };
      case 'query': {
        const msPerKey = e.msPerKey ?? 120;
        const k = e.k ?? 5;
        if (typeof msPerKey !== 'number' || !(msPerKey >= 0)) fail(`${where}.msPerKey`, 'is a number ≥ 0.');
        if (!Number.isInteger(k) || (k as number) < 1) fail(`${where}.k`, 'is a whole number ≥ 1.');
        return { at, type: 'query', text: text(e.text, `${where}.text`), msPerKey, k: k as number };
      }
      default:
        return fail(`${where}.type`, `is one of session, message, access, query (got ${describe(e.type)}).`);
    }
  });
  return { name, user, events };
}
