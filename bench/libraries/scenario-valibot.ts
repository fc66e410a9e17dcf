// The scenario format (src/scenario/format.ts) written as a valibot schema, for
// the schema-library measurement (bench/libraries.mjs) only: same rules, same
// defaults, each message naming the fix as ours does.
import * as v from 'valibot';

const text = (what: string) => v.pipe(v.string(`${what} needs a non-empty string.`), v.trim(), v.nonEmpty(`${what} needs a non-empty string.`));
const at = v.pipe(text('at'), v.check((s) => !Number.isNaN(Date.parse(s)), 'at is an ISO time.'));

const event = v.variant(
  'type',
  [
    v.object({ at, type: v.literal('session'), role: v.optional(text('role')) }),
    v.object({ at, type: v.literal('message'), text: text('text'), role: v.optional(v.picklist(['user', 'assistant'], 'role is "user" or "assistant".')) }),
    v.object({ at, type: v.literal('access'), match: text('match') }),
    v.object({
      at,
      type: v.literal('query'),
      text: text('text'),
      msPerKey: v.optional(v.pipe(v.number('msPerKey is a number ≥ 0.'), v.minValue(0, 'msPerKey is a number ≥ 0.')), 120),
      k: v.optional(v.pipe(v.number('k is a whole number ≥ 1.'), v.integer('k is a whole number ≥ 1.'), v.minValue(1, 'k is a whole number ≥ 1.')), 5),
    }),
  ],
  'type is one of session, message, access, query.',
);

const inOrder = (events: { at: string }[]) => events.every((e, i) => i === 0 || Date.parse(e.at) >= Date.parse(events[i - 1]!.at));

export const scenario = v.object({
  name: text('name'),
  user: text('user'),
  events: v.pipe(v.array(event, 'events is an array.'), v.check((events) => inOrder(events), 'events are in time order.')),
});

/** Returns the scenario, or throws with the first issue and its path. */
export function parse(value: unknown): unknown {
  const result = v.safeParse(scenario, value, { abortEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  throw new Error(`Scenario ${v.getDotPath(issue) ?? 'file'}: ${issue.message}`);
}
