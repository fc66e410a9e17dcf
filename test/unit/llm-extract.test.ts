import { describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors';
import type { MemoryRecord } from '../../src/memory/types';
import { parseDecision } from '../../src/scheduler/llm-extract';

const note = (id: string): MemoryRecord => ({ id, text: id, scope: { userId: 'u' }, tags: [], importance: 0.5, source: 'user', tier: 'plaintext', createdAt: 0, updatedAt: 0, lastAccessedAt: 0, accessCount: 0 });
const related = [note('sofa-saturday'), note('tiles')];

describe('parseDecision', () => {
  it('reads adds, updates and retirements, mapping note numbers to ids', () => {
    const reply = 'Sure! {"add":[{"text":"Delivery moved to Sunday","importance":0.7}],"update":[{"note":2,"text":"Tiles arrive Wednesday"}],"retire":[{"note":1,"reason":"moved"}]} hope that helps';
    expect(parseDecision(reply, related, 1000)).toEqual({
      add: [{ text: 'Delivery moved to Sunday', importance: 0.7 }],
      update: [{ id: 'tiles', text: 'Tiles arrive Wednesday' }],
      retire: [{ id: 'sofa-saturday', reason: 'moved' }],
    });
    expect(parseDecision('{}', related, 1000)).toEqual({ add: [], update: [], retire: [] });
  });
  it('refuses anything off with a typed error', () => {
    for (const bad of [
      'no json here',
      '{"add": [ {"text": ',
      '{"add": "x"}',
      '{"add": [{"text": ""}]}',
      '{"add": [{"text": "x", "importance": 2}]}',
      '{"retire": [{"note": 3}]}',
      '{"update": [{"note": 1}]}',
      '[1, 2]',
    ]) {
      expect(() => parseDecision(bad, related, 1000), bad).toThrow(ModelError);
    }
  });
});
