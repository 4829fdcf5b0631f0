import { appendFileSync, cpSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BatchAttribute,
  BatchField,
  CompressionCodec,
  buildBatch,
  iterateBatches,
  readRecords,
  verifyBatchCrc,
} from '../protocol/records/index.js';
import { LogError } from './errors.js';
import { OffsetIndex } from './offset-index.js';
import { PartitionLog, type PartitionLogOptions } from './partition-log.js';
import { WRITEBACK_BYTES } from './segment.js';
import { TestClock, batchSpans, capturingLogger, makeBatch, makeTempDir, testConfig, type TestBatchOptions } from './testing.js';
import type { FaultPoint, LogConfig } from './types.js';

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

function closeLog(log: PartitionLog): void {
  log.close();
  opened.splice(opened.indexOf(log), 1);
}

/** Appends as the produce path does: append, then the high watermark to the log end. */
function produce(log: PartitionLog, o: TestBatchOptions = {}, epoch = 0) {
  const r = log.appendAsLeader(makeBatch({ timestampMs: clock.nowMs, ...o }), epoch);
  log.updateHighWatermark(log.logEndOffset);
  return r;
}

function errorOf(f: () => unknown): LogError {
  try {
    f();
  } catch (e) {
    if (e instanceof LogError) return e;
    throw e;
  }
  throw new Error('expected a LogError');
}

/** A copy of the directory as a SIGKILL would leave it: what is in the files, no close(). */
function crashCopy(): string {
  const copy = path.join(tmp.dir, `crash-${Math.random().toString(36).slice(2)}`);
  cpSync(dir, copy, { recursive: true });
  return copy;
}

function openAt(at: string, config: Partial<LogConfig> = {}, extra: Partial<PartitionLogOptions> = {}): PartitionLog {
  const log = PartitionLog.open({ dir: at, config: testConfig(config), nowMs: clock.fn, ...extra });
  opened.push(log);
  return log;
}

function values(records: Buffer): string[] {
  const out: string[] = [];
  for (const b of iterateBatches(records)) {
    for (const r of readRecords(b, { maxDecompressedBytes: 1 << 24 })) out.push(r.value!.toString().split('.')[0]!);
  }
  return out;
}

const SMALL = { segmentBytes: 2048, indexIntervalBytes: 200 };

describe('PartitionLog', () => {
  describe('append and read', () => {
    it('round-trips across many segments; a read at every offset returns the batch holding it', () => {
      const log = open(SMALL);
      const spans: { base: number; last: number; tag: string }[] = [];
      for (let i = 0; i < 60; i++) {
        const count = 1 + (i % 4);
        const r = produce(log, { count, valueBytes: 40 + (i % 5) * 30, tag: `b${i}`, compression: i % 3 === 0 ? CompressionCodec.Gzip : 0 });
        expect(r.baseOffset).toBe(spans.at(-1) === undefined ? 0 : spans.at(-1)!.last + 1);
        expect(r.lastOffset - r.baseOffset + 1).toBe(count);
        expect(r.duplicate).toBe(false);
        spans.push({ base: r.baseOffset, last: r.lastOffset, tag: `b${i}` });
      }
      expect(log.segmentCount()).toBeGreaterThan(5);
      expect(log.logEndOffset).toBe(spans.at(-1)!.last + 1);
      for (let o = 0; o < log.logEndOffset; o++) {
        const span = spans.find((s) => s.base <= o && o <= s.last)!;
        const r = log.read(o, 1, log.highWatermark, true);
        const got = batchSpans(r.records);
        expect(got).toHaveLength(1);
        expect(got[0]).toMatchObject({ baseOffset: span.base, lastOffset: span.last });
        expect(r.firstOffset).toBe(span.base);
        expect(values(r.records)[0]).toBe(`${span.tag}-0-`);
      }
      // Everything at once, spanning every segment, byte-identical to a fresh reopen's read.
      const all = log.read(0, 1 << 30, log.highWatermark, false);
      expect(batchSpans(all.records).map((s) => s.baseOffset)).toEqual(spans.map((s) => s.base));
      closeLog(log);
      const again = open(SMALL);
      expect(again.read(0, 1 << 30, again.highWatermark, false).records.equals(all.records)).toBe(true);
    });

    it('returns whole batches within maxBytes, and the first whole batch with minOneBatch', () => {
      const log = open(SMALL);
      const sizes = [300, 300, 300, 300].map((v, i) => produce(log, { valueBytes: v, tag: `x${i}` }));
      const batchBytes = log.read(0, 1, log.highWatermark, true).bytes;
      expect(batchBytes).toBeGreaterThan(300);
      expect(log.read(0, batchBytes - 1, log.highWatermark, false).bytes).toBe(0);
      expect(log.read(0, batchBytes - 1, log.highWatermark, true).bytes).toBe(batchBytes);
      expect(log.read(0, batchBytes, log.highWatermark, false).bytes).toBe(batchBytes);
      expect(log.read(0, 2 * batchBytes - 1, log.highWatermark, true).bytes).toBe(batchBytes);
      expect(log.read(0, 2 * batchBytes, log.highWatermark, true).bytes).toBe(2 * batchBytes);
      expect(log.read(1, 10 * batchBytes, log.highWatermark, false).bytes).toBe(3 * batchBytes);
      expect(sizes).toHaveLength(4);
    });

    it('never returns a batch at or beyond maxOffsetExclusive, and nothing at the log end', () => {
      const log = open();
      for (let i = 0; i < 4; i++) log.appendAsLeader(makeBatch({ count: 3, timestampMs: clock.nowMs }), 0);
      log.updateHighWatermark(6);
      expect(batchSpans(log.read(0, 1 << 20, log.highWatermark, false).records).map((s) => s.baseOffset)).toEqual([0, 3]);
      // A bound inside a batch excludes that batch, as Kafka's position bound does.
      expect(batchSpans(log.read(0, 1 << 20, 8, false).records).map((s) => s.baseOffset)).toEqual([0, 3]);
      expect(log.read(6, 1 << 20, 6, true)).toMatchObject({ bytes: 0, firstOffset: 6 });
      expect(log.read(12, 1 << 20, 12, true).bytes).toBe(0);
      expect(errorOf(() => log.read(13, 100, 13, true))).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', errorCode: 1 });
    });

    it('keeps the high watermark apart from the log end, clamped between log start and log end', () => {
      const log = open();
      log.appendAsLeader(makeBatch({ count: 5, timestampMs: clock.nowMs }), 0);
      expect(log.logEndOffset).toBe(5);
      expect(log.highWatermark).toBe(0);
      expect(log.lastStableOffset).toBe(0);
      expect(log.read(0, 1000, log.highWatermark, true).bytes).toBe(0);
      expect(log.updateHighWatermark(99)).toBe(5);
      expect(log.updateHighWatermark(3)).toBe(3);
      expect(log.updateHighWatermark(-4)).toBe(0);
    });

    it('stamps offsets and the leader epoch in place and keeps everything else byte for byte', () => {
      const log = open();
      produce(log, { count: 2 });
      const original = makeBatch({ count: 3, tag: 'z', timestampMs: clock.nowMs });
      const sent = Buffer.from(original);
      log.appendAsLeader(sent, 4);
      log.updateHighWatermark(log.logEndOffset);
      const stored = log.read(2, 1 << 20, log.highWatermark, true).records;
      expect(stored.readBigInt64BE(BatchField.BaseOffset)).toBe(2n);
      expect(stored.readInt32BE(BatchField.PartitionLeaderEpoch)).toBe(4);
      expect(stored.subarray(BatchField.Magic).equals(original.subarray(BatchField.Magic))).toBe(true);
      verifyBatchCrc(stored);
    });

    it('appends several batches of one request contiguously', () => {
      const log = open();
      const r = log.appendAsLeader(Buffer.concat([makeBatch({ count: 2 }), makeBatch({ count: 3 }), makeBatch({ count: 1 })].map((b) => b)), 0);
      expect(r).toMatchObject({ baseOffset: 0, lastOffset: 5, recordCount: 6 });
      log.updateHighWatermark(6);
      expect(batchSpans(log.read(0, 1 << 20, 6, false).records)).toMatchObject([
        { baseOffset: 0, lastOffset: 1 },
        { baseOffset: 2, lastOffset: 4 },
        { baseOffset: 5, lastOffset: 5 },
      ]);
    });
  });

  describe('validation', () => {
    it('rejects a CRC failure with CORRUPT_MESSAGE and appends nothing', () => {
      const log = open();
      const bad = makeBatch({ count: 2 });
      bad[bad.length - 1]! ^= 0x40;
      expect(errorOf(() => log.appendAsLeader(bad, 0))).toMatchObject({ code: 'CORRUPT_MESSAGE', errorCode: 2 });
      expect(log.logEndOffset).toBe(0);
      expect(log.sizeBytes()).toBe(0);
    });

    it('rejects an incomplete batch with CORRUPT_MESSAGE', () => {
      const log = open();
      const whole = makeBatch({ count: 2 });
      expect(errorOf(() => log.appendAsLeader(whole.subarray(0, whole.length - 1), 0)).code).toBe('CORRUPT_MESSAGE');
      expect(errorOf(() => log.appendAsLeader(Buffer.concat([whole, whole.subarray(0, 20)]), 0)).code).toBe('CORRUPT_MESSAGE');
    });

    it('rejects a batch over max.message.bytes with MESSAGE_TOO_LARGE, per batch', () => {
      const log = open({ maxMessageBytes: 500 });
      const small = makeBatch({ valueBytes: 100 });
      const large = makeBatch({ valueBytes: 600 });
      expect(errorOf(() => log.appendAsLeader(large, 0))).toMatchObject({ code: 'MESSAGE_TOO_LARGE', errorCode: 10 });
      // Several batches that are each small enough are fine, even when together they are not.
      expect(log.appendAsLeader(Buffer.concat([small, small, small, small, small]), 0).recordCount).toBe(5);
    });

    it('rejects batches larger than a segment with RECORD_LIST_TOO_LARGE', () => {
      const log = open({ segmentBytes: 1000, maxMessageBytes: 900 });
      const batch = makeBatch({ valueBytes: 400 });
      expect(errorOf(() => log.appendAsLeader(Buffer.concat([batch, batch, batch]), 0))).toMatchObject({ code: 'RECORD_LIST_TOO_LARGE', errorCode: 18 });
    });

    it('rejects malformed batches with INVALID_RECORD', () => {
      const log = open();
      expect(errorOf(() => log.appendAsLeader(makeBatch({ baseOffset: 7n }), 0)).code).toBe('INVALID_RECORD');
      expect(errorOf(() => log.appendAsLeader(makeBatch({ count: 3, lastOffsetDelta: 5 }), 0)).code).toBe('INVALID_RECORD');
      expect(errorOf(() => log.appendAsLeader(makeBatch({ isControl: true }), 0)).code).toBe('INVALID_RECORD');
      expect(errorOf(() => log.appendAsLeader(makeBatch({ producerId: 5n, producerEpoch: 0, baseSequence: -1 }), 0)).code).toBe('INVALID_RECORD');
      const ts = BigInt(clock.nowMs);
      const gapped = buildBatch({ records: [{ key: null, value: null, timestamp: ts }, { key: null, value: null, timestamp: ts, offsetDelta: 2 }], lastOffsetDelta: 1 });
      expect(errorOf(() => log.appendAsLeader(gapped, 0)).code).toBe('INVALID_RECORD');
      const legacy = makeBatch();
      legacy.writeInt8(1, BatchField.Magic);
      expect(errorOf(() => log.appendAsLeader(legacy, 0)).errorCode).toBe(87);
      expect(errorOf(() => log.appendAsLeader(Buffer.alloc(0), 0)).code).toBe('INVALID_RECORD');
      expect(log.logEndOffset).toBe(0);
    });

    it('rejects CreateTime timestamps outside the configured bounds with INVALID_TIMESTAMP', () => {
      const log = open({ messageTimestampBeforeMaxMs: 1000, messageTimestampAfterMaxMs: 500 });
      expect(errorOf(() => log.appendAsLeader(makeBatch({ timestampMs: clock.nowMs - 1001 }), 0))).toMatchObject({ code: 'INVALID_TIMESTAMP', errorCode: 32 });
      expect(errorOf(() => log.appendAsLeader(makeBatch({ timestampMs: clock.nowMs + 501 }), 0)).code).toBe('INVALID_TIMESTAMP');
      expect(log.appendAsLeader(makeBatch({ timestampMs: clock.nowMs - 1000 }), 0).baseOffset).toBe(0);
      expect(log.appendAsLeader(makeBatch({ timestampMs: clock.nowMs + 500 }), 0).baseOffset).toBe(1);
      // -1, "no timestamp", is not checked.
      expect(log.appendAsLeader(makeBatch({ timestampMs: -1 }), 0).baseOffset).toBe(2);
      const lat = makeBatch({ timestampType: 1, maxTimestamp: BigInt(clock.nowMs) });
      expect(errorOf(() => log.appendAsLeader(lat, 0)).code).toBe('INVALID_TIMESTAMP');
    });

    it('under LogAppendTime stamps the broker time into maxTimestamp and the attributes, with a valid CRC', () => {
      const log = open({ messageTimestampType: 'LogAppendTime' });
      const r = log.appendAsLeader(makeBatch({ count: 3, timestampMs: 5, compression: CompressionCodec.Snappy }), 0);
      expect(r.logAppendTimeMs).toBe(clock.nowMs);
      log.updateHighWatermark(log.logEndOffset);
      const stored = log.read(0, 1 << 20, log.highWatermark, true).records;
      verifyBatchCrc(stored);
      const [b] = [...iterateBatches(stored)];
      expect(b!.header.timestampType).toBe(1);
      expect(b!.header.compression).toBe(CompressionCodec.Snappy);
      expect(b!.header.maxTimestamp).toBe(BigInt(clock.nowMs));
      expect(b!.header.attributes & BatchAttribute.LogAppendTime).not.toBe(0);
      expect(readRecords(b!, { maxDecompressedBytes: 1 << 20 }).map((x) => Number(x.timestamp))).toEqual([clock.nowMs, clock.nowMs, clock.nowMs]);
      expect(log.offsetForTimestamp(clock.nowMs)).toMatchObject({ offset: 0, timestamp: clock.nowMs });
    });

    it('under CreateTime corrects a batch whose maxTimestamp disagrees with its records', () => {
      const log = open();
      const wrong = makeBatch({ count: 2, timestampMs: clock.nowMs, maxTimestamp: BigInt(clock.nowMs + 99_999) });
      expect(log.appendAsLeader(wrong, 0).logAppendTimeMs).toBe(-1);
      log.updateHighWatermark(log.logEndOffset);
      const stored = log.read(0, 1 << 20, log.highWatermark, true).records;
      verifyBatchCrc(stored);
      expect(stored.readBigInt64BE(BatchField.MaxTimestamp)).toBe(BigInt(clock.nowMs));
    });
  });

  describe('rolling', () => {
    it('rolls by size: no segment exceeds segment.bytes', () => {
      const log = open({ segmentBytes: 1000 });
      for (let i = 0; i < 20; i++) produce(log, { valueBytes: 150 });
      const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
      expect(files.length).toBe(log.segmentCount());
      expect(files.length).toBeGreaterThan(3);
      for (const f of files) expect(statSync(path.join(dir, f)).size).toBeLessThanOrEqual(1000);
      expect(files.map((f) => Number(f.slice(0, 20)))).toEqual(log.segmentBaseOffsets());
    });

    it('rolls by time, on the injected clock', () => {
      const log = open({ segmentMs: 60_000 });
      produce(log);
      clock.advance(59_999);
      produce(log);
      expect(log.segmentCount()).toBe(1);
      clock.advance(1);
      produce(log);
      expect(log.segmentBaseOffsets()).toEqual([0, 2]);
    });

    it('takes a producer snapshot at each roll, and moves the recovery point once the rolled segment is fsynced in the background', async () => {
      const log = open({ segmentBytes: 1000 });
      for (let i = 0; i < 10; i++) produce(log, { valueBytes: 150, producerId: 1n, producerEpoch: 0, baseSequence: i });
      const bases = log.segmentBaseOffsets();
      expect(bases.length).toBeGreaterThan(2);
      const snapshots = readdirSync(dir).filter((f) => f.endsWith('.snapshot')).map((f) => Number(f.slice(0, 20)));
      expect(snapshots).toEqual(bases.slice(1));
      // The fsyncs run off the event loop: until they finish, the recovery point has not moved.
      expect(log.recoveryPoint).toBe(0);
      await log.flushesSettled();
      expect(log.recoveryPoint).toBe(bases.at(-1));
    });
  });

  describe('idempotent producers', () => {
    const P = 77n;
    function send(log: PartitionLog, seq: number, count = 1, epoch = 0) {
      return log.appendAsLeader(makeBatch({ count, producerId: P, producerEpoch: epoch, baseSequence: seq, timestampMs: clock.nowMs }), 0);
    }

    function sendBig(log: PartitionLog, seq: number, count: number) {
      return log.appendAsLeader(makeBatch({ count, valueBytes: 120, producerId: P, producerEpoch: 0, baseSequence: seq, timestampMs: clock.nowMs }), 0);
    }

    it('answers a retry of any of the last 5 batches with the original offsets, writing nothing', () => {
      const log = open();
      const firsts = [0, 2, 4, 6, 8, 10].map((seq) => send(log, seq, 2));
      const end = log.logEndOffset;
      for (let i = 1; i < 6; i++) {
        expect(send(log, i * 2, 2)).toMatchObject({ duplicate: true, baseOffset: firsts[i]!.baseOffset, lastOffset: firsts[i]!.lastOffset, recordCount: 2 });
      }
      expect(log.logEndOffset).toBe(end);
      expect(errorOf(() => send(log, 0, 2))).toMatchObject({ code: 'OUT_OF_ORDER_SEQUENCE_NUMBER', errorCode: 45 });
    });

    it('rejects out-of-order sequences and fences old epochs', () => {
      const log = open();
      send(log, 0, 3);
      expect(errorOf(() => send(log, 5)).code).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
      send(log, 0, 1, 1);
      expect(errorOf(() => send(log, 1, 1, 0))).toMatchObject({ code: 'INVALID_PRODUCER_EPOCH', errorCode: 47 });
      expect(errorOf(() => send(log, 4, 1, 2)).code).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
      expect(send(log, 1, 1, 1).duplicate).toBe(false);
      expect(log.logEndOffset).toBe(5);
    });

    it('keeps its state across a clean close and open', () => {
      const log = open({ segmentBytes: 1000 });
      for (let i = 0; i < 8; i++) send(log, i * 2, 2);
      const last = send(log, 16, 2);
      closeLog(log);
      const again = open({ segmentBytes: 1000 });
      expect(again.loadReport.cleanShutdown).toBe(true);
      expect(again.loadReport.producerBatchesReplayed).toBe(0);
      expect(send(again, 16, 2)).toMatchObject({ duplicate: true, baseOffset: last.baseOffset });
      expect(errorOf(() => send(again, 20)).code).toBe('OUT_OF_ORDER_SEQUENCE_NUMBER');
      expect(send(again, 18).duplicate).toBe(false);
    });

    it('rebuilds its state after a crash from the last snapshot plus the batches after it', () => {
      const log = open({ segmentBytes: 1000 });
      for (let i = 0; i < 12; i++) sendBig(log, i * 2, 2);
      const last = sendBig(log, 24, 2);
      expect(log.segmentCount()).toBeGreaterThan(2);
      const copy = crashCopy();
      const again = openAt(copy, { segmentBytes: 1000 });
      expect(again.loadReport.cleanShutdown).toBe(false);
      expect(again.loadReport.producerSnapshotOffset).toBe(log.segmentBaseOffsets().at(-1));
      expect(again.loadReport.producerBatchesReplayed).toBeGreaterThan(0);
      expect(sendBig(again, 24, 2)).toMatchObject({ duplicate: true, baseOffset: last.baseOffset });
      expect(send(again, 26).duplicate).toBe(false);
    });

    it('rebuilds from the log alone when every snapshot is gone', () => {
      const log = open({ segmentBytes: 1000 });
      for (let i = 0; i < 12; i++) send(log, i * 2, 2);
      const copy = crashCopy();
      for (const f of readdirSync(copy)) if (f.endsWith('.snapshot')) unlinkSync(path.join(copy, f));
      const again = openAt(copy, { segmentBytes: 1000 });
      expect(again.loadReport.producerSnapshotOffset).toBe(-1);
      expect(again.loadReport.producerBatchesReplayed).toBe(12);
      expect(send(again, 22, 2).duplicate).toBe(true);
    });
  });

  describe('recovery', () => {
    function fillAndCrash(): { log: PartitionLog; copy: string; spans: { base: number; last: number }[] } {
      const log = open({ ...SMALL, segmentBytes: 3000 });
      const spans: { base: number; last: number }[] = [];
      for (let i = 0; i < 30; i++) {
        const r = produce(log, { count: 1 + (i % 3), valueBytes: 60 });
        spans.push({ base: r.baseOffset, last: r.lastOffset });
      }
      return { log, copy: crashCopy(), spans };
    }
    function lastLogFile(at: string): string {
      return path.join(at, readdirSync(at).filter((f) => f.endsWith('.log')).sort().at(-1)!);
    }
    function checkValidPrefix(at: string, expectEnd: number, spans: { base: number; last: number }[]): PartitionLog {
      const log = openAt(at, { ...SMALL, segmentBytes: 3000 });
      expect(log.loadReport.cleanShutdown).toBe(false);
      expect(log.logEndOffset).toBe(expectEnd);
      log.updateHighWatermark(log.logEndOffset);
      const all = log.read(0, 1 << 24, log.highWatermark, false);
      expect(batchSpans(all.records).map((s) => [s.baseOffset, s.lastOffset])).toEqual(
        spans.filter((s) => s.last < expectEnd).map((s) => [s.base, s.last]),
      );
      // The rebuilt index of the last segment is sound and finds every batch.
      const last = lastLogFile(at);
      const idx = new OffsetIndex(last.replace(/\.log$/, '.index'), Number(path.basename(last).slice(0, 20)), 1 << 20, () => {});
      expect(idx.problem(statSync(last).size)).toBeNull();
      idx.release();
      for (const s of spans.filter((x) => x.last < expectEnd)) expect(log.read(s.last, 1, log.highWatermark, true).firstOffset).toBe(s.base);
      // And the log goes on from the cut.
      expect(log.appendAsLeader(makeBatch({ timestampMs: clock.nowMs }), 0).baseOffset).toBe(expectEnd);
      return log;
    }

    it('keeps a log that crashed with intact files', () => {
      const { copy, spans } = fillAndCrash();
      const log = checkValidPrefix(copy, spans.at(-1)!.last + 1, spans);
      expect(log.loadReport.bytesTruncated).toBe(0);
      expect(log.loadReport.segmentsRecovered).toBeGreaterThan(0);
    });

    it('cuts a batch torn in the middle', () => {
      const { copy, spans } = fillAndCrash();
      const file = lastLogFile(copy);
      truncateSync(file, statSync(file).size - 7);
      const log = checkValidPrefix(copy, spans.at(-1)!.base, spans);
      expect(log.loadReport.bytesTruncated).toBeGreaterThan(0);
    });

    it('cuts garbage after the last batch', () => {
      const { copy, spans } = fillAndCrash();
      appendFileSync(lastLogFile(copy), Buffer.from('\x00\x00\x00\x00\x00\x00\x00\x63garbage that is not a batch'));
      const log = checkValidPrefix(copy, spans.at(-1)!.last + 1, spans);
      expect(log.loadReport.bytesTruncated).toBe(35);
    });

    it('cuts the last batch when one of its bytes flipped', () => {
      const { copy, spans } = fillAndCrash();
      const file = lastLogFile(copy);
      const bytes = readFileSync(file);
      bytes[bytes.length - 2]! ^= 0x10;
      writeFileSync(file, bytes);
      checkValidPrefix(copy, spans.at(-1)!.base, spans);
    });

    it('recovers from the recovery point only, and deletes segments after a corrupt one', async () => {
      const log = open({ segmentBytes: 1000 });
      for (let i = 0; i < 20; i++) produce(log, { valueBytes: 150 });
      const bases = log.segmentBaseOffsets();
      expect(bases.length).toBeGreaterThan(4);
      await log.flushesSettled();
      const copy = crashCopy();
      // Each roll fsynced the rolled segment and moved the recovery point to the active segment's
      // base, so only the active segment is re-checked.
      const again = openAt(copy, { segmentBytes: 1000 });
      expect(again.loadReport.segmentsRecovered).toBe(1);
      closeLog(again);
      // Pretend nothing was ever flushed: every segment is re-checked; corrupt the third.
      const copy2 = crashCopy();
      unlinkSync(path.join(copy2, 'recovery-point'));
      const third = path.join(copy2, `${String(bases[2]).padStart(20, '0')}.log`);
      const bytes = readFileSync(third);
      bytes[bytes.length - 5]! ^= 1;
      writeFileSync(third, bytes);
      const cut = openAt(copy2, { segmentBytes: 1000 });
      expect(cut.loadReport.segmentsRecovered).toBe(3);
      expect(cut.loadReport.segmentsDeleted).toBe(bases.length - 3);
      expect(cut.segmentBaseOffsets()).toEqual(bases.slice(0, 3));
    });

    it('rebuilds a deleted index file on a clean open', () => {
      const log = open(SMALL);
      for (let i = 0; i < 30; i++) produce(log, { valueBytes: 80 });
      const base = log.segmentBaseOffsets()[1]!;
      const endBefore = log.logEndOffset;
      closeLog(log);
      const indexFile = path.join(dir, `${String(base).padStart(20, '0')}.index`);
      const before = readFileSync(indexFile);
      expect(before.length).toBeGreaterThan(0);
      unlinkSync(indexFile);
      const logger = capturingLogger();
      const again = open(SMALL, { logger });
      expect(again.loadReport).toMatchObject({ cleanShutdown: true, indexesRebuilt: 1, segmentsRecovered: 1, bytesTruncated: 0 });
      expect(readFileSync(indexFile).equals(before)).toBe(true);
      expect(again.logEndOffset).toBe(endBefore);
      expect(logger.lines.some((l) => l.level === 'warn' && /load checks/.test(l.msg))).toBe(true);
    });

    it('performs no recovery scan after a clean close', () => {
      const log = open(SMALL);
      for (let i = 0; i < 30; i++) produce(log, { valueBytes: 80 });
      closeLog(log);
      expect(existsSync(path.join(dir, 'clean-shutdown'))).toBe(true);
      const logger = capturingLogger();
      const again = open(SMALL, { logger });
      expect(again.loadReport).toMatchObject({ cleanShutdown: true, segmentsRecovered: 0, bytesTruncated: 0, indexesRebuilt: 0 });
      expect(logger.lines.filter((l) => /recover/.test(l.msg))).toEqual([]);
      expect(logger.lines.some((l) => l.msg === 'partition log loaded')).toBe(true);
      // The marker is gone once loaded: a crash from here on is unclean.
      expect(existsSync(path.join(dir, 'clean-shutdown'))).toBe(false);
    });

    it('recovers when the last segment disagrees with the clean-shutdown marker', () => {
      const log = open(SMALL);
      for (let i = 0; i < 10; i++) produce(log, { valueBytes: 80 });
      closeLog(log);
      const last = lastLogFile(dir);
      truncateSync(last, statSync(last).size - 3);
      const again = open(SMALL);
      expect(again.loadReport.cleanShutdown).toBe(false);
      expect(again.loadReport.bytesTruncated).toBeGreaterThan(0);
      expect(again.logEndOffset).toBe(9);
    });

    it('keeps the high watermark and log start across a clean close', () => {
      const log = open(SMALL);
      for (let i = 0; i < 30; i++) produce(log, { valueBytes: 80 });
      log.updateHighWatermark(25);
      log.deleteRecordsBefore(12);
      closeLog(log);
      const again = open(SMALL);
      expect([again.logStartOffset, again.highWatermark, again.logEndOffset]).toEqual([12, 25, 30]);
    });
  });

  describe('deletion', () => {
    it('deleteRecordsBefore moves and persists the log start and deletes whole segments below it', () => {
      const log = open({ segmentBytes: 1000 });
      for (let i = 0; i < 20; i++) produce(log, { valueBytes: 150 });
      const bases = log.segmentBaseOffsets();
      const target = bases[3]! + 1;
      expect(log.deleteRecordsBefore(target)).toBe(target);
      expect(log.logStartOffset).toBe(target);
      expect(log.segmentBaseOffsets()).toEqual(bases.slice(3));
      expect(errorOf(() => log.read(target - 1, 100, log.highWatermark, true)).code).toBe('OFFSET_OUT_OF_RANGE');
      // The first readable batch holds the log start (and may begin below it).
      expect(log.read(target, 100, log.highWatermark, true).firstOffset).toBeLessThanOrEqual(target);
      expect(log.deleteRecordsBefore(2)).toBe(target);
      log.updateHighWatermark(15);
      expect(errorOf(() => log.deleteRecordsBefore(16)).code).toBe('OFFSET_OUT_OF_RANGE');
      // Crash right after: the checkpointed log start holds.
      const again = openAt(crashCopy(), { segmentBytes: 1000 });
      expect(again.logStartOffset).toBe(target);
    });

    it('retention.bytes keeps the newest segments that fit, never the active one', () => {
      const log = open({ segmentBytes: 1000, retentionBytes: 2500 });
      for (let i = 0; i < 30; i++) produce(log, { valueBytes: 150 });
      const sizes = log.segmentBaseOffsets().map((b) => statSync(path.join(dir, `${String(b).padStart(20, '0')}.log`)).size);
      const total = sizes.reduce((a, b) => a + b, 0);
      // Kafka's rule: drop oldest segments while what remains stays at or above the limit.
      let excess = total - 2500;
      let expected = 0;
      while (expected < sizes.length - 1 && excess - sizes[expected]! >= 0) excess -= sizes[expected++]!;
      expect(expected).toBeGreaterThan(0);
      expect(expected).toBeLessThan(sizes.length - 1);
      const bases = log.segmentBaseOffsets();
      expect(log.deleteSegmentsByRetention()).toBe(expected);
      expect(log.segmentBaseOffsets()).toEqual(bases.slice(expected));
      expect(log.logStartOffset).toBe(bases[expected]);
      expect(log.leaderEpochs()[0]?.startOffset).toBe(bases[expected]);
      expect(existsSync(path.join(dir, `${String(bases[0]).padStart(20, '0')}.log`))).toBe(false);
    });

    it('retention.bytes 0 deletes every closed segment but keeps the active one', () => {
      const log = open({ segmentBytes: 1000, retentionBytes: 0 });
      for (let i = 0; i < 12; i++) produce(log, { valueBytes: 150 });
      const bases = log.segmentBaseOffsets();
      expect(log.deleteSegmentsByRetention()).toBe(bases.length - 1);
      expect(log.segmentBaseOffsets()).toEqual([bases.at(-1)]);
      expect(log.sizeBytes()).toBeGreaterThan(0);
      expect(log.deleteSegmentsByRetention()).toBe(0);
    });

    it('retention.ms deletes segments whose newest record is too old, stopping at the first young one', () => {
      const log = open({ segmentBytes: 1000, retentionMs: 10_000 });
      for (let i = 0; i < 24; i++) {
        produce(log, { valueBytes: 150 });
        clock.advance(1000);
      }
      const segs = log.segmentBaseOffsets();
      // Newest timestamp of each closed segment is the timestamp of the batch before the next base.
      const startMs = clock.nowMs - 24_000;
      const newest = segs.slice(1).map((b) => startMs + (b - 1) * 1000);
      let expected = 0;
      while (expected < newest.length && clock.nowMs - newest[expected]! > 10_000) expected++;
      expect(expected).toBeGreaterThan(0);
      expect(log.deleteSegmentsByRetention()).toBe(expected);
      expect(log.segmentBaseOffsets()).toEqual(segs.slice(expected));
      clock.advance(1_000_000);
      const closed = log.segmentCount() - 1;
      expect(log.deleteSegmentsByRetention()).toBe(closed);
      expect(log.segmentCount()).toBe(1);
      expect(log.segmentBaseOffsets()[0]).toBe(segs.at(-1));
    });

    it('never deletes data at or above the high watermark', () => {
      const log = open({ segmentBytes: 1000, retentionMs: 0 });
      for (let i = 0; i < 20; i++) log.appendAsLeader(makeBatch({ valueBytes: 150, timestampMs: clock.nowMs }), 0);
      const bases = log.segmentBaseOffsets();
      clock.advance(10_000);
      log.updateHighWatermark(bases[2]!);
      expect(log.deleteSegmentsByRetention()).toBe(2);
      expect(log.segmentBaseOffsets()).toEqual(bases.slice(2));
    });

    it('delete() removes the directory', () => {
      const log = open();
      produce(log);
      opened.splice(opened.indexOf(log), 1);
      log.delete();
      expect(existsSync(dir)).toBe(false);
    });
  });

  describe('timestamps and epochs', () => {
    it('finds offsets by timestamp across segments (vs brute force) and the max timestamp', () => {
      const log = open(SMALL);
      const recs: { offset: number; ts: number }[] = [];
      const jitter = fc.sample(fc.integer({ min: -300, max: 1000 }), 80);
      for (let i = 0; i < 80; i++) {
        const ts = clock.nowMs + jitter[i]!;
        const r = log.appendAsLeader(makeBatch({ timestampMs: ts, valueBytes: 50 }), 0);
        recs.push({ offset: r.baseOffset, ts });
        clock.advance(100);
      }
      log.updateHighWatermark(log.logEndOffset);
      const lo = Math.min(...recs.map((r) => r.ts));
      const hi = Math.max(...recs.map((r) => r.ts));
      for (const target of [lo - 1, hi, hi + 1, ...fc.sample(fc.integer({ min: lo, max: hi }), 100)]) {
        const expected = recs.find((r) => r.ts >= target) ?? null;
        const got = log.offsetForTimestamp(target);
        expect(got === null ? null : { offset: got.offset, ts: got.timestamp }).toEqual(expected);
      }
      const max = recs.find((r) => r.ts === hi)!;
      expect(log.maxTimestampOffset()).toEqual({ offset: max.offset, timestamp: hi, leaderEpoch: 0 });
    });

    it('records leader epochs and answers OffsetForLeaderEpoch', () => {
      const log = open(SMALL);
      for (let i = 0; i < 5; i++) produce(log, {}, 0);
      for (let i = 0; i < 5; i++) produce(log, {}, 2);
      for (let i = 0; i < 5; i++) produce(log, {}, 5);
      expect(log.leaderEpochs()).toEqual([
        { epoch: 0, startOffset: 0 },
        { epoch: 2, startOffset: 5 },
        { epoch: 5, startOffset: 10 },
      ]);
      expect(log.endOffsetForEpoch(5)).toEqual({ leaderEpoch: 5, endOffset: 15 });
      expect(log.endOffsetForEpoch(3)).toEqual({ leaderEpoch: 2, endOffset: 10 });
      expect(log.endOffsetForEpoch(0)).toEqual({ leaderEpoch: 0, endOffset: 5 });
      expect(log.endOffsetForEpoch(9)).toEqual({ leaderEpoch: -1, endOffset: -1 });
      expect(() => log.appendAsLeader(makeBatch(), 4)).toThrow(/below/);
      // After a crash that loses the checkpoint, the epochs come back from the batches.
      const copy = crashCopy();
      writeFileSync(path.join(copy, 'leader-epoch-checkpoint'), 'garbage');
      const again = openAt(copy, SMALL);
      expect(again.leaderEpochs()).toEqual(log.leaderEpochs());
    });
  });

  describe('flushing and failures', () => {
    it('leaves flushing to the OS by default and fsyncs per flush.messages when set', () => {
      const fsyncs: string[] = [];
      const faults = (p: FaultPoint, detail: string) => {
        if (p === 'flush') fsyncs.push(detail);
      };
      const lazy = open({}, { faults });
      for (let i = 0; i < 5; i++) produce(lazy);
      expect(fsyncs).toEqual([]);
      expect(lazy.recoveryPoint).toBe(0);
      closeLog(lazy);
      fsyncs.length = 0;
      dir = path.join(tmp.dir, 'eager-0');
      const eager = open({ flushMessages: 2 }, { faults });
      produce(eager);
      expect(fsyncs).toEqual([]);
      produce(eager);
      expect(fsyncs.filter((f) => f.endsWith('.log'))).toHaveLength(1);
      expect(eager.recoveryPoint).toBe(2);
    });

    it('flushes per flush.ms on the injected clock', () => {
      const log = open({ flushMs: 5000 });
      produce(log);
      expect(log.recoveryPoint).toBe(0);
      expect(log.flushIfDue()).toBe(false);
      clock.advance(5000);
      expect(log.flushIfDue()).toBe(true);
      expect(log.recoveryPoint).toBe(1);
      expect(Number(readFileSync(path.join(dir, 'recovery-point'), 'utf8').split('\n')[2])).toBe(1);
    });

    it('goes offline with KAFKA_STORAGE_ERROR when a write fails, and reopening recovers', () => {
      let fail = false;
      const log = open(SMALL, {
        faults: (p) => {
          if (fail && p === 'append') throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
        },
      });
      for (let i = 0; i < 5; i++) produce(log);
      fail = true;
      const err = errorOf(() => produce(log));
      expect(err).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', errorCode: 56 });
      expect((err.cause as Error).message).toMatch(/EIO/);
      fail = false;
      expect(errorOf(() => produce(log)).code).toBe('KAFKA_STORAGE_ERROR');
      expect(errorOf(() => log.read(0, 100, 5, true)).code).toBe('KAFKA_STORAGE_ERROR');
      closeLog(log);
      expect(existsSync(path.join(dir, 'clean-shutdown'))).toBe(false);
      const again = open(SMALL);
      expect(again.logEndOffset).toBe(5);
      expect(produce(again).baseOffset).toBe(5);
    });

    it('a failed roll fsync takes the log offline too, once the background flush reports it', async () => {
      let fail = false;
      const log = open({ segmentBytes: 1000 }, {
        faults: (p) => {
          if (fail && p === 'flush') throw new Error('fsync failed');
        },
      });
      produce(log, { valueBytes: 600 });
      fail = true;
      // The roll itself succeeds; its fsync runs in the background and fails there.
      produce(log, { valueBytes: 600 });
      await log.flushesSettled();
      expect(log.recoveryPoint).toBe(0);
      expect(errorOf(() => produce(log)).code).toBe('KAFKA_STORAGE_ERROR');
    });

    it('writes appended data back in the background every WRITEBACK_BYTES, without moving the recovery point, and closes cleanly while one runs', async () => {
      const writebacks: string[] = [];
      const log = open({}, { faults: (p, detail) => void (p === 'writeback' && writebacks.push(detail)) });
      const batchBytes = 256 * 1024;
      const batches = Math.ceil((2 * WRITEBACK_BYTES) / batchBytes) + 1;
      for (let i = 0; i < batches; i++) produce(log, { valueBytes: batchBytes });
      // One at a time per segment: a second starts only if the first has ended by then.
      expect(writebacks.length).toBeGreaterThanOrEqual(1);
      expect(writebacks.length).toBeLessThanOrEqual(2);
      expect(writebacks.every((f) => f.endsWith('00000000000000000000.log'))).toBe(true);
      expect(log.recoveryPoint).toBe(0);
      // Closed at once, with a writeback likely still on the thread pool: the file closes after it.
      closeLog(log);
      await new Promise((r) => setTimeout(r, 50));
      const again = open();
      expect(again.logEndOffset).toBe(batches);
      expect(again.read(0, 1 << 30, again.highWatermark, true).records.length).toBeGreaterThan(batches * batchBytes);
    });

    it('a failed background writeback fails the next append with KAFKA_STORAGE_ERROR and takes the log offline', () => {
      let failed = 0;
      let offline: unknown = null;
      const log = open({}, {
        faults: (p) => {
          if (p === 'writeback') {
            failed++;
            throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
          }
        },
        onFailure: (cause) => (offline = cause),
      });
      const batchBytes = 512 * 1024;
      let appended = 0;
      while (failed === 0 && appended < (4 * WRITEBACK_BYTES) / batchBytes) {
        produce(log, { valueBytes: batchBytes });
        appended++;
      }
      expect(failed).toBe(1);
      expect(offline).toBeNull();
      // The append that started the failed writeback was acknowledged; the next one is refused.
      const err = errorOf(() => produce(log));
      expect(err).toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
      expect((err.cause as Error).message).toMatch(/fdatasync/);
      expect(offline).not.toBeNull();
      expect(log.logEndOffset).toBe(appended);
      closeLog(log);
      const again = open();
      expect(again.logEndOffset).toBe(appended);
    });

    it('a failure between the log-start checkpoint and a segment deletion leaves a log that reopens consistent', () => {
      let fail = false;
      const log = open({ segmentBytes: 1000, retentionBytes: 0 }, {
        faults: (p) => {
          if (fail && p === 'delete') throw new Error('unlink failed');
        },
      });
      for (let i = 0; i < 12; i++) produce(log, { valueBytes: 150 });
      const bases = log.segmentBaseOffsets();
      fail = true;
      expect(errorOf(() => log.deleteSegmentsByRetention()).code).toBe('KAFKA_STORAGE_ERROR');
      closeLog(log);
      const again = open({ segmentBytes: 1000, retentionBytes: 0 });
      // The new log start was persisted before any file went; the files are all still there.
      expect(again.logStartOffset).toBe(bases.at(-1));
      expect(again.segmentBaseOffsets()).toEqual(bases);
      expect(again.deleteSegmentsByRetention()).toBe(bases.length - 1);
      expect(again.read(again.logStartOffset, 1 << 20, again.highWatermark, true).firstOffset).toBe(bases.at(-1));
    });

    it('a failure at roll takes the log offline; reopening keeps every acknowledged batch', () => {
      let fail = false;
      const log = open({ segmentBytes: 1000 }, {
        faults: (p) => {
          if (fail && p === 'roll') throw new Error('roll failed');
        },
      });
      for (let i = 0; i < 5; i++) produce(log, { valueBytes: 150 });
      fail = true;
      // Appends succeed until one needs a roll.
      let failure: LogError | null = null;
      let end = log.logEndOffset;
      for (let i = 0; i < 10 && failure === null; i++) {
        try {
          produce(log, { valueBytes: 150 });
          end = log.logEndOffset;
        } catch (e) {
          failure = e as LogError;
        }
      }
      expect(failure).toMatchObject({ code: 'KAFKA_STORAGE_ERROR' });
      closeLog(log);
      const again = open({ segmentBytes: 1000 });
      expect(again.logEndOffset).toBe(end);
      expect(again.loadReport.cleanShutdown).toBe(false);
    });

    it('reports a stored batch that fails its CRC on read without taking the log offline', () => {
      const log = open();
      for (let i = 0; i < 3; i++) produce(log, { valueBytes: 100 });
      const file = path.join(dir, '00000000000000000000.log');
      const bytes = readFileSync(file);
      const second = batchSpans(bytes)[1]!;
      bytes[bytes.length - second.size - 10]! ^= 1;
      writeFileSync(file, bytes);
      expect(errorOf(() => log.read(1, 1000, log.highWatermark, true)).code).toBe('KAFKA_STORAGE_ERROR');
      expect(log.read(2, 1000, log.highWatermark, true).firstOffset).toBe(2);
      // The fetch path leaves the check to the client, which gets the stored bytes as they are.
      const unchecked = log.read(1, 1000, log.highWatermark, true, false);
      expect(unchecked.firstOffset).toBe(1);
      // Every batch here has the same size, so the second starts at second.size.
      const firstSize = second.size;
      expect(unchecked.records.equals(bytes.subarray(firstSize, firstSize + unchecked.bytes))).toBe(true);
    });
  });
});

describe('updateConfig', () => {
  it('applies a new segment size and message limit to the open log at once', () => {
    const { dir, cleanup } = makeTempDir();
    try {
      const log = PartitionLog.open({ dir, config: testConfig() });
      for (let i = 0; i < 5; i++) log.appendAsLeader(makeBatch({ valueBytes: 500 }), 0);
      expect(log.segmentCount()).toBe(1);
      log.updateConfig(testConfig({ segmentBytes: 1024 * 1024, maxMessageBytes: 400 }));
      expect(() => log.appendAsLeader(makeBatch({ valueBytes: 500 }), 0)).toThrow(LogError);
      log.updateConfig(testConfig({ segmentBytes: 1024 * 1024 }));
      // The active segment already holds ~2.7 KB; a 1 MiB limit lets it grow until it passes it.
      for (let i = 0; i < 2100; i++) log.appendAsLeader(makeBatch({ valueBytes: 500 }), 0);
      expect(log.segmentCount()).toBeGreaterThan(1);
      expect(() => log.updateConfig(testConfig({ segmentBytes: -1 }))).toThrow();
      log.close();
    } finally {
      cleanup();
    }
  });
});

describe('a full disk', () => {
  it('refuses the append that hit ENOSPC with KAFKA_STORAGE_ERROR, stays online and readable, and takes the next one where it would have gone', () => {
    let full = false;
    const log = open({}, {
      faults: (point) => {
        if (point === 'append' && full) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
    });
    produce(log, { count: 3 });
    full = true;
    const e = errorOf(() => produce(log, { count: 2 }));
    expect(e.code).toBe('KAFKA_STORAGE_ERROR');
    expect(e.message).toMatch(/disk is full \(ENOSPC\)/);
    expect(log.logEndOffset).toBe(3);
    expect(log.read(0, 1 << 20, log.highWatermark, true).bytes).toBeGreaterThan(0);
    full = false;
    expect(produce(log, { count: 2 }).baseOffset).toBe(3);
    expect(batchSpans(log.read(0, 1 << 20, log.highWatermark, true).records).map((b) => [b.baseOffset, b.lastOffset])).toEqual([
      [0, 2],
      [3, 4],
    ]);
  });

  it('refuses an append the disk-space check says would not fit, before writing anything', () => {
    let free = 10_000;
    const log = open({}, {
      diskSpace: {
        check: (bytes) => {
          if (bytes > free) throw new LogError('KAFKA_STORAGE_ERROR', 'no room');
          free -= bytes;
        },
      },
    });
    produce(log, { count: 1, valueBytes: 100 });
    expect(errorOf(() => produce(log, { count: 1, valueBytes: 20_000 })).code).toBe('KAFKA_STORAGE_ERROR');
    expect(log.logEndOffset).toBe(1);
    expect(produce(log, { count: 1, valueBytes: 100 }).baseOffset).toBe(1);
  });
});
