// Compaction of one partition log, with a test clock: the pass plan (dirty ratio, lags, the active
// segment and the high watermark), what a pass keeps (latest per key at its original offset,
// tombstones until delete.retention.ms, idempotent producers' last batches), crash safety of the
// segment swap at each of its steps, and the bound on the key map.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildBatch, iterateBatches, readRecords } from '../protocol/records/index.js';
import { planCleaning } from './cleaner.js';
import { PartitionLog, type CompactOptions } from './partition-log.js';
import { TestClock, makeTempDir, testConfig } from './testing.js';
import type { FaultPoint, LogConfig } from './types.js';

let tmp: ReturnType<typeof makeTempDir>;
let dir: string;
let clock: TestClock;
const opened: PartitionLog[] = [];

beforeEach(() => {
  tmp = makeTempDir();
  dir = path.join(tmp.dir, 'compacted-0');
  clock = new TestClock();
});
afterEach(() => {
  for (const log of opened.splice(0)) {
    try {
      log.close();
    } catch {
      // a test may have crashed it on purpose
    }
  }
  tmp.cleanup();
});

const COMPACT: Partial<LogConfig> = { cleanupPolicy: { delete: false, compact: true }, segmentBytes: 600, minCleanableDirtyRatio: 0.01 };
const pace: CompactOptions['pace'] = async () => {};

function open(config: Partial<LogConfig> = {}, faults?: (p: FaultPoint, d: string) => void): PartitionLog {
  const log = PartitionLog.open({ dir, config: testConfig({ ...COMPACT, ...config }), nowMs: clock.fn, ...(faults ? { faults } : {}) });
  opened.push(log);
  return log;
}

/** Appends one record per [key, value] pair, one batch each; value null is a tombstone. */
function put(log: PartitionLog, pairs: [string, string | null][], producer?: { id: bigint; seq: number }): void {
  for (const [k, v] of pairs) {
    const batch = buildBatch({
      baseTimestamp: BigInt(clock.nowMs),
      ...(producer ? { producerId: producer.id, producerEpoch: 0, baseSequence: producer.seq++ } : {}),
      records: [{ key: Buffer.from(k), value: v === null ? null : Buffer.from(v.padEnd(40, '.')) }],
    });
    log.appendAsLeader(batch, 0);
    log.updateHighWatermark(log.logEndOffset);
  }
}

/** Every record in the log: offset, key, value (trimmed), as a consumer from the start sees them. */
function contents(log: PartitionLog): [number, string, string | null][] {
  const out: [number, string, string | null][] = [];
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const r = log.read(offset, 1 << 20, log.highWatermark, true);
    if (r.bytes === 0) break;
    for (const b of iterateBatches(r.records)) {
      for (const rec of readRecords(b, { maxDecompressedBytes: 1 << 20 })) {
        if (Number(rec.offset) < offset) continue;
        out.push([Number(rec.offset), rec.key!.toString(), rec.value === null ? null : rec.value.toString().replace(/\.+$/, '')]);
      }
      offset = Number(b.header.baseOffset) + b.header.lastOffsetDelta + 1;
    }
  }
  return out;
}

/** Many versions of a few keys: a..e, 12 rounds, so several closed segments. */
function fill(log: PartitionLog, rounds = 12): void {
  for (let i = 0; i < rounds; i++) put(log, ['a', 'b', 'c', 'd', 'e'].map((k) => [k, `${k}${i}`]));
}

describe('compaction', () => {
  it('keeps exactly the latest value per key at its original offset, beyond the active segment untouched', async () => {
    const log = open();
    fill(log);
    const before = contents(log);
    const activeBase = log.segmentBaseOffsets().at(-1)!;
    const r = await log.compact({ maxMapEntries: 1000, pace });
    expect(r).not.toBeNull();
    expect(r!.endOffset).toBe(activeBase);
    const after = contents(log);
    // Below the cleaned end: one record per key, the last one written before it.
    const cleaned = after.filter(([o]) => o < activeBase);
    const latestBelow = new Map<string, [number, string, string | null]>();
    for (const rec of before) if (rec[0] < activeBase) latestBelow.set(rec[1], rec);
    // The key map covers the closed segments only (as in Kafka), so each key keeps its latest record
    // below the active segment even when the active segment has a newer one.
    expect(cleaned).toEqual([...latestBelow.values()].sort((x, y) => x[0] - y[0]));
    // The active segment's records are all still there, at their offsets.
    expect(after.filter(([o]) => o >= activeBase)).toEqual(before.filter(([o]) => o >= activeBase));
    expect(log.logEndOffset).toBe(60);
    expect(log.firstDirtyOffset).toBe(activeBase);
    // Nothing left to do until more is written.
    expect(await log.compact({ maxMapEntries: 1000, pace })).toBeNull();
  });

  it('survives a reopen with the same contents, indexes rebuilt and lookups working', async () => {
    const log = open();
    fill(log);
    await log.compact({ maxMapEntries: 1000, pace });
    const after = contents(log);
    log.close();
    opened.splice(opened.indexOf(log), 1);
    const again = open();
    expect(contents(again)).toEqual(after);
    expect(again.loadReport.cleanShutdown).toBe(true);
    // Reading from an offset that compaction removed starts at the next record kept.
    expect(after[0]![0]).toBeGreaterThan(again.logStartOffset);
    const r = again.read(again.logStartOffset, 1 << 20, again.highWatermark, true);
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.firstOffset).toBe(after[0]![0]);
  });

  it('keeps tombstones until delete.retention.ms has passed, then drops them', async () => {
    const log = open({ deleteRetentionMs: 60_000 });
    fill(log, 6);
    put(log, [['a', null]]);
    fill(log, 6);
    put(log, [['b', null]]);
    // The tombstone for b is in the active segment or near it; roll past both with more data.
    for (let i = 0; i < 6; i++) put(log, [[`z${i}`, 'filler']]);
    await log.compact({ maxMapEntries: 1000, pace, force: true });
    const tombstones = () => contents(log).filter(([, , v]) => v === null).map(([, k]) => k);
    expect(tombstones()).toContain('b');
    clock.advance(61_000);
    // A pass runs on a log with something new to clean.
    for (let i = 0; i < 12; i++) put(log, [[`y${i}`, 'more filler']]);
    expect(await log.compact({ maxMapEntries: 1000, pace })).not.toBeNull();
    const left = contents(log);
    // b's tombstone is older than delete.retention.ms now, and it superseded every earlier b.
    const activeBase = log.segmentBaseOffsets().at(-1)!;
    expect(left.filter(([o, k]) => o < activeBase && k === 'b')).toEqual([]);
  });

  it('never cleans the active segment or above the high watermark, and waits for min.compaction.lag.ms', () => {
    const segs = [
      { baseOffset: 0, nextOffset: 10, sizeBytes: 100, maxTimestamp: 1_000 },
      { baseOffset: 10, nextOffset: 20, sizeBytes: 100, maxTimestamp: 2_000 },
      { baseOffset: 20, nextOffset: 30, sizeBytes: 100, maxTimestamp: 3_000 },
    ];
    const base = { segments: segs, logStartOffset: 0, highWatermark: 30, firstDirtyOffset: 0, nowMs: 10_000, minCleanableDirtyRatio: 0.5, minCompactionLagMs: 0, maxCompactionLagMs: Number.MAX_SAFE_INTEGER };
    expect(planCleaning(base)).toMatchObject({ cleanableEndOffset: 30, dirtyRatio: 1 });
    expect(planCleaning({ ...base, highWatermark: 25 }).cleanableEndOffset).toBe(20);
    expect(planCleaning({ ...base, minCompactionLagMs: 8_500 }).cleanableEndOffset).toBe(10);
    // Two thirds clean: below a ratio of 0.5 nothing is due, unless data waited past max.compaction.lag.ms.
    expect(planCleaning({ ...base, firstDirtyOffset: 20 }).reason).toBeNull();
    expect(planCleaning({ ...base, firstDirtyOffset: 20, maxCompactionLagMs: 5_000 }).reason).toMatch(/max.compaction.lag.ms/);
    expect(planCleaning({ ...base, firstDirtyOffset: 20, minCleanableDirtyRatio: 0.3 }).reason).toMatch(/dirty ratio 0.33/);
  });

  it("keeps an idempotent producer's last batch, emptied, so its sequence state survives a reopen", async () => {
    const log = open();
    const producer = { id: 7n, seq: 0 };
    put(log, [['p', 'first']], producer);
    fill(log);
    put(log, [['p', 'second']], producer);
    for (let i = 0; i < 12; i++) put(log, [[`q${i}`, 'x']]);
    await log.compact({ maxMapEntries: 1000, pace, force: true });
    expect(contents(log).filter(([, k]) => k === 'p').map(([, , v]) => v)).toEqual(['second']);
    log.close();
    opened.splice(opened.indexOf(log), 1);
    const again = open();
    // The next sequence is accepted; a replay of the last one is a duplicate, not a gap.
    const next = buildBatch({ producerId: 7n, producerEpoch: 0, baseSequence: 2, baseTimestamp: BigInt(clock.nowMs), records: [{ key: Buffer.from('p'), value: Buffer.from('third') }] });
    expect(again.appendAsLeader(next, 0).duplicate).toBe(false);
  });

  it('leaves a log that loads without repair after a crash at each step of the swap', async () => {
    for (const step of ['written', 'renamed', 'deleted']) {
      tmp.cleanup();
      tmp = makeTempDir();
      dir = path.join(tmp.dir, 'compacted-0');
      const log = open();
      fill(log);
      const before = contents(log);
      const crash = (p: FaultPoint, d: string) => {
        if (p === 'clean' && d.endsWith(step)) throw new Error(`crash at ${step}`);
      };
      log.close();
      opened.splice(opened.indexOf(log), 1);
      const faulty = open({}, crash);
      await expect(faulty.compact({ maxMapEntries: 1000, pace, force: true })).rejects.toThrow();
      // "Crash": drop the object without a clean close, then load from the files.
      opened.splice(opened.indexOf(faulty), 1);
      const reopened = open();
      const seen = contents(reopened);
      // Either the old first segment or its compacted form: the latest value per key is there either
      // way, and every record that was not superseded is still at its offset.
      const byKey = new Map<string, string | null>();
      for (const [, k, v] of before) byKey.set(k, v);
      const lastSeen = new Map<string, string | null>();
      for (const [, k, v] of seen) lastSeen.set(k, v);
      expect(lastSeen).toEqual(byKey);
      for (const rec of seen) expect(before).toContainEqual(rec);
      expect(readdirSync(dir).filter((f) => f.endsWith('.cleaned') || f.endsWith('.swap'))).toEqual([]);
      expect(existsSync(path.join(dir, `${'0'.padStart(20, '0')}.log`))).toBe(true);
    }
  });

  it('cleans in several passes when the key map is smaller than the dirty keys', async () => {
    const log = open();
    for (let i = 0; i < 60; i++) put(log, [[`key-${i}`, `v${i}`], [`key-${i}`, `w${i}`]]);
    const first = await log.compact({ maxMapEntries: 8, pace, force: true });
    expect(first).not.toBeNull();
    expect(first!.endOffset).toBeLessThan(log.segmentBaseOffsets().at(-1)!);
    let passes = 1;
    while ((await log.compact({ maxMapEntries: 8, pace, force: true })) !== null) passes++;
    expect(passes).toBeGreaterThan(1);
    const activeBase = log.segmentBaseOffsets().at(-1)!;
    const all = contents(log);
    // Every key whose second value lies below the active segment has only that value left.
    const seconds = new Set(all.filter(([o, , v]) => o < activeBase && v!.startsWith('w')).map(([, k]) => k));
    expect(seconds.size).toBeGreaterThan(40);
    for (const [, k, v] of all) if (seconds.has(k)) expect(v).toMatch(/^w/);
  });

  it('does nothing for a topic whose cleanup.policy is delete', async () => {
    const log = open({ cleanupPolicy: { delete: true, compact: false } });
    fill(log);
    expect(await log.compact({ maxMapEntries: 1000, pace, force: true })).toBeNull();
  });

  it('refuses records without a key on a compacted topic', () => {
    const log = open();
    const keyless = buildBatch({ baseTimestamp: BigInt(clock.nowMs), records: [{ key: null, value: Buffer.from('v') }] });
    expect(() => log.appendAsLeader(keyless, 0)).toThrow(/compacted topic cannot accept records without a key/);
  });
});
