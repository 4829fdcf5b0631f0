import { appendFileSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OffsetIndex } from './offset-index.js';
import { makeTempDir } from './testing.js';
import { noFaults } from './types.js';

let tmp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => tmp.cleanup());

const BASE = 1000;

function fileOf(name = 'a'): string {
  return path.join(tmp.dir, `${name}.index`);
}

/** Strictly increasing (offset, position) pairs from increments. */
function entriesFrom(steps: [number, number][]): { offset: number; position: number }[] {
  let offset = BASE;
  let position = 0;
  return steps.map(([dOff, dPos]) => {
    offset += dOff;
    position += dPos;
    return { offset, position };
  });
}

function bruteLookup(entries: { offset: number; position: number }[], target: number): { offset: number; position: number } {
  let best = { offset: BASE, position: 0 };
  for (const e of entries) if (e.offset <= target) best = e;
  return best;
}

describe('OffsetIndex', () => {
  it('looks up the last entry at or below the target, like a linear scan, mirrored or from the file', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5000 })), { maxLength: 200 }),
        fc.array(fc.integer({ min: BASE - 5, max: BASE + 200 * 50 + 5 }), { minLength: 1, maxLength: 30 }),
        (steps, targets) => {
          const file = fileOf(`p${Math.random().toString(36).slice(2)}`);
          const entries = entriesFrom(steps);
          const idx = new OffsetIndex(file, BASE, 1 << 20, noFaults);
          idx.mirror();
          for (const e of entries) idx.append(e.offset, e.position);
          for (const t of targets) expect(idx.lookup(t)).toEqual(bruteLookup(entries, t));
          idx.seal();
          for (const t of targets) expect(idx.lookup(t)).toEqual(bruteLookup(entries, t));
          idx.release();
          const reopened = new OffsetIndex(file, BASE, 1 << 20, noFaults);
          expect(reopened.entries).toBe(entries.length);
          for (const t of targets) expect(reopened.lookup(t)).toEqual(bruteLookup(entries, t));
          expect(reopened.problem(Number.MAX_SAFE_INTEGER)).toBeNull();
          reopened.release();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('stores Kafka layout: 4-byte relative offset, 4-byte position, big-endian, exact size', () => {
    const idx = new OffsetIndex(fileOf(), BASE, 1024, noFaults);
    idx.append(BASE + 3, 100);
    idx.append(BASE + 9, 4200);
    idx.release();
    const bytes = readFileSync(fileOf());
    expect(bytes.length).toBe(16);
    expect([bytes.readInt32BE(0), bytes.readInt32BE(4), bytes.readInt32BE(8), bytes.readInt32BE(12)]).toEqual([3, 100, 9, 4200]);
  });

  it('counts as full at segmentIndexBytes / 8 entries and refuses appends past it', () => {
    const idx = new OffsetIndex(fileOf(), BASE, 8 * 3 + 5, noFaults);
    expect(idx.maxEntries).toBe(3);
    idx.append(BASE + 1, 10);
    idx.append(BASE + 2, 20);
    expect(idx.isFull).toBe(false);
    idx.append(BASE + 3, 30);
    expect(idx.isFull).toBe(true);
    expect(() => idx.append(BASE + 4, 40)).toThrow(/full/);
    idx.release();
  });

  it('refuses entries that do not strictly increase', () => {
    const idx = new OffsetIndex(fileOf(), BASE, 1024, noFaults);
    idx.append(BASE + 5, 100);
    expect(() => idx.append(BASE + 5, 200)).toThrow();
    expect(() => idx.append(BASE + 6, 100)).toThrow();
    idx.release();
  });

  it('truncateTo drops entries at or above the offset', () => {
    const idx = new OffsetIndex(fileOf(), BASE, 1024, noFaults);
    for (let i = 1; i <= 5; i++) idx.append(BASE + i * 10, i * 100);
    idx.truncateTo(BASE + 30);
    expect(idx.entries).toBe(2);
    expect(idx.lastEntry()).toEqual({ offset: BASE + 20, position: 200 });
    idx.release();
  });

  describe('problem() detects a corrupt file', () => {
    function written(entries: [number, number][]): void {
      const buf = Buffer.alloc(entries.length * 8);
      entries.forEach(([rel, pos], i) => {
        buf.writeInt32BE(rel, i * 8);
        buf.writeInt32BE(pos, i * 8 + 4);
      });
      writeFileSync(fileOf(), buf);
    }
    function problemOf(logBytes = 10_000): string | null {
      const idx = new OffsetIndex(fileOf(), BASE, 1024, noFaults);
      try {
        return idx.problem(logBytes);
      } finally {
        idx.release();
      }
    }

    it('accepts a well-formed file', () => {
      written([
        [1, 100],
        [5, 300],
      ]);
      expect(problemOf()).toBeNull();
    });
    it('a size that is not a whole number of entries', () => {
      written([[1, 100]]);
      appendFileSync(fileOf(), Buffer.from([1, 2, 3]));
      expect(problemOf()).toMatch(/whole number/);
    });
    it('offsets that go backwards', () => {
      written([
        [5, 100],
        [4, 300],
      ]);
      expect(problemOf()).toMatch(/relative offset/);
    });
    it('positions that go backwards', () => {
      written([
        [1, 300],
        [5, 100],
      ]);
      expect(problemOf()).toMatch(/position/);
    });
    it('a last entry beyond the segment', () => {
      written([
        [1, 100],
        [5, 9000],
      ]);
      expect(problemOf(5000)).toMatch(/beyond/);
    });
    it('a torn final entry after truncation', () => {
      written([
        [1, 100],
        [5, 300],
      ]);
      truncateSync(fileOf(), 12);
      expect(problemOf()).toMatch(/whole number/);
    });
  });
});
