import { describe, expect, it } from 'vitest';
import followUp from '../scenarios/follow-up.json';
import household from '../scenarios/household.json';
import { runScenario } from '../../src/scenario/run';
import { HashingEmbedder } from '../support/hashing-embedder';
import { smollmDryRun } from '../support/smollm';

describe('household scenario', () => {
  it('answers a vague request from the hot renovation theme, and a specific one by name', async () => {
    const out = await runScenario(household, { engine: await smollmDryRun(), embedder: new HashingEmbedder(), semantic: false });
    const house = /housing|house|mortgage|viewing/i;
    const renovation = /renovation/i;
    const promoted = (re: RegExp) => out.transitions.filter((t) => re.test(t.text) && t.to === 'activated');
    const demoted = (re: RegExp) => out.transitions.filter((t) => re.test(t.text) && t.from === 'activated' && t.to !== 'activated');
    expect(promoted(house).length).toBeGreaterThan(0);
    expect(demoted(house).length).toBeGreaterThan(0);
    expect(promoted(renovation).length).toBeGreaterThan(0);
    const [vague, specific] = out.queries;
    expect(vague!.results.slice(0, 3).every((r) => renovation.test(r.text))).toBe(true);
    expect(vague!.results.slice(0, 3).every((r) => r.tier === 'activated')).toBe(true);
    expect(vague!.results.slice(0, 3).some((r) => house.test(r.text))).toBe(false);
    expect(specific!.results[0]!.text).toMatch(/mortgage rate of 3\.1%/);
    // Reasons read as words for people (the log itself keeps theme ids).
    expect(promoted(renovation)[0]!.reason).toMatch(/^promoted: theme .*renovation.* heat \d+\.\d ≥ 3\.0$/);
  });
});

describe('follow-up scenario', () => {
  it('answers a vague follow-up from what the last turns were about, and from heat in a new session', async () => {
    const out = await runScenario(followUp, { engine: await smollmDryRun(), embedder: new HashingEmbedder(), semantic: false });
    const [followingTurns, freshSession] = out.queries;
    // The turns were about Lisbon; the renovation theme is hotter (accessed more), and wins without them.
    expect(followingTurns!.results.map((r) => r.text).every((t) => /Lisbon/.test(t))).toBe(true);
    expect(followingTurns!.results[0]!.reasons).toContain("follows the conversation's last turns");
    expect(freshSession!.results.map((r) => r.text).every((t) => /renovation/.test(t))).toBe(true);
  });
});
