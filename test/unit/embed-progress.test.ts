import { describe, expect, test } from 'vitest';
import { DOWNLOAD_SHARE, LoadProgressTracker, type TransformersProgressEvent } from '../../src/embed/progress';
import type { LoadProgress } from '../../src/embed/types';

/** Feeds events one millisecond apart and keeps what the tracker reports. */
function feed(tracker: LoadProgressTracker, events: TransformersProgressEvent[], start = 0): LoadProgress[] {
  return events.flatMap((event, i) => tracker.update(event, start + i) ?? []);
}

const fractions = (reports: LoadProgress[]) => reports.map((r) => r.fraction);
const isMonotone = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);

describe('LoadProgressTracker', () => {
  test('sums bytes over files, ends at 1 only when ready', () => {
    const tracker = new LoadProgressTracker({ minStep: 0, minIntervalMs: 0 });
    // transformers.js's order: sizes of the expected files (progress_total) precede each byte report.
    const sizes = { 'config.json': { loaded: 0, total: 100 }, 'onnx/model.onnx': { loaded: 0, total: 900 } };
    const reports = feed(tracker, [
      { status: 'initiate', file: 'config.json' },
      { status: 'progress_total', files: sizes },
      { status: 'progress', file: 'config.json', loaded: 100, total: 100 },
      { status: 'done', file: 'config.json' },
      { status: 'initiate', file: 'onnx/model.onnx' },
      { status: 'progress', file: 'onnx/model.onnx', loaded: 450, total: 900 },
      { status: 'progress', file: 'onnx/model.onnx', loaded: 900, total: 900 },
      { status: 'done', file: 'onnx/model.onnx' },
      { status: 'ready' },
    ]);
    expect(reports.at(-1)).toEqual({ status: 'initializing', file: 'onnx/model.onnx', loaded: 1000, total: 1000, fraction: DOWNLOAD_SHARE });
    expect(reports.find((r) => r.loaded === 100)).toMatchObject({ status: 'downloading', total: 1000, fraction: 0.1 * DOWNLOAD_SHARE });
    expect(reports.find((r) => r.loaded === 550)).toMatchObject({ status: 'downloading', total: 1000, fraction: 0.55 * DOWNLOAD_SHARE });
    expect(isMonotone(fractions(reports))).toBe(true);
    expect(reports.every((r) => r.fraction < 1)).toBe(true);
    expect(tracker.ready(100)).toEqual({ status: 'ready', file: 'onnx/model.onnx', loaded: 1000, total: 1000, fraction: 1 });
  });

  test('never goes back when a new file grows the total', () => {
    const tracker = new LoadProgressTracker({ minStep: 0, minIntervalMs: 0 });
    const reports = feed(tracker, [
      { status: 'progress', file: 'a', loaded: 90, total: 100 },
      { status: 'progress', file: 'b', loaded: 0, total: 900 }, // raw fraction drops from 0.9 to 0.09
      { status: 'progress', file: 'b', loaded: 450, total: 900 },
      { status: 'progress', file: 'b', loaded: 900, total: 900 },
    ]);
    expect(isMonotone(fractions(reports))).toBe(true);
    expect(reports.at(-1)!.fraction).toBeCloseTo((990 / 1000) * DOWNLOAD_SHARE);
  });

  test('sizes announced up front (progress_total) count from the start', () => {
    const tracker = new LoadProgressTracker({ minStep: 0, minIntervalMs: 0 });
    const reports = feed(tracker, [
      { status: 'progress_total', files: { 'config.json': { loaded: 0, total: 100 }, 'onnx/model.onnx': { loaded: 0, total: 900 } } },
      { status: 'progress', file: 'config.json', loaded: 100, total: 100 },
    ]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ loaded: 100, total: 1000, fraction: 0.1 * DOWNLOAD_SHARE });
  });

  test('a file of unknown size counts what arrived once done', () => {
    const tracker = new LoadProgressTracker({ minStep: 0, minIntervalMs: 0 });
    const reports = feed(tracker, [
      { status: 'progress', file: 'x', loaded: 40, total: 0 },
      { status: 'done', file: 'x' },
    ]);
    expect(reports.at(-1)).toMatchObject({ status: 'initializing', loaded: 40, total: 40, fraction: DOWNLOAD_SHARE });
  });

  test('throttles: a byte-by-byte stream becomes a few reports, changes of file always pass', () => {
    const tracker = new LoadProgressTracker({ minStep: 0.05, minIntervalMs: 1_000 });
    const events: TransformersProgressEvent[] = [{ status: 'initiate', file: 'm' }];
    for (let loaded = 1; loaded <= 1000; loaded++) events.push({ status: 'progress', file: 'm', loaded, total: 1000 });
    events.push({ status: 'initiate', file: 'n' });
    const reports = feed(tracker, events);
    expect(reports.length).toBeGreaterThan(10);
    expect(reports.length).toBeLessThan(30);
    expect(reports.at(-1)!.file).toBe('n');
    expect(isMonotone(fractions(reports))).toBe(true);
    // Nothing new is not worth a message, however long since the last one.
    expect(tracker.update({ status: 'download', file: 'n' }, 5_000)).toBeUndefined();
  });

  test('ignores events it does not know', () => {
    const tracker = new LoadProgressTracker();
    expect(tracker.update({ status: 'something-new', file: 'x' }, 0)).toBeUndefined();
  });
});
