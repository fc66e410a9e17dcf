// Filters that narrow which memories a list, count or search considers.
// They apply before ranking, on top of the caller's scope.
import { InvalidInputError } from '../errors';
import type { Governance } from './governance';
import { describe, isPlainObject, isVisible, parseCallerScope } from './scope';
import { parseTier, parseTime } from './validate';
import type { CallerScope, MemoryRecord, StoredTier } from './types';

export interface MemoryFilter {
  /** Keep memories carrying at least one of these tags. */
  tags?: string[];
  /** Keep memories in one of these (stored) tiers. */
  tiers?: StoredTier[];
  /** Keep memories created at or after this time (ms). */
  createdFrom?: number;
  /** Keep memories created before this time (ms). */
  createdTo?: number;
}

const FILTER_FIELDS = new Set(['tags', 'tiers', 'createdFrom', 'createdTo']);

export function parseFilter(value: unknown): MemoryFilter {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw new InvalidInputError('invalid-input', `filter is an object { tags?, tiers?, createdFrom?, createdTo? } (got ${describe(value)}).`);
  const unknown = Object.keys(value).filter((k) => !FILTER_FIELDS.has(k));
  if (unknown.length > 0) throw new InvalidInputError('invalid-input', `filter has unknown field(s): ${unknown.join(', ')}. Allowed: ${[...FILTER_FIELDS].join(', ')}.`);
  const filter: MemoryFilter = {};
  if (value.tags !== undefined) {
    if (!Array.isArray(value.tags) || !value.tags.every((t) => typeof t === 'string')) {
      throw new InvalidInputError('invalid-input', `filter.tags is an array of strings (got ${describe(value.tags)}).`);
    }
    filter.tags = [...value.tags];
  }
  if (value.tiers !== undefined) {
    if (!Array.isArray(value.tiers)) throw new InvalidInputError('invalid-input', `filter.tiers is an array of tiers (got ${describe(value.tiers)}).`);
    filter.tiers = value.tiers.map(parseTier);
  }
  if (value.createdFrom !== undefined) filter.createdFrom = parseTime(value.createdFrom, 'filter.createdFrom');
  if (value.createdTo !== undefined) filter.createdTo = parseTime(value.createdTo, 'filter.createdTo');
  return filter;
}

/** One predicate for a scope plus a filter (and governance, when given), built once per query. */
export type MemoryPredicate = (record: MemoryRecord) => boolean;

export function compilePredicate(scope: CallerScope, filter: MemoryFilter, governance?: Governance): MemoryPredicate {
  const tags = filter.tags && new Set(filter.tags);
  const tiers = filter.tiers && new Set(filter.tiers);
  const { createdFrom, createdTo } = filter;
  return (r) =>
    isVisible(r.scope, scope) &&
    (tiers === undefined || tiers.has(r.tier)) &&
    (createdFrom === undefined || r.createdAt >= createdFrom) &&
    (createdTo === undefined || r.createdAt < createdTo) &&
    (tags === undefined || r.tags.some((t) => tags.has(t))) &&
    (governance === undefined || governance.allow(r, scope));
}

/** Validates `{ scope, filter }` as every read takes it. */
export function parseQueryScope(options: { scope?: unknown; filter?: unknown } | undefined): { scope: CallerScope; filter: MemoryFilter } {
  if (!isPlainObject(options)) {
    throw new InvalidInputError('bad-scope', 'Reads take { scope: { userId, … } }: name the user you read for.');
  }
  return { scope: parseCallerScope(options.scope), filter: parseFilter(options.filter) };
}
