// The scenario format (src/scenario/format.ts) written as a zod/mini schema (zod's
// tree-shakable form), for the schema-library measurement (bench/libraries.mjs)
// only: same rules, same defaults, each message naming the fix as ours does.
import * as z from 'zod/mini';

const text = (what: string) => z.string({ error: `${what} needs a non-empty string.` }).check(z.trim(), z.minLength(1, `${what} needs a non-empty string.`));
const at = text('at').check(z.refine((s) => !Number.isNaN(Date.parse(s)), 'at is an ISO time.'));

const event = z.discriminatedUnion(
  'type',
  [
    z.object({ at, type: z.literal('session'), role: z.optional(text('role')) }),
    z.object({ at, type: z.literal('message'), text: text('text'), role: z.optional(z.enum(['user', 'assistant'], 'role is "user" or "assistant".')) }),
    z.object({ at, type: z.literal('access'), match: text('match') }),
    z.object({
      at,
      type: z.literal('query'),
      text: text('text'),
      msPerKey: z._default(z.number('msPerKey is a number ≥ 0.').check(z.gte(0, 'msPerKey is a number ≥ 0.')), 120),
      k: z._default(z.int('k is a whole number ≥ 1.').check(z.gte(1, 'k is a whole number ≥ 1.')), 5),
    }),
  ],
  { error: 'type is one of session, message, access, query.' },
);

const inOrder = (events: { at: string }[]) => events.every((e, i) => i === 0 || Date.parse(e.at) >= Date.parse(events[i - 1]!.at));

export const scenario = z.object({
  name: text('name'),
  user: text('user'),
  events: z.array(event, 'events is an array.').check(z.refine((events) => inOrder(events), 'events are in time order.')),
});

/** Returns the scenario, or throws with the first issue and its path. */
export function parse(value: unknown): unknown {
  const result = z.safeParse(scenario, value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new Error(`Scenario ${issue.path.join('.') || 'file'}: ${issue.message}`);
}
