import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TimeIndex } from './time-index.js';
import { makeTempDir } from './testing.js';
import { noFaults } from './types.js';

let tmp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => tmp.cleanup());

const BASE = 500;
const T0 = 1_700_000_000_000;

describe('TimeIndex', () => {
  it('keeps only increasing timestamps and looks up like a linear scan', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -20, max: 100 }), fc.integer({ min: 0, max: 10 })), { maxLength: 200 }),
        fc.array(fc.integer({ min: T0 - 50, max: T0 + 200 * 100 }), { minLength: 1, maxLength: 30 }),
        (steps, targets) => {
          const file = path.join(tmp.dir, `t${Math.random().toString(36).slice(2)}.timeindex`);
          const idx = new TimeIndex(file, BASE, 1 << 20, noFaults);
          idx.mirror();
          const kept: { timestamp: number; offset: number }[] = [];
          let ts = T0;
          let offset = BASE;
          for (const [dTs, dOff] of steps) {
            ts += dTs;
            offset += dOff;
            idx.maybeAppend(ts, offset);
            if (kept.length === 0 || ts > kept.at(-1)!.timestamp) kept.push({ timestamp: ts, offset });
          }
          expect(idx.entries).toBe(kept.length);
          const brute = (t: number) => {
            let best = { timestamp: -1, offset: BASE };
            for (const e of kept) if (e.timestamp <= t) best = e;
            return best;
          };
          for (const t of targets) expect(idx.lookup(t)).toEqual(brute(t));
          idx.seal();
          for (const t of targets) expect(idx.lookup(t)).toEqual(brute(t));
          expect(idx.problem(offset)).toBeNull();
          idx.release();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('stores Kafka layout: 8-byte timestamp then 4-byte relative offset', () => {
    const file = path.join(tmp.dir, 'x.timeindex');
    const idx = new TimeIndex(file, BASE, 1024, noFaults);
    idx.maybeAppend(T0, BASE + 7);
    idx.release();
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(12);
    expect(Number(bytes.readBigInt64BE(0))).toBe(T0);
    expect(bytes.readInt32BE(8)).toBe(7);
  });

  it('never indexes a negative timestamp, and allows one final entry past full', () => {
    const file = path.join(tmp.dir, 'y.timeindex');
    const idx = new TimeIndex(file, BASE, 24, noFaults);
    idx.maybeAppend(-1, BASE);
    expect(idx.entries).toBe(0);
    idx.maybeAppend(T0, BASE + 1);
    idx.maybeAppend(T0 + 1, BASE + 2);
    expect(idx.isFull).toBe(true);
    expect(() => idx.maybeAppend(T0 + 2, BASE + 3)).toThrow(/full/);
    idx.maybeAppend(T0 + 2, BASE + 3, true);
    expect(idx.entries).toBe(3);
    expect(idx.problem(BASE + 3)).toBeNull();
    idx.release();
  });

  describe('problem()', () => {
    function write(entries: [number, number][]): string {
      const file = path.join(tmp.dir, 'z.timeindex');
      const buf = Buffer.alloc(entries.length * 12);
      entries.forEach(([ts, rel], i) => {
        buf.writeBigInt64BE(BigInt(ts), i * 12);
        buf.writeInt32BE(rel, i * 12 + 8);
      });
      writeFileSync(file, buf);
      return file;
    }
    function problem(file: string, lastOffset: number): string | null {
      const idx = new TimeIndex(file, BASE, 1024, noFaults);
      try {
        return idx.problem(lastOffset);
      } finally {
        idx.release();
      }
    }
    it('partial entry', () => {
      const f = write([[T0, 1]]);
      appendFileSync(f, Buffer.from([0]));
      expect(problem(f, BASE + 10)).toMatch(/whole number/);
    });
    it('timestamps not increasing', () => {
      expect(
        problem(
          write([
            [T0, 1],
            [T0, 2],
          ]),
          BASE + 10,
        ),
      ).toMatch(/timestamp/);
    });
    it('offsets decreasing', () => {
      expect(
        problem(
          write([
            [T0, 5],
            [T0 + 1, 2],
          ]),
          BASE + 10,
        ),
      ).toMatch(/relative offset/);
    });
    it('an offset beyond the segment', () => {
      expect(problem(write([[T0, 50]]), BASE + 10)).toMatch(/beyond/);
    });
  });
});
