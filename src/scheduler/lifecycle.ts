// Tier lifecycle: which memories move between plaintext, activated and archived,
// and why. Pure: it reads the signals and returns transitions with readable
// reasons; the scheduler writes them to the store's event log.
import type { MemoryRecord, StoredTier } from '../memory/types';

export interface LifecycleConfig {
  /** A theme (or lone memory) at or above this heat is promoted to the activated tier. Default 3. */
  promoteAt: number;
  /** An activated memory whose theme heat falls below this is demoted. Below promoteAt: hysteresis. Default 1. */
  demoteBelow: number;
  /** Tokens the activated block may hold. Default 1024. */
  activatedBudget: number;
  /** A plaintext memory colder than this… Default 0.05. */
  archiveBelow: number;
  /** …and unused for this long is archived. Default 90 days. */
  archiveAfterMs: number;
}

export const DEFAULT_LIFECYCLE: LifecycleConfig = {
  promoteAt: 3,
  demoteBelow: 1,
  activatedBudget: 1024,
  archiveBelow: 0.05,
  archiveAfterMs: 90 * 86_400_000,
};

/** What the lifecycle knows of one memory. */
export interface MemoryState {
  memory: MemoryRecord;
  heat: number;
  lastUsedAt: number;
  stale: boolean;
  tokens: number;
  theme?: { id: string; label: string; heat: number };
}

export interface Transition {
  id: string;
  from: StoredTier;
  to: StoredTier;
  reason: string;
}

export interface LifecycleDecision {
  transitions: Transition[];
  /** The activated block after the transitions, in its stable order. */
  activated: string[];
}

/** Replaceable: the conditions for moving between tiers. */
export interface TransformationRules {
  decide(states: readonly MemoryState[], activated: readonly string[], now: number): LifecycleDecision;
}

const fmt = (x: number) => x.toFixed(1);
const days = (ms: number) => Math.floor(ms / 86_400_000);

/** What drives a memory's promotion: its theme's heat, or its own when it stands alone or runs hotter. */
function driver(s: MemoryState): { heat: number; what: string } {
  return s.theme && s.theme.heat >= s.heat ? { heat: s.theme.heat, what: `theme ${s.theme.id}` } : { heat: s.heat, what: 'memory' };
}

export function defaultRules(config: LifecycleConfig = DEFAULT_LIFECYCLE): TransformationRules {
  return {
    decide(states, activated, now) {
      const byId = new Map(states.map((s) => [s.memory.id, s]));
      const transitions: Transition[] = [];
      const move = (s: MemoryState, to: StoredTier, reason: string) => transitions.push({ id: s.memory.id, from: s.memory.tier, to, reason });

      // Demote first, so that promotion sees the budget it frees.
      const kept: string[] = [];
      for (const id of activated) {
        const s = byId.get(id);
        if (!s) continue;
        const d = driver(s);
        if (s.stale) move(s, 'plaintext', 'demoted: no longer valid');
        else if (d.heat < config.demoteBelow) move(s, 'plaintext', `demoted: ${d.what} heat ${fmt(d.heat)} < ${fmt(config.demoteBelow)}`);
        else kept.push(id);
      }
      let used = kept.reduce((sum, id) => sum + byId.get(id)!.tokens, 0);
      const inBlock = new Set(kept);

      const candidates = states
        .filter((s) => !inBlock.has(s.memory.id) && !s.stale && s.memory.tier !== 'activated' && driver(s).heat >= config.promoteAt)
        .sort((a, b) => driver(b).heat - driver(a).heat || b.heat - a.heat || (a.memory.id < b.memory.id ? -1 : 1));
      for (const s of candidates) {
        if (used + s.tokens > config.activatedBudget) continue;
        used += s.tokens;
        kept.push(s.memory.id);
        const d = driver(s);
        move(s, 'activated', `promoted: ${d.what} heat ${fmt(d.heat)} ≥ ${fmt(config.promoteAt)}`);
      }

      for (const s of states) {
        const { tier } = s.memory;
        const idle = now - s.lastUsedAt;
        if (tier === 'plaintext' && s.heat < config.archiveBelow && idle >= config.archiveAfterMs) {
          move(s, 'archived', `archived: heat ${s.heat.toFixed(2)} < ${config.archiveBelow} and unused for ${days(idle)} days ≥ ${days(config.archiveAfterMs)}`);
        } else if (tier === 'archived' && !s.stale && s.heat >= config.demoteBelow) {
          move(s, 'plaintext', `restored: heat ${fmt(s.heat)} ≥ ${fmt(config.demoteBelow)}`);
        }
      }
      return { transitions, activated: kept };
    },
  };
}
