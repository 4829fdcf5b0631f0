import { afterEach, describe, expect, it } from 'vitest';
import { PartitionLog } from '../../log/index.js';
import { makeTempDir, testConfig } from '../../log/testing.js';
import { Uuid } from '../../protocol/primitives.js';
import { CompressionCodec, buildBatch, iterateBatches, readRecords, setBaseOffset } from '../../protocol/records/index.js';
import { CoordinatorRecordError, encodeRecord } from './codec.js';
import { buildCoordinatorBatch, loadCoordinatorLog, scanCoordinatorRecords } from './log-io.js';
import type { CoordinatorRecord } from './types.js';

const T0 = 1_700_000_000_000;
const MAX_DECOMPRESSED_BYTES = 1 << 20;

function commit(groupId: string, partition: number, offset: bigint): CoordinatorRecord {
  return {
    type: 'offset-commit',
    key: { groupId, topic: 'orders', partition },
    value: { offset, leaderEpoch: -1, metadata: '', commitTimestampMs: BigInt(T0), expireTimestampMs: -1n, topicId: Uuid.ZERO },
  };
}
const tombstone = (groupId: string, partition: number): CoordinatorRecord => ({
  type: 'offset-commit',
  key: { groupId, topic: 'orders', partition },
  value: null,
});

describe('buildCoordinatorBatch', () => {
  it('holds the records in order with their bytes, a CreateTime of the given clock and no producer', () => {
    const recs = [commit('g', 0, 5n), tombstone('g', 1)].map(encodeRecord);
    const batch = buildCoordinatorBatch(recs, { timestampMs: T0 + 7 });
    const [rb] = [...iterateBatches(batch, { verifyCrc: true })];
    expect(rb!.header).toMatchObject({ producerId: -1n, isTransactional: false, isControl: false, compression: CompressionCodec.None, recordCount: 2 });
    const out = readRecords(rb!, { maxDecompressedBytes: MAX_DECOMPRESSED_BYTES });
    expect(out.map((r) => [r.key, r.value, r.timestamp])).toEqual([
      [recs[0]!.key, recs[0]!.value, BigInt(T0 + 7)],
      [recs[1]!.key, null, BigInt(T0 + 7)],
    ]);
  });

  it('compresses with the configured codec', () => {
    const batch = buildCoordinatorBatch([encodeRecord(commit('g', 0, 1n))], { timestampMs: T0, compression: CompressionCodec.Zstd });
    expect([...iterateBatches(batch)][0]!.header.compression).toBe(CompressionCodec.Zstd);
    const scan = scanCoordinatorRecords(batch, { maxDecompressedBytes: MAX_DECOMPRESSED_BYTES });
    expect(scan.records).toHaveLength(1);
  });
});

describe('scanCoordinatorRecords', () => {
  it('skips control batches and (until transactions exist) transactional ones, and records below the start', () => {
    const a = buildCoordinatorBatch([commit('g', 0, 1n), commit('g', 1, 2n)].map(encodeRecord), { timestampMs: T0 });
    const control = buildBatch({ baseOffset: 2n, isControl: true, isTransactional: true, producerId: 9n, producerEpoch: 0, records: [{ key: Buffer.from([0, 0, 0, 0]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }] });
    const txn = buildBatch({ baseOffset: 3n, isTransactional: true, producerId: 9n, producerEpoch: 0, baseSequence: 0, records: [encodeRecord(commit('g', 2, 3n))] });
    const b = buildCoordinatorBatch([encodeRecord(commit('g', 3, 4n))], { timestampMs: T0 });
    setBaseOffset(b, 4n);
    const scan = scanCoordinatorRecords(Buffer.concat([a, control, txn, b]), { maxDecompressedBytes: MAX_DECOMPRESSED_BYTES, fromOffset: 1 });
    expect(scan.records.map((r) => r.offset)).toEqual([1, 4]);
    expect(scan.nextOffset).toBe(5);
    expect(scan.transactionalBatchesSkipped).toBe(1);
  });

  it('refuses a record without a key', () => {
    const batch = buildBatch({ records: [{ key: null, value: Buffer.from('x') }] });
    expect(() => scanCoordinatorRecords(batch, { maxDecompressedBytes: MAX_DECOMPRESSED_BYTES })).toThrow(CoordinatorRecordError);
  });
});

describe('loadCoordinatorLog over a partition log', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  function openLog(): PartitionLog {
    const tmp = makeTempDir('strata-coord-');
    const log = PartitionLog.open({ dir: `${tmp.dir}/__consumer_offsets-0`, config: testConfig(), nowMs: () => T0 });
    cleanups.push(() => {
      log.close();
      tmp.cleanup();
    });
    return log;
  }

  function append(log: PartitionLog, records: CoordinatorRecord[], opts: { raw?: { key: Buffer; value: Buffer | null }[] } = {}): void {
    log.appendAsLeader(buildCoordinatorBatch(opts.raw ?? records.map(encodeRecord), { timestampMs: T0 }), 0);
  }

  it('replays every record up to the high watermark in log order, a chunk at a time', async () => {
    const log = openLog();
    append(log, [commit('g', 0, 1n), commit('g', 1, 1n)]);
    append(log, [commit('g', 0, 2n), tombstone('g', 1)]);
    // A share-group record (type 11), which Strata does not hold: counted and skipped.
    append(log, [], { raw: [{ key: Buffer.from('000b00026767', 'hex'), value: Buffer.from('0000', 'hex') }] });
    append(log, [commit('h', 0, 9n)]);
    log.updateHighWatermark(log.logEndOffset);
    // Past the high watermark: not committed, not loaded.
    append(log, [commit('late', 0, 1n)]);

    const applied: [number, CoordinatorRecord][] = [];
    let pauses = 0;
    const summary = await loadCoordinatorLog(log, (r, offset) => applied.push([offset, r]), {
      chunkBytes: 1, // one batch per step (minOneBatch)
      maxDecompressedBytes: MAX_DECOMPRESSED_BYTES,
      yieldBetweenChunks: async () => {
        pauses++;
      },
    });
    expect(applied).toEqual([
      [0, commit('g', 0, 1n)],
      [1, commit('g', 1, 1n)],
      [2, commit('g', 0, 2n)],
      [3, tombstone('g', 1)],
      [5, commit('h', 0, 9n)],
    ]);
    expect(summary).toEqual({ records: 5, unknownRecords: 1, transactionalBatchesSkipped: 0, endOffset: 6, aborted: false });
    expect(pauses).toBe(3);
  });

  it('stops where it is when aborted between chunks', async () => {
    const log = openLog();
    for (let i = 0; i < 4; i++) append(log, [commit('g', i, 1n)]);
    log.updateHighWatermark(log.logEndOffset);
    const abort = new AbortController();
    const seen: number[] = [];
    const summary = await loadCoordinatorLog(log, (_r, offset) => seen.push(offset), {
      chunkBytes: 1,
      maxDecompressedBytes: MAX_DECOMPRESSED_BYTES,
      signal: abort.signal,
      yieldBetweenChunks: async () => abort.abort(),
    });
    expect(seen).toEqual([0]);
    expect(summary).toMatchObject({ aborted: true, endOffset: 1 });
  });

  it('loads an empty log without reading', async () => {
    const log = openLog();
    const summary = await loadCoordinatorLog(log, () => expect.fail('nothing to apply'), { chunkBytes: 1024, maxDecompressedBytes: MAX_DECOMPRESSED_BYTES });
    expect(summary).toEqual({ records: 0, unknownRecords: 0, transactionalBatchesSkipped: 0, endOffset: 0, aborted: false });
  });
});
