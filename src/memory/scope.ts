import { InvalidInputError } from '../errors';
import type { CallerScope, MemoryScope, PersonalScope } from './types';

const SCOPE_FIELDS = ['userId', 'role', 'agentId', 'sessionId'] as const;
const MAX_SCOPE_PART = 256;

export function isShared(scope: MemoryScope): scope is { shared: true } {
  return 'shared' in scope && scope.shared === true;
}

/**
 * Whether a caller may see a memory. A shared memory is visible to everyone.
 * A personal one needs the same user, and every narrower part the memory names
 * (role, agent, session) must match the caller's.
 */
export function isVisible(memory: MemoryScope, caller: CallerScope): boolean {
  if (isShared(memory)) return true;
  return (
    memory.userId === caller.userId &&
    (memory.role === undefined || memory.role === caller.role) &&
    (memory.agentId === undefined || memory.agentId === caller.agentId) &&
    (memory.sessionId === undefined || memory.sessionId === caller.sessionId)
  );
}

/** Whether `clear(scope)` covers a memory: a shared scope clears shared memories; a personal one clears what it narrows to. */
export function isWithin(memory: MemoryScope, target: MemoryScope): boolean {
  if (isShared(target)) return isShared(memory);
  if (isShared(memory)) return false;
  return SCOPE_FIELDS.every((f) => target[f] === undefined || memory[f] === target[f]);
}

function part(value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_SCOPE_PART) {
    throw new InvalidInputError(
      'bad-scope',
      `scope.${field} must be a non-empty string of at most ${MAX_SCOPE_PART} characters (got ${describe(value)}).`,
    );
  }
  return value;
}

function personal(value: Record<string, unknown>, what: string): PersonalScope {
  const extra = Object.keys(value).filter((k) => !(SCOPE_FIELDS as readonly string[]).includes(k));
  if (extra.length > 0) {
    throw new InvalidInputError('bad-scope', `${what} has unknown field(s) ${extra.join(', ')}; use userId, role, agentId, sessionId.`);
  }
  const scope: PersonalScope = { userId: part(value.userId, 'userId', true)! };
  for (const f of ['role', 'agentId', 'sessionId'] as const) {
    const v = part(value[f], f, false);
    if (v !== undefined) scope[f] = v;
  }
  return scope;
}

/** Validates the scope a memory is stored under; returns a clean copy. */
export function parseMemoryScope(value: unknown): MemoryScope {
  if (!isPlainObject(value)) {
    throw new InvalidInputError('bad-scope', `scope must be { userId, role?, agentId?, sessionId? } or { shared: true } (got ${describe(value)}).`);
  }
  if ('shared' in value) {
    if (value.shared !== true || Object.keys(value).length !== 1) {
      throw new InvalidInputError('bad-scope', 'A shared scope is exactly { shared: true }.');
    }
    return { shared: true };
  }
  return personal(value, 'scope');
}

/** Validates the scope a caller reads from: a user, optionally narrowed. */
export function parseCallerScope(value: unknown): CallerScope {
  if (!isPlainObject(value) || 'shared' in value) {
    throw new InvalidInputError(
      'bad-scope',
      `A caller scope is { userId, role?, agentId?, sessionId? }: every read names the user it reads for (got ${describe(value)}).`,
    );
  }
  return personal(value, 'caller scope');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return typeof value;
}
