// The scheduler: keeps heat and themes on every memory, moves memories between
// tiers with logged reasons, preloads a session's background, turns messages
// into memories, and ranks what a message needs. Policies are plug-ins; time
// comes from an injected clock, so months replay in milliseconds.
import { InvalidInputError, MnemeError } from '../errors';
import type { Mneme } from '../mneme';
import type { Observed, SchedulerOptions, SearchScheduledOptions } from './options';
import { compilePredicate, parseFilter } from '../memory/filter';
import { composeGovernance } from '../memory/governance';
import { parseOptions } from '../memory/validate';
import { describe, isVisible, parseCallerScope } from '../memory/scope';
import { TIERS, type CallerScope, type MemoryRecord, type Tier } from '../memory/types';
import type { StoreChange } from '../store/store';
import { extractSentences } from './extract';
import { jaccard } from '../util/jaccard';
import type { ExtractionDecision } from './llm-extract';
import { DEFAULT_LIFECYCLE, defaultRules, type LifecycleConfig, type LifecycleDecision, type MemoryState, type TransformationRules, type Transition } from './lifecycle';
import { defaultBinding, type ContextBinding, type Governance, type SessionContext } from './plugins';
import { ContextMatches, CONTEXT_WEIGHT, matchText, type MatchSources } from './query-match';
import { CONVERSATION, rank, type ScheduledResult, type SchedulingStrategy } from './rank';
import { DEFAULT_SIGNALS, type UseKind } from './signals';
import { SchedulerState } from './state';
import { DEFAULT_THEMES } from './themes';
import { ThemeSaver } from './theme-saver';
import { tokenize } from '../search/tokenize';

export type { Observed, SchedulerOptions, SearchScheduledOptions } from './options';

export class Scheduler {
  readonly state: SchedulerState;
  private readonly clock: () => number;
  private readonly lifecycle: LifecycleConfig;
  private readonly rules: TransformationRules;
  private readonly strategy: SchedulingStrategy;
  private readonly binding: ContextBinding;
  private readonly governance: Governance;
  /** A memory's token count in a prompt block (the `countTokens` option): for budgets, not accounting. */
  readonly countTokens: (text: string) => number;
  private readonly unsubscribe: () => void;
  private readonly matchSources: MatchSources;
  /** The last turns' match, kept while typing; every write clears it. */
  private readonly contextMatches: ContextMatches;
  private activatedOrder: string[] = [];
  private current: SessionContext | undefined;
  private readonly themeSaver: ThemeSaver;

  private constructor(
    readonly mneme: Mneme,
    private readonly options: SchedulerOptions,
    readonly scope: CallerScope,
  ) {
    this.clock = options.clock ?? Date.now;
    this.lifecycle = { ...DEFAULT_LIFECYCLE, ...options.lifecycle };
    this.rules = options.rules ?? defaultRules(this.lifecycle);
    this.strategy = options.strategy ?? CONVERSATION;
    this.binding = options.binding ?? defaultBinding({ hotThemeAt: this.lifecycle.promoteAt });
    // The store's governance always applies; the scheduler's own narrows it further.
    this.governance = options.governance ? composeGovernance(mneme.store.governance, options.governance) : mneme.store.governance;
    this.countTokens = options.countTokens ?? ((t) => Math.ceil(t.length / 4) + 4);
    // Themes may trust every vector they are given: `follow` passes them only from a semantic model.
    this.state = new SchedulerState({ ...DEFAULT_SIGNALS, ...options.signals }, { ...DEFAULT_THEMES, semantic: true, ...options.themes });
    this.matchSources = { mneme, state: this.state, neighbourWeight: options.neighbourWeight ?? 0.5, denseWeight: options.denseWeight ?? 0.5 };
    this.contextMatches = new ContextMatches(this.matchSources);
    this.themeSaver = new ThemeSaver(mneme, this.state.themes, scope.userId, options.saveThemesAfterMs ?? 5000);
    this.unsubscribe = mneme.store.subscribe((change) => this.follow(change));
  }

  /** A scheduler over `mneme` for one user, its state rebuilt from the use tallies and the log's tail. */
  static async create(mneme: Mneme, options: SchedulerOptions): Promise<Scheduler> {
    const scheduler = new Scheduler(mneme, options, parseCallerScope(options.scope));
    const records = new Map<string, MemoryRecord>();
    for (const m of mneme.records()) if (scheduler.owns(m)) records.set(m.id, m);
    const [{ tallies, tail }, themes] = await Promise.all([mneme.store.heatLog(), scheduler.themeSaver.read()]);
    scheduler.state.replay(records, tail, tallies, themes);
    if (!themes) scheduler.themeSaver.owe();
    setTimeout(() => scheduler.state.themes.materialize(), 0); // restored term tables, built while nothing waits on them
    scheduler.activatedOrder = [...records.values()].filter((m) => m.tier === 'activated').sort((a, b) => a.updatedAt - b.updatedAt).map((m) => m.id);
    return scheduler;
  }

  /**
   * Saves the themes now, as of the store's last write, so the next start restores them (theme-saver.ts). False when
   * a write it has not followed yet came first (it is tried again later) or the store refused it (the next start then
   * places every memory). Runs by itself saveThemesAfterMs after placements change.
   */
  saveThemes(): Promise<boolean> {
    return this.themeSaver.save();
  }

  get session(): SessionContext | undefined {
    return this.current;
  }

  /** Memories of this user (any role or agent of theirs) and shared ones. */
  private owns(m: MemoryRecord): boolean {
    return 'shared' in m.scope || m.scope.userId === this.scope.userId;
  }

  /** The scope reads run under now (the session's, through the context binding). */
  get contextScope(): CallerScope {
    return this.readScope();
  }

  private readScope(): CallerScope {
    return this.current ? this.binding.readScope(this.current) : this.scope;
  }

  /** Keeps heat and themes current with every committed write, whoever made it. */
  private follow(change: StoreChange): void {
    this.contextMatches.clear();
    const byId = new Map(change.upserted.map((m) => [m.id, m]));
    // Vectors group themes only when they carry meaning (Mneme's `semantic`: a real model is loaded).
    const vectors = this.mneme.semantic ? new Map(change.vectors.filter((v) => v.data.length > 0).map((v) => [v.id, v.data])) : undefined;
    for (const e of change.events) {
      const record = byId.get(e.memoryId) ?? this.mneme.peek(e.memoryId); // a retrieval rewrites no row
      if (e.type === 'removed') {
        this.state.removed(e.memoryId);
        this.activatedOrder = this.activatedOrder.filter((id) => id !== e.memoryId);
      } else if (record && this.owns(record)) {
        if (e.type === 'created') this.state.created(record, e.at, vectors?.get(e.memoryId));
        else if (e.type === 'updated' && e.fields.includes('text')) this.state.rewritten(record, e.at);
        else if (e.type === 'accessed') this.state.used(e.memoryId, e.use, e.at);
      }
    }
    // A removal or a rewrite deleted the saved themes with it (they held its words); an addition left them behind.
    if (change.events.some((e) => e.type === 'removed' || e.type === 'created' || (e.type === 'updated' && e.fields.includes('text')))) this.themeSaver.owe();
  }

  /**
   * Opens a session: runs the lifecycle, then preloads the user's common background into the
   * activated tier. Both are decided first, then written as one transaction.
   */
  async startSession(sessionOptions?: { sessionId?: string; role?: string; agentId?: string }): Promise<Transition[]> {
    const options = parseOptions(sessionOptions, 'startSession');
    const now = this.clock();
    const scope: CallerScope = { ...this.scope, ...(options.role !== undefined && { role: options.role }), ...(options.agentId !== undefined && { agentId: options.agentId }) };
    const session: SessionContext = { scope: parseCallerScope(scope), sessionId: options.sessionId ?? `s${now}`, startedAt: now };
    this.current = session;
    const decision = this.decideLifecycle(now);
    const preloads = this.decidePreload(session, decision, now);
    return this.commit({ transitions: [...decision.transitions, ...preloads], activated: [...decision.activated, ...preloads.map((t) => t.id)] }, now);
  }

  /** Runs the transformation rules now and writes every transition, with its reason, to the log: all in one transaction. */
  async tick(): Promise<Transition[]> {
    const now = this.clock();
    return this.commit(this.decideLifecycle(now), now);
  }

  /** What the transformation rules decide now (pure: nothing is written). */
  private decideLifecycle(now: number): LifecycleDecision {
    const states: MemoryState[] = [...this.mneme.records()].filter((m) => this.owns(m)).map((m) => this.stateOf(m, now));
    return this.rules.decide(states, this.activatedOrder, now);
  }

  /**
   * The background the binding preloads for `session` into the activated tier, within its token budget,
   * as the tiers will stand once `decision` is written (pure: nothing is written).
   */
  private decidePreload(session: SessionContext, decision: LifecycleDecision, now: number): Transition[] {
    const scope = this.readScope();
    const after = new Map(decision.transitions.map((t) => [t.id, t.to]));
    const visible = this.visibleRecords().map((m) => (after.has(m.id) ? { ...m, tier: after.get(m.id)! } : m));
    const byId = new Map(visible.map((m) => [m.id, m]));
    const tokens = (m: MemoryRecord) => this.countTokens(this.governance.redact(m, scope).text);
    const preload = this.binding.preload(
      visible.map((m) => ({ memory: m, heat: this.state.heatOf(m.id, now), themeHeat: this.state.themeSummary(m.id, now)?.heat ?? 0 })),
      session,
    );
    let used = decision.activated.map((id) => byId.get(id)).reduce((sum, m) => sum + (m?.tier === 'activated' ? tokens(m) : 0), 0);
    const out: Transition[] = [];
    for (const id of new Set(preload)) {
      const m = byId.get(id);
      if (!m || m.tier === 'activated' || this.state.stale(m, now)) continue;
      if (used + tokens(m) > this.lifecycle.activatedBudget) continue;
      used += tokens(m);
      const theme = this.state.themeSummary(id, now);
      out.push({ id, from: m.tier, to: 'activated', reason: `preloaded: session background${theme ? `, theme ${theme.id} heat ${theme.heat.toFixed(1)}` : ''}` });
    }
    return out;
  }

  /** Writes a decision's transitions as one batch (all or none), then follows the activated block and reports metrics. */
  private async commit(decision: LifecycleDecision, now: number): Promise<Transition[]> {
    const { transitions } = decision;
    if (transitions.length > 0) await this.mneme.setTiers(transitions.map((t) => ({ id: t.id, tier: t.to, reason: t.reason })));
    this.activatedOrder = [...new Set(decision.activated)].filter((id) => this.mneme.peek(id)?.tier === 'activated');
    for (const transition of transitions) this.options.metrics?.record({ type: 'transition', at: now, transition });
    this.options.metrics?.record({ type: 'tiers', at: now, sizes: this.tierSizes() });
    return transitions;
  }

  private stateOf(m: MemoryRecord, now: number): MemoryState {
    const theme = this.state.themeSummary(m.id, now);
    return {
      memory: m,
      heat: this.state.heatOf(m.id, now),
      lastUsedAt: this.state.lastUsedAt(m),
      stale: this.state.stale(m, now),
      tokens: this.countTokens(m.text),
      ...(theme && { theme }),
    };
  }

  /** Memories of this user per tier. `working` is transient (never stored): 0 here; the worker shows the working set it holds. */
  private tierSizes(): Record<Tier, number> {
    const sizes = Object.fromEntries(TIERS.map((t) => [t, 0])) as Record<Tier, number>;
    for (const m of this.mneme.records()) if (this.owns(m)) sizes[m.tier]++;
    return sizes;
  }

  private visibleRecords(): MemoryRecord[] {
    const scope = this.readScope();
    return [...this.mneme.records()].filter((m) => isVisible(m.scope, scope) && this.governance.allow(m, scope));
  }

  /** A memory as this session may see it (redacted), or undefined when it is gone or not visible to the session. */
  usable(id: string): MemoryRecord | undefined {
    const scope = this.readScope();
    const m = this.mneme.peek(id);
    return m && isVisible(m.scope, scope) && this.governance.allow(m, scope) ? this.governance.redact(m, scope) : undefined;
  }

  /**
   * A transition's reason with theme ids replaced by the themes' current labels, for people
   * ("promoted: theme renovation bathroom heat 4.2 ≥ 3.0"). The event log keeps the ids: labels
   * are words of memories, and a deleted memory's words must not stay behind in the log.
   */
  describe(reason: string): string {
    return reason.replace(/\btheme (t\d+)\b/g, (whole, id: string) => {
      const theme = this.state.themes.get(id);
      return theme ? `theme ${this.state.themes.label(theme)}` : whole;
    });
  }

  /** The activated tier in its stable order, as this session may see it. */
  activatedRecords(): MemoryRecord[] {
    const scope = this.readScope();
    return this.activatedOrder
      .map((id) => this.mneme.peek(id))
      .filter((m): m is MemoryRecord => m !== undefined && isVisible(m.scope, scope) && this.governance.allow(m, scope))
      .map((m) => this.governance.redact(m, scope));
  }

  /**
   * Turns a message into memories: sentences worth keeping become plaintext memories;
   * one that repeats a memory raises that memory's heat instead of adding a copy.
   */
  async observe(message: { text: string; role?: 'user' | 'assistant' }): Promise<Observed> {
    if (typeof message?.text !== 'string') throw new InvalidInputError('invalid-input', 'observe takes { text, role? } with text a string.');
    const role = message.role ?? 'user';
    const scope = this.current?.scope ?? this.scope;
    const userScope = { userId: scope.userId, ...(scope.role !== undefined && { role: scope.role }) };
    if (this.options.extractor) {
      let decision: ExtractionDecision;
      try {
        const related = (await this.mneme.searchMemory(message.text, { scope, k: 5 })).map((h) => h.memory);
        decision = await this.options.extractor.extract(message.text, related);
      } catch (error) {
        if (!(error instanceof MnemeError)) throw error; // a model or output failure, before any write: the heuristic still works
        return this.observeHeuristically(message.text, role, scope, userScope);
      }
      // One transaction: all of the decision is written, or none. Its failure is the caller's, never a cue to extract again.
      const at = this.clock();
      const { created } = await this.mneme.applyChanges({
        add: decision.add.map((a) => ({ text: a.text, scope: userScope, importance: a.importance, source: role })),
        update: [...decision.update.map((u) => ({ id: u.id, patch: { text: u.text } })), ...decision.retire.map((r) => ({ id: r.id, patch: { validUntil: at } }))],
      });
      return { created, mentioned: [], updated: decision.update.map((u) => u.id), retired: decision.retire.map((r) => r.id) };
    }
    return this.observeHeuristically(message.text, role, scope, userScope);
  }

  private async observeHeuristically(text: string, role: 'user' | 'assistant', scope: CallerScope, userScope: CallerScope): Promise<Observed> {
    const mentioned = new Set<string>();
    const fresh: { text: string; importance: number }[] = [];
    for (const s of extractSentences(text)) {
      const hits = await this.mneme.searchMemory(s.text, { scope, k: 5 });
      const duplicate = hits.find((h) => jaccard(s.terms, tokenize(h.memory.text)) >= (this.options.duplicateAt ?? 0.8));
      if (duplicate) mentioned.add(duplicate.memory.id);
      else {
        fresh.push(s);
        for (const h of hits) if ((h.parts.coverage ?? 0) >= (this.options.mentionAt ?? 0.6)) mentioned.add(h.memory.id);
      }
    }
    const created = fresh.length > 0 ? await this.mneme.addMany(fresh.map((f) => ({ text: f.text, scope: userScope, importance: f.importance, source: role }))) : [];
    if (mentioned.size > 0) await this.mneme.store.recordAccess([...mentioned], 'mention');
    return { created, mentioned: [...mentioned], updated: [], retired: [] };
  }

  /** Records explicit uses (opened, pinned, quoted) of memories. */
  async access(ids: readonly string[], kind: Exclude<UseKind, 'retrieval'> = 'access'): Promise<void> {
    if (kind !== 'access' && kind !== 'mention') throw new InvalidInputError('invalid-input', `access kind is 'access' or 'mention' (got ${describe(kind)}).`);
    await this.mneme.store.recordAccess(ids, kind);
  }

  /** Records that memories went into a prompt. */
  async retrieved(ids: readonly string[]): Promise<void> {
    if (!Array.isArray(ids)) throw new InvalidInputError('invalid-input', 'retrieved takes an array of memory ids.');
    if (ids.length > 0) await this.mneme.store.recordAccess(ids, 'retrieval');
  }

  /**
   * Scheduler-ranked memories for a query: hybrid matches (archived ones too: what is asked for by
   * name is found) plus the activated tier and hot themes (the hot path, where archived memories
   * never enter), each scored by match confidence against heat, themes, importance and timeliness.
   */
  async search(query: string, searchOptions?: SearchScheduledOptions): Promise<ScheduledResult[]> {
    const options = parseOptions(searchOptions, 'search');
    const now = this.clock();
    const scope = this.readScope();
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new InvalidInputError('invalid-input', `k is a whole number ≥ 1 (got ${describe(k)}).`);
    if (options.context !== undefined && typeof options.context !== 'string') {
      throw new InvalidInputError('invalid-input', `context is the conversation's last turns as a string (got ${describe(options.context)}).`);
    }
    const filter = parseFilter(options.filter);
    const keep = compilePredicate(scope, filter);
    const allowed = (m: MemoryRecord) => keep(m) && this.governance.allow(m, scope);
    const request = { scope, k, filter, draft: options.draft === true, allowed };
    const own = await matchText(this.matchSources, query, request);
    const context = options.context?.trim() ? await this.contextMatches.match(options.context, request) : undefined;
    const fromContext = (id: string) => CONTEXT_WEIGHT * (context?.match(id) ?? 0);
    const extra = [...this.hotCandidates(now, Math.max(50, 4 * k)).filter(allowed), ...own.neighbours, ...(context?.neighbours ?? [])];
    const ranked = rank(
      {
        hits: own.hits,
        extra,
        match: (id) => own.match(id) + fromContext(id),
        ...(context && { context: fromContext }),
        signals: (m) => this.state.signalsOf(m, now),
        // A vague message that follows the turns is as clear as the turns are.
        confidence: Math.max(own.confidence, context?.confidence ?? 0),
        k,
        semantic: this.mneme.semantic,
      },
      this.strategy,
    );
    return ranked.map((r) => ({ ...r, memory: this.governance.redact(r.memory, scope) }));
  }

  /** The activated tier and the hottest members of hot themes: what a vague request draws on. */
  private hotCandidates(now: number, limit: number): MemoryRecord[] {
    const out = new Set<string>(this.activatedOrder);
    const members: { id: string; heat: number }[] = [];
    for (const theme of this.state.themes.all()) {
      if (this.state.themeHeat(theme, now) < this.lifecycle.demoteBelow) continue;
      for (const id of theme.members) if (!out.has(id)) members.push({ id, heat: this.state.heatOf(id, now) });
    }
    members.sort((a, b) => b.heat - a.heat || (a.id < b.id ? -1 : 1));
    for (const m of members.slice(0, limit)) out.add(m.id);
    return [...out].map((id) => this.mneme.peek(id)).filter((m): m is MemoryRecord => m !== undefined && m.tier !== 'archived');
  }

  /** Stops following the store, and saves themes that changed since the last save (await it before closing the store). */
  async dispose(): Promise<void> {
    this.unsubscribe();
    await this.themeSaver.dispose();
  }
}
