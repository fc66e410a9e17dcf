// Replays a scenario through the real store, scheduler and an engine, on a
// simulated clock: sessions start, messages are observed, accesses recorded,
// and queries typed key by key (a prediction at each finished word) and sent.
import type { Embedder } from '../embed/types';
import type { Engine } from '../engine/types';
import { createMneme } from '../mneme';
import type { Transition } from '../scheduler/lifecycle';
import { MetricsEmitter } from '../scheduler/plugins';
import type { Turn } from '../core/protocol';
import { Predictor } from '../scheduler/predict';
import { Scheduler, type SchedulerOptions } from '../scheduler/scheduler';
import { parseScenario, type ScenarioOutput } from './format';

export interface RunOptions {
  engine: Engine;
  embedder?: Embedder;
  /** Whether the embedder's vectors carry meaning (false for a stand-in). Default false. */
  semantic?: boolean;
  /** IndexedDB name; default a fresh one per run. */
  dbName?: string;
  scheduler?: Partial<Omit<SchedulerOptions, 'scope' | 'clock' | 'metrics'>>;
}

export async function runScenario(input: unknown, options: RunOptions): Promise<ScenarioOutput> {
  const scenario = parseScenario(input);
  let now = Date.parse(scenario.events[0]?.at ?? '1970-01-01T00:00:00Z');
  const clock = () => now;
  const iso = () => new Date(now).toISOString();
  const mneme = await createMneme({
    name: options.dbName ?? `mneme-scenario-${crypto.randomUUID()}`,
    now: clock,
    semantic: options.semantic ?? false,
    ...(options.embedder && { embedder: options.embedder }),
  });
  await mneme.ready;
  const metrics = new MetricsEmitter();
  const output: ScenarioOutput = { name: scenario.name, queries: [], transitions: [] };
  const texts = new Map<string, string>();
  const scheduler = await Scheduler.create(mneme, { ...options.scheduler, scope: { userId: scenario.user }, clock, metrics });
  metrics.on((e) => {
    if (e.type !== 'transition') return;
    const t: Transition = e.transition;
    output.transitions.push({ at: iso(), text: texts.get(t.id) ?? mneme.peek(t.id)?.text ?? t.id, from: t.from, to: t.to, reason: scheduler.describe(t.reason) });
  });
  await options.engine.load();
  let predictor = new Predictor(scheduler, { engine: options.engine, metrics, clock });
  // The session's conversation: its messages, and each query with its reply. A query's prediction
  // reads the last turns as context.
  let turns: Turn[] = [];
  try {
    for (const event of scenario.events) {
      now = Math.max(now, Date.parse(event.at));
      switch (event.type) {
        case 'session':
          await scheduler.startSession({ sessionId: `${scenario.name}@${event.at}`, ...(event.role !== undefined && { role: event.role }) });
          predictor = new Predictor(scheduler, { engine: options.engine, metrics, clock });
          turns = [];
          break;
        case 'message':
          for (const m of (await scheduler.observe({ text: event.text, role: event.role ?? 'user' })).created) texts.set(m.id, m.text);
          turns.push({ role: event.role ?? 'user', text: event.text });
          await scheduler.tick();
          break;
        case 'access': {
          const needle = event.match.toLowerCase();
          const ids = [...mneme.records()].filter((m) => m.text.toLowerCase().includes(needle)).map((m) => m.id);
          await scheduler.access(ids);
          await scheduler.tick();
          break;
        }
        case 'query': {
          predictor.setConversation(turns);
          for (let i = 1; i <= event.text.length; i++) {
            now += event.msPerKey ?? 120;
            if (event.text[i - 1] === ' ') await (await predictor.draft(event.text.slice(0, i))).settled;
          }
          const sent = await predictor.send({ text: event.text, k: event.k ?? 5 });
          turns = [...predictor.history];
          output.queries.push({
            at: iso(),
            text: event.text,
            results: sent.results.map((r) => ({ text: r.memory.text, tier: r.memory.tier, score: r.score, reasons: r.reasons })),
            seen: sent.seen.map((m) => m.text),
            heldFinal: sent.heldFinal,
            prefillTokensAtSend: sent.prefillTokensAtSend,
            promptTokens: sent.promptTokens,
            wastedPrefillTokens: sent.wastedPrefillTokens,
          });
          await scheduler.tick();
          break;
        }
      }
    }
  } finally {
    await scheduler.dispose();
    await mneme.close();
  }
  return output;
}
