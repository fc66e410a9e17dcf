// Governance: which memories a caller may see, and how. The store applies it in
// its query path (list, count, export) and the search index in every search, so
// nothing it denies reaches a result, a prompt, a prewarmed cache or an export,
// whatever calls in. The two reference rules below are tested as examples.
import type { CallerScope, MemoryRecord } from './types';

export interface Governance {
  allow(memory: MemoryRecord, scope: CallerScope): boolean;
  /** The memory as this caller may see it (e.g. with parts of the text masked). */
  redact(memory: MemoryRecord, scope: CallerScope): MemoryRecord;
}

export const OPEN_GOVERNANCE: Governance = { allow: () => true, redact: (m) => m };

/** Every rule must allow a memory; redactions apply in order. */
export function composeGovernance(...rules: readonly Governance[]): Governance {
  return {
    allow: (m, scope) => rules.every((r) => r.allow(m, scope)),
    redact: (m, scope) => rules.reduce((out, r) => r.redact(out, scope), m),
  };
}

/** Memories tagged `medical` (or `tag`) are visible only to callers in the doctor role (or `role`). */
export function medicalForDoctors(options: { tag?: string; role?: string } = {}): Governance {
  const tag = options.tag ?? 'medical';
  const role = options.role ?? 'doctor';
  return { allow: (m, scope) => !m.tags.includes(tag) || scope.role === role, redact: (m) => m };
}

/**
 * Memories tagged `sensitive` (or `tag`) never cross domains. A memory's domain is its
 * `domain:<name>` tag, else the agent it was stored for; a caller's domain is its agent.
 * A sensitive memory is visible only to callers of the same domain (no domain matches no agent).
 */
export function sensitiveStaysInDomain(options: { tag?: string } = {}): Governance {
  const tag = options.tag ?? 'sensitive';
  return { allow: (m, scope) => !m.tags.includes(tag) || domainOf(m) === scope.agentId, redact: (m) => m };
}

export function domainOf(m: MemoryRecord): string | undefined {
  const named = m.tags.find((t) => t.startsWith('domain:'));
  if (named !== undefined) return named.slice('domain:'.length);
  return 'shared' in m.scope ? undefined : m.scope.agentId;
}
