import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CompressionCodec, buildBatch, iterateBatches, setBaseOffset } from '../protocol/records/index.js';
import { LogSegment, segmentFileName, storedBatchOf, type StoredBatch } from './segment.js';
import { makeBatch, makeTempDir, testConfig, type TestBatchOptions } from './testing.js';
import { noFaults, type LogConfig } from './types.js';

let tmp: ReturnType<typeof makeTempDir>;
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => tmp.cleanup());

const T0 = 1_700_000_000_000;

/** Assigns offsets from the segment's next offset and appends, as the partition log does. */
function appendBatches(seg: LogSegment, bufs: Buffer[]): StoredBatch[] {
  const records = Buffer.concat(bufs);
  const stored: StoredBatch[] = [];
  let next = seg.nextOffset;
  for (const b of iterateBatches(records)) {
    setBaseOffset(records, BigInt(next), b.position);
    next += b.header.lastOffsetDelta + 1;
  }
  for (const b of iterateBatches(records)) stored.push(storedBatchOf(b.header, b.position));
  seg.append(records, stored);
  return stored;
}

function newSegment(config: LogConfig, base = 0, nowMs = T0): LogSegment {
  return LogSegment.create(tmp.dir, base, config, nowMs, noFaults);
}

/** Appends `specs` one append each and returns each batch's (base, last, position, size). */
function fill(seg: LogSegment, specs: TestBatchOptions[]): StoredBatch[] {
  const out: StoredBatch[] = [];
  for (const s of specs) {
    const before = seg.sizeBytes;
    for (const b of appendBatches(seg, [makeBatch(s)])) out.push({ ...b, position: before + b.position });
  }
  return out;
}

describe('LogSegment', () => {
  it('names files with the 20-digit base offset', () => {
    expect(segmentFileName(42, '.log')).toBe('00000000000000000042.log');
    const seg = newSegment(testConfig(), 42);
    expect(existsSync(path.join(tmp.dir, '00000000000000000042.log'))).toBe(true);
    expect(existsSync(path.join(tmp.dir, '00000000000000000042.index'))).toBe(true);
    expect(existsSync(path.join(tmp.dir, '00000000000000000042.timeindex'))).toBe(true);
    seg.release();
  });

  it('finds the batch holding every offset, whatever the index interval (vs brute force)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 300 })), { minLength: 1, maxLength: 40 }),
        (interval, specs) => {
          const sub = path.join(tmp.dir, `s${Math.random().toString(36).slice(2)}`);
          mkdirSync(sub, { recursive: true });
          const seg = LogSegment.create(sub, 100, testConfig({ indexIntervalBytes: interval }), T0, noFaults);
          const batches = fill(
            seg,
            specs.map(([count, valueBytes]) => ({ count, valueBytes })),
          );
          for (let o = 100; o < seg.nextOffset; o++) {
            const expected = batches.find((b) => b.baseOffset <= o && o <= b.lastOffset)!;
            const found = seg.translateOffset(o);
            expect(found?.position).toBe(expected.position);
            expect(found?.baseOffset).toBe(expected.baseOffset);
          }
          expect(seg.translateOffset(seg.nextOffset)).toBeNull();
          // Below the base offset: the first batch.
          expect(seg.translateOffset(0)?.position).toBe(0);
          // Same answers once closed (index read from the file instead of memory).
          seg.close();
          for (let o = 100; o < seg.nextOffset; o += 3) {
            expect(seg.translateOffset(o)?.baseOffset).toBe(batches.find((b) => b.baseOffset <= o && o <= b.lastOffset)!.baseOffset);
          }
          seg.release();
        },
      ),
      { numRuns: 40 },
    );
  });

  it("indexes as Kafka does: not the first batch, then a batch whenever more than the interval went by", () => {
    const seg = newSegment(testConfig({ indexIntervalBytes: 250 }));
    const batches = fill(seg, Array.from({ length: 10 }, () => ({ count: 1, valueBytes: 100 })));
    const size = batches[0]!.size;
    expect(size).toBeGreaterThan(125);
    expect(size).toBeLessThan(250);
    // Bytes since the last entry before each batch: 0, s, 2s (> 250: index), 0+s... so every third.
    const entries = Array.from({ length: seg.offsetIndex.entries }, (_, i) => seg.offsetIndex.entryAt(i));
    expect(entries).toEqual([2, 4, 6, 8].map((i) => ({ offset: batches[i]!.lastOffset, position: batches[i]!.position })));
    seg.release();
  });

  describe('roll decision', () => {
    it('rolls when the append would take the segment past segment.bytes', () => {
      const seg = newSegment(testConfig({ segmentBytes: 1000 }));
      expect(seg.shouldRoll({ appendBytes: 1000, appendMaxTimestamp: T0, appendLastOffset: 0, nowMs: T0 })).toBeNull();
      fill(seg, [{ valueBytes: 400 }]);
      const size = seg.sizeBytes;
      expect(seg.shouldRoll({ appendBytes: 1000 - size, appendMaxTimestamp: T0, appendLastOffset: 1, nowMs: T0 })).toBeNull();
      expect(seg.shouldRoll({ appendBytes: 1001 - size, appendMaxTimestamp: T0, appendLastOffset: 1, nowMs: T0 })).toMatch(/segment.bytes/);
      seg.release();
    });

    it('rolls by segment.ms measured from the first batch timestamp to the incoming one', () => {
      const seg = newSegment(testConfig({ segmentMs: 1000 }));
      fill(seg, [{ timestampMs: T0 }]);
      const check = (ts: number) => seg.shouldRoll({ appendBytes: 10, appendMaxTimestamp: ts, appendLastOffset: 1, nowMs: T0 });
      expect(check(T0 + 999)).toBeNull();
      expect(check(T0 + 1000)).toMatch(/segment.ms/);
      seg.release();
    });

    it('falls back to the creation time when the first batch has no timestamp', () => {
      const seg = newSegment(testConfig({ segmentMs: 1000 }), 0, T0);
      fill(seg, [{ timestampMs: -1 }]);
      const check = (now: number) => seg.shouldRoll({ appendBytes: 10, appendMaxTimestamp: -1, appendLastOffset: 1, nowMs: now });
      expect(check(T0 + 999)).toBeNull();
      expect(check(T0 + 1000)).toMatch(/segment.ms/);
      seg.release();
    });

    it('never rolls an empty segment, and rolls when an index is full', () => {
      const seg = newSegment(testConfig({ segmentIndexBytes: 24, indexIntervalBytes: 0 }));
      expect(seg.shouldRoll({ appendBytes: 10, appendMaxTimestamp: T0 + 1e12, appendLastOffset: 0, nowMs: T0 + 1e12 })).toBeNull();
      fill(
        seg,
        Array.from({ length: 4 }, (_, i) => ({ timestampMs: T0 + i })),
      );
      expect(seg.timeIndex.isFull).toBe(true);
      expect(seg.shouldRoll({ appendBytes: 10, appendMaxTimestamp: T0 + 5, appendLastOffset: 10, nowMs: T0 })).toMatch(/index full/);
      // A full index skips further entries instead of failing the append.
      fill(seg, [{ timestampMs: T0 + 9 }, { timestampMs: T0 + 10 }]);
      expect(seg.translateOffset(5)?.baseOffset).toBe(5);
      seg.release();
    });
  });

  describe('recover()', () => {
    function build(n = 12): { seg: LogSegment; batches: StoredBatch[]; indexBytes: Buffer; timeBytes: Buffer } {
      const seg = newSegment(testConfig({ indexIntervalBytes: 100 }));
      const batches = fill(
        seg,
        Array.from({ length: n }, (_, i) => ({ count: 1 + (i % 3), valueBytes: 40, timestampMs: T0 + i * 10 })),
      );
      seg.writeFinalTimeIndexEntry();
      return { seg, batches, indexBytes: readFileSync(seg.offsetIndex.file), timeBytes: readFileSync(seg.timeIndex.file) };
    }

    it('keeps an intact segment and rebuilds identical indexes', () => {
      const { seg, batches, indexBytes, timeBytes } = build();
      const size = seg.sizeBytes;
      const seen: number[] = [];
      expect(seg.recover((b) => seen.push(b.baseOffset))).toBe(0);
      expect(seen).toEqual(batches.map((b) => b.baseOffset));
      expect(seg.sizeBytes).toBe(size);
      expect(readFileSync(seg.offsetIndex.file)).toEqual(indexBytes);
      expect(readFileSync(seg.timeIndex.file)).toEqual(timeBytes);
      seg.release();
    });
    const damage: [string, (file: string, batches: StoredBatch[]) => number][] = [
      [
        'cut mid-batch',
        (file, batches) => {
          const last = batches.at(-1)!;
          truncateSync(file, last.position + 30);
          return last.position;
        },
      ],
      [
        'garbage appended',
        (file, batches) => {
          appendFileSync(file, Buffer.from('this is not a record batch, just some bytes after the end'));
          return batches.at(-1)!.position + batches.at(-1)!.size;
        },
      ],
      [
        'a byte flipped in the last batch',
        (file, batches) => {
          const last = batches.at(-1)!;
          const bytes = readFileSync(file);
          bytes[last.position + last.size - 3]! ^= 0xff;
          writeFileSync(file, bytes);
          return last.position;
        },
      ],
      [
        'a byte flipped in a middle batch',
        (file, batches) => {
          const mid = batches[5]!;
          const bytes = readFileSync(file);
          bytes[mid.position + 40]! ^= 0x01;
          writeFileSync(file, bytes);
          return mid.position;
        },
      ],
      [
        'zeros where a batch should be',
        (file, batches) => {
          appendFileSync(file, Buffer.alloc(200));
          return batches.at(-1)!.position + batches.at(-1)!.size;
        },
      ],
    ];

    for (const [name, harm] of damage) {
      it(`cuts exactly at the first bad byte: ${name}`, () => {
        const { seg, batches } = build();
        const valid = harm(seg.logFile, batches);
        const before = statSync(seg.logFile).size;
        const truncated = seg.recover();
        expect(truncated).toBe(before - valid);
        expect(statSync(seg.logFile).size).toBe(valid);
        expect(seg.sizeBytes).toBe(valid);
        const kept = batches.filter((b) => b.position + b.size <= valid);
        expect(seg.nextOffset).toBe(kept.at(-1)!.lastOffset + 1);
        // Rebuilt indexes are consistent with the remaining data and find every remaining batch.
        expect(seg.offsetIndex.problem(valid)).toBeNull();
        expect(seg.timeIndex.problem(seg.nextOffset - 1)).toBeNull();
        for (const b of kept) expect(seg.translateOffset(b.lastOffset)?.position).toBe(b.position);
        expect(seg.load()).toBeNull();
        seg.release();
      });
    }
  });

  describe('load()', () => {
    function closedSegment(): { batches: StoredBatch[] } {
      const seg = newSegment(testConfig({ indexIntervalBytes: 100 }));
      const batches = fill(
        seg,
        Array.from({ length: 10 }, (_, i) => ({ count: 2, valueBytes: 50, timestampMs: T0 + i })),
      );
      seg.close();
      seg.release();
      return { batches };
    }
    function reopen(): LogSegment {
      return LogSegment.open(tmp.dir, 0, testConfig({ indexIntervalBytes: 100 }), T0, noFaults);
    }

    it('accepts what close() left and restores next offset and max timestamp', () => {
      const { batches } = closedSegment();
      const seg = reopen();
      expect(seg.load()).toBeNull();
      expect(seg.nextOffset).toBe(batches.at(-1)!.lastOffset + 1);
      expect(seg.maxTimestamp).toBe(T0 + 9);
      expect(seg.offsetOfMaxTimestamp).toBe(batches.at(-1)!.lastOffset);
      seg.release();
    });

    it('reports a missing index file', () => {
      closedSegment();
      unlinkSync(path.join(tmp.dir, segmentFileName(0, '.index')));
      const seg = reopen();
      expect(seg.load()).toMatch(/missing/);
      seg.recover();
      expect(seg.load()).toBeNull();
      seg.release();
    });

    it('reports a partial index entry', () => {
      closedSegment();
      appendFileSync(path.join(tmp.dir, segmentFileName(0, '.index')), Buffer.from([0, 1]));
      const seg = reopen();
      expect(seg.load()).toMatch(/whole number/);
      seg.release();
    });

    it('reports an index entry that does not point at its batch', () => {
      closedSegment();
      const file = path.join(tmp.dir, segmentFileName(0, '.index'));
      const bytes = readFileSync(file);
      bytes.writeInt32BE(bytes.readInt32BE(bytes.length - 8) + 1, bytes.length - 8);
      writeFileSync(file, bytes);
      const seg = reopen();
      expect(seg.load()).toMatch(/names a batch ending at/);
      seg.release();
    });

    it('reports a torn tail', () => {
      const { batches } = closedSegment();
      truncateSync(path.join(tmp.dir, segmentFileName(0, '.log')), batches.at(-1)!.position + 20);
      const seg = reopen();
      expect(seg.load()).not.toBeNull();
      seg.release();
    });
  });

  it('finds the first record at or after a timestamp (vs brute force), compressed batches included', () => {
    const seg = newSegment(testConfig({ indexIntervalBytes: 64 }));
    const records: { offset: number; ts: number }[] = [];
    let offset = 0;
    const rnd = fc.sample(fc.integer({ min: -50, max: 100 }), 60);
    let ts = T0;
    for (let i = 0; i < 30; i++) {
      const tsA = ts + rnd[2 * i]!;
      const tsB = tsA + Math.abs(rnd[2 * i + 1]!);
      ts = tsB;
      const two = buildBatch({
        compression: i % 2 === 0 ? CompressionCodec.None : CompressionCodec.Gzip,
        baseTimestamp: BigInt(tsA),
        records: [tsA, tsB].map((t, j) => ({ key: null, value: Buffer.from(`r${i}-${j}`), timestamp: BigInt(t) })),
      });
      appendBatches(seg, [two]);
      records.push({ offset, ts: tsA }, { offset: offset + 1, ts: tsB });
      offset += 2;
    }
    const targets = [...records.map((r) => r.ts), T0 - 1000, ts + 1, ...fc.sample(fc.integer({ min: T0 - 100, max: ts + 10 }), 50)];
    for (const target of targets) {
      const expected = records.find((r) => r.ts >= target);
      const found = seg.findOffsetByTimestamp(target, 0, 1 << 20);
      expect(found === null ? null : { offset: found.offset, ts: found.timestamp }).toEqual(expected === undefined ? null : expected);
    }
    const maxTs = Math.max(...records.map((r) => r.ts));
    const expectedMax = records.find((r) => r.ts === maxTs)!;
    expect(seg.maxTimestampRecord(1 << 20)).toMatchObject({ offset: expectedMax.offset, timestamp: maxTs });
    seg.release();
  });

  it('moves through its lifecycle: active → closed → uploaded → deleted', () => {
    const seg = newSegment(testConfig());
    fill(seg, [{}]);
    expect(seg.state).toBe('active');
    seg.close();
    expect(seg.state).toBe('closed');
    expect(() => appendBatches(seg, [makeBatch()])).toThrow(/append in state closed/);
    expect(() => seg.close()).toThrow();
    seg.markUploaded();
    expect(seg.state).toBe('uploaded');
    seg.deleteFiles();
    expect(seg.state).toBe('deleted');
    expect(existsSync(seg.logFile)).toBe(false);
    expect(existsSync(seg.offsetIndex.file)).toBe(false);
    expect(existsSync(seg.timeIndex.file)).toBe(false);
  });
});

