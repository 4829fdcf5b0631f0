// The topic settings the log acts on beyond segments and retention: compression.type
// (recompression on append), segment.jitter.ms and file.delete.delay.ms.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CompressionCodec, iterateBatches, parseBatchHeader, readRecords, TimestampType } from '../protocol/records/index.js';
import { LogError } from './errors.js';
import { PartitionLog, type PartitionLogOptions } from './partition-log.js';
import { LogSegment, rollJitterMs } from './segment.js';
import { TestClock, makeBatch, makeTempDir, testConfig, type TestBatchOptions } from './testing.js';
import { noFaults, type LogConfig } from './types.js';

let tmp: ReturnType<typeof makeTempDir>;
let dir: string;
let clock: TestClock;
const opened: PartitionLog[] = [];

beforeEach(() => {
  tmp = makeTempDir();
  dir = path.join(tmp.dir, 'orders-0');
  clock = new TestClock();
});
afterEach(() => {
  for (const log of opened.splice(0)) log.close();
  tmp.cleanup();
});

function open(config: Partial<LogConfig> = {}, extra: Partial<PartitionLogOptions> = {}): PartitionLog {
  const log = PartitionLog.open({ dir, config: testConfig(config), nowMs: clock.fn, ...extra });
  opened.push(log);
  return log;
}

function produce(log: PartitionLog, o: TestBatchOptions = {}) {
  const r = log.appendAsLeader(makeBatch({ timestampMs: clock.nowMs, ...o }), 0);
  log.updateHighWatermark(log.logEndOffset);
  return r;
}

function storedBatches(log: PartitionLog) {
  return [...iterateBatches(log.read(0, 1 << 24, log.highWatermark, true).records, { verifyCrc: true })];
}

const MAX = 64 * 1024 * 1024;
const values = (b: Buffer) => readRecords(b, { maxDecompressedBytes: MAX }).map((r) => [Number(r.offset), r.key?.toString(), r.value?.toString(), Number(r.timestamp)]);

/** A scheduler that runs tasks only when told. */
class ManualScheduler {
  readonly tasks: { delayMs: number; run: () => void; cancelled: boolean }[] = [];
  readonly fn = (delayMs: number, run: () => void) => {
    const t = { delayMs, run, cancelled: false };
    this.tasks.push(t);
    return () => {
      t.cancelled = true;
    };
  };
  runAll(): void {
    for (const t of this.tasks.splice(0)) if (!t.cancelled) t.run();
  }
}

describe('compression.type', () => {
  it('stores batches with the topic codec, keeping offsets, producer fields and records, and leaves batches already in it alone', () => {
    const log = open({ compressionType: 'zstd' });
    const plain = makeBatch({ count: 5, tag: 'a', producerId: 7n, producerEpoch: 1, baseSequence: 0 });
    const expected = values(plain);
    log.appendAsLeader(plain, 0);
    log.updateHighWatermark(log.logEndOffset);
    produce(log, { count: 3, tag: 'b', compression: CompressionCodec.Zstd });
    produce(log, { count: 2, tag: 'c', compression: CompressionCodec.Gzip });
    const batches = storedBatches(log);
    expect(batches.map((b) => b.header.compression)).toEqual([CompressionCodec.Zstd, CompressionCodec.Zstd, CompressionCodec.Zstd]);
    expect(batches.map((b) => [Number(b.header.baseOffset), b.header.lastOffsetDelta])).toEqual([
      [0, 4],
      [5, 2],
      [8, 1],
    ]);
    const first = batches[0]!.header;
    expect([first.producerId, first.producerEpoch, first.baseSequence, first.recordCount]).toEqual([7n, 1, 0, 5]);
    expect(values(batches[0]!.bytes)).toEqual(expected);
    expect(values(batches[2]!.bytes).map((v) => v[2])).toEqual(['c-0-......', 'c-1-......']);
  });

  it('recognises an idempotent retry of a recompressed batch and writes nothing', () => {
    const log = open({ compressionType: 'lz4' });
    const batch = () => makeBatch({ count: 3, producerId: 9n, producerEpoch: 0, baseSequence: 0, timestampMs: clock.nowMs });
    const first = log.appendAsLeader(batch(), 0);
    const retry = log.appendAsLeader(batch(), 0);
    expect(retry).toMatchObject({ duplicate: true, baseOffset: first.baseOffset, lastOffset: first.lastOffset });
    expect(log.logEndOffset).toBe(3);
  });

  it('stores under uncompressed without a codec, and refuses a batch that grows past max.message.bytes', () => {
    const log = open({ compressionType: 'uncompressed', maxMessageBytes: 2000 });
    produce(log, { count: 2, compression: CompressionCodec.Snappy });
    expect(storedBatches(log)[0]!.header.compression).toBe(CompressionCodec.None);
    // 100 records of 100 bytes compress to far less than 2000 bytes, but not once stored plain.
    const big = makeBatch({ count: 100, valueBytes: 100, compression: CompressionCodec.Gzip, timestampMs: clock.nowMs });
    expect(big.length).toBeLessThan(2000);
    const e = (() => {
      try {
        log.appendAsLeader(big, 0);
      } catch (err) {
        return err as LogError;
      }
      throw new Error('expected MESSAGE_TOO_LARGE');
    })();
    expect(e.code).toBe('MESSAGE_TOO_LARGE');
    expect(e.message).toMatch(/once recompressed as uncompressed, more than max\.message\.bytes 2000/);
    expect(log.logEndOffset).toBe(2);
  });

  it('combines with LogAppendTime, and applies a live change to the next append', () => {
    const log = open();
    produce(log, { count: 1, tag: 'before' });
    log.updateConfig(testConfig({ compressionType: 'gzip', compressionGzipLevel: 9, messageTimestampType: 'LogAppendTime' }));
    clock.advance(5000);
    produce(log, { count: 2, tag: 'after', timestampMs: clock.nowMs - 4000 });
    const [before, after] = storedBatches(log);
    expect(before!.header.compression).toBe(CompressionCodec.None);
    expect(after!.header.compression).toBe(CompressionCodec.Gzip);
    expect(after!.header.timestampType).toBe(TimestampType.LogAppendTime);
    expect(Number(after!.header.maxTimestamp)).toBe(clock.nowMs);
    expect(values(after!.bytes).map((v) => v[3])).toEqual([clock.nowMs, clock.nowMs]);
    expect(() => parseBatchHeader(after!.bytes, 0, { verifyCrc: true })).not.toThrow();
  });
});

describe('segment.jitter.ms', () => {
  it('draws up to min(segment.jitter.ms, segment.ms) - 1, or nothing without jitter', () => {
    expect(rollJitterMs(0, 1000, () => 0.99)).toBe(0);
    expect(rollJitterMs(100, 1000, () => 0)).toBe(0);
    expect(rollJitterMs(100, 1000, () => 0.5)).toBe(50);
    expect(rollJitterMs(100, 1000, () => 0.999999)).toBe(99);
    expect(rollJitterMs(5000, 1000, () => 0.999999)).toBe(999);
    expect(() => rollJitterMs(100, 1000, () => 1)).toThrow();
  });

  it('rolls a segment that much before segment.ms, redrawn when the settings change', () => {
    const segDir = path.join(tmp.dir, 'jitter');
    const log = PartitionLog.open({ dir: segDir, config: testConfig({ segmentMs: 10_000, segmentJitterMs: 4000 }), nowMs: clock.fn, random: () => 0.5 });
    opened.push(log);
    log.appendAsLeader(makeBatch({ timestampMs: clock.nowMs }), 0);
    // 10 s less 2 s of jitter: a batch 8 s later rolls, one 7.9 s later does not.
    log.appendAsLeader(makeBatch({ timestampMs: clock.nowMs + 7900 }), 0);
    expect(log.segmentCount()).toBe(1);
    log.appendAsLeader(makeBatch({ timestampMs: clock.nowMs + 8000 }), 0);
    expect(log.segmentCount()).toBe(2);

    const seg = LogSegment.create(tmp.dir, 0, testConfig({ segmentMs: 10_000, segmentJitterMs: 4000 }), clock.nowMs, noFaults, () => 0.25);
    expect(seg.rollJitterMs).toBe(1000);
    seg.reconfigure(testConfig({ segmentMs: 10_000, segmentJitterMs: 0 }));
    expect(seg.rollJitterMs).toBe(0);
    seg.release();
  });
});

describe('file.delete.delay.ms', () => {
  const segmentFiles = () => readdirSync(dir).filter((f) => /^\d{20}\.(log|index|timeindex)(\.deleted)?$/.test(f)).sort();

  function logWithSegments(config: Partial<LogConfig>, extra: Partial<PartitionLogOptions> = {}) {
    const log = open({ segmentBytes: 1024, ...config }, extra);
    for (let i = 0; i < 12; i++) produce(log, { valueBytes: 200 });
    expect(log.segmentCount()).toBeGreaterThan(3);
    return log;
  }

  it('renames segments removed by DeleteRecords to *.deleted and removes them after the delay', () => {
    const scheduler = new ManualScheduler();
    const log = logWithSegments({ fileDeleteDelayMs: 30_000 }, { schedule: scheduler.fn });
    const [first, second] = log.segmentBaseOffsets();
    log.deleteRecordsBefore(second!);
    const name = (suffix: string) => `${String(first).padStart(20, '0')}${suffix}`;
    expect(segmentFiles()).toEqual(expect.arrayContaining([name('.log.deleted'), name('.index.deleted'), name('.timeindex.deleted')]));
    expect(existsSync(path.join(dir, name('.log')))).toBe(false);
    expect(scheduler.tasks.map((t) => t.delayMs)).toEqual([30_000]);
    expect(log.pendingDeletedFiles()).toHaveLength(3);
    scheduler.runAll();
    expect(segmentFiles().filter((f) => f.endsWith('.deleted'))).toEqual([]);
    expect(log.pendingDeletedFiles()).toEqual([]);
  });

  it('removes at once with a delay of 0, and at close what is still waiting', () => {
    const scheduler = new ManualScheduler();
    const log = logWithSegments({ fileDeleteDelayMs: 0 }, { schedule: scheduler.fn });
    log.deleteRecordsBefore(log.segmentBaseOffsets()[1]!);
    expect(segmentFiles().filter((f) => f.endsWith('.deleted'))).toEqual([]);
    expect(scheduler.tasks).toEqual([]);
    log.updateConfig(testConfig({ segmentBytes: 1024, fileDeleteDelayMs: 60_000 }));
    log.deleteRecordsBefore(log.segmentBaseOffsets()[1]!);
    expect(segmentFiles().filter((f) => f.endsWith('.deleted'))).toHaveLength(3);
    log.close();
    opened.splice(opened.indexOf(log), 1);
    expect(segmentFiles().filter((f) => f.endsWith('.deleted'))).toEqual([]);
    expect(scheduler.tasks.every((t) => t.cancelled)).toBe(true);
  });

  it('loading removes *.deleted files a crash left behind', () => {
    const log = logWithSegments({});
    const base = log.segmentBaseOffsets()[1]!;
    log.close();
    opened.splice(0);
    const stray = `${String(base).padStart(20, '0')}.log.deleted`;
    writeFileSync(path.join(dir, stray), 'left over');
    writeFileSync(path.join(dir, '00000000000000000000.index.deleted'), '');
    const reopened = open({ segmentBytes: 1024 });
    expect(segmentFiles().filter((f) => f.endsWith('.deleted'))).toEqual([]);
    expect(reopened.logEndOffset).toBe(12);
  });
});
