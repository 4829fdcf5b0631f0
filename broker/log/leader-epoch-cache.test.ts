import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointFormatError } from './files.js';
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache } from './leader-epoch-cache.js';
import { makeTempDir } from './testing.js';
import { noFaults } from './types.js';

let tmp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => tmp.cleanup());

function cacheWith(entries: [number, number][]): LeaderEpochCache {
  const c = LeaderEpochCache.empty(tmp.dir, noFaults);
  for (const [e, o] of entries) c.assign(e, o);
  return c;
}

describe('LeaderEpochCache', () => {
  it('assigns only new epochs and persists them in Kafka checkpoint format', () => {
    const c = LeaderEpochCache.empty(tmp.dir, noFaults);
    expect(c.assign(0, 0)).toBe(true);
    expect(c.assign(0, 5)).toBe(false);
    expect(c.assign(2, 10)).toBe(true);
    expect(readFileSync(path.join(tmp.dir, LEADER_EPOCH_CHECKPOINT_FILE), 'utf8')).toBe('0\n2\n0 0\n2 10\n');
    expect(LeaderEpochCache.load(tmp.dir, noFaults)?.entries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 2, startOffset: 10 },
    ]);
  });

  it('drops entries that a new assignment makes non-monotonic', () => {
    const c = cacheWith([
      [1, 0],
      [3, 10],
      [5, 20],
    ]);
    c.assign(4, 15);
    expect(c.entries()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 10 },
      { epoch: 4, startOffset: 15 },
    ]);
  });

  it('answers OffsetForLeaderEpoch as Kafka does', () => {
    const c = cacheWith([
      [1, 0],
      [3, 10],
      [5, 20],
    ]);
    const leo = 30;
    expect(c.endOffsetFor(5, leo)).toEqual({ leaderEpoch: 5, endOffset: 30 });
    expect(c.endOffsetFor(3, leo)).toEqual({ leaderEpoch: 3, endOffset: 20 });
    // An epoch never used here: the largest known one below it, ending where the next begins.
    expect(c.endOffsetFor(4, leo)).toEqual({ leaderEpoch: 3, endOffset: 20 });
    // Older than every known epoch: the requested epoch, ending at the first known start.
    expect(c.endOffsetFor(0, leo)).toEqual({ leaderEpoch: 0, endOffset: 0 });
    expect(c.endOffsetFor(6, leo)).toEqual({ leaderEpoch: -1, endOffset: -1 });
    expect(c.endOffsetFor(-1, leo)).toEqual({ leaderEpoch: -1, endOffset: -1 });
    expect(LeaderEpochCache.empty(tmp.dir, noFaults).endOffsetFor(0, leo)).toEqual({ leaderEpoch: -1, endOffset: -1 });
  });

  it('maps offsets to epochs', () => {
    const c = cacheWith([
      [1, 5],
      [3, 10],
    ]);
    expect([0, 5, 9, 10, 100].map((o) => c.epochForOffset(o))).toEqual([-1, 1, 1, 3, 3]);
  });

  it('truncates from the end and from the start', () => {
    const c = cacheWith([
      [1, 0],
      [3, 10],
      [5, 20],
    ]);
    c.truncateFromEnd(20);
    expect(c.entries().map((e) => e.epoch)).toEqual([1, 3]);
    c.truncateFromStart(12);
    expect(c.entries()).toEqual([{ epoch: 3, startOffset: 12 }]);
    c.truncateFromStart(5);
    expect(c.entries()).toEqual([{ epoch: 3, startOffset: 12 }]);
    expect(LeaderEpochCache.load(tmp.dir, noFaults)?.entries()).toEqual([{ epoch: 3, startOffset: 12 }]);
  });

  it('refuses a malformed or disordered checkpoint', () => {
    const file = path.join(tmp.dir, LEADER_EPOCH_CHECKPOINT_FILE);
    writeFileSync(file, '0\n2\n1 0\n');
    expect(() => LeaderEpochCache.load(tmp.dir, noFaults)).toThrow(CheckpointFormatError);
    writeFileSync(file, '0\n2\n3 10\n1 20\n');
    expect(() => LeaderEpochCache.load(tmp.dir, noFaults)).toThrow(RangeError);
    writeFileSync(file, '1\n0\n');
    expect(() => LeaderEpochCache.load(tmp.dir, noFaults)).toThrow(/version/);
  });
});
