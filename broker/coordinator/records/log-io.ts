// Moving coordinator records in and out of a __consumer_offsets partition log: build the record
// batch to append (as Kafka's coordinator writes it: magic 2, no producer id, CreateTime stamped
// with the coordinator's clock, compressed with offsets.topic.compression.codec), and walk what a
// log read returns to replay it at load time.
//
// The log is reached through `CoordinatorLogSource`, the three members of PartitionLog that loading
// needs, so this folder does not import broker/log/.

import assert from 'node:assert/strict';
import { CompressionCodec, buildBatch, iterateBatches, readRecords } from '../../protocol/records/index.js';
import { CoordinatorRecordError, decodeRecord } from './codec.js';
import type { CoordinatorRecord } from './types.js';

export interface CoordinatorBatchOptions {
  /** The CreateTime of every record: the coordinator's clock when it wrote them. */
  timestampMs: number;
  /** A CompressionCodec id (offsets.topic.compression.codec); none by default, as in Kafka. */
  compression?: number;
}

/**
 * One record batch holding `records` in order, ready for PartitionLog.appendAsLeader (which assigns
 * the offsets). A change that writes several records (a group and its offsets deleted together)
 * goes in one batch so that it is appended, and replayed, all or nothing.
 */
export function buildCoordinatorBatch(records: readonly { key: Buffer; value: Buffer | null }[], opts: CoordinatorBatchOptions): Buffer {
  assert.ok(records.length > 0, 'a coordinator batch needs at least one record');
  assert.ok(Number.isSafeInteger(opts.timestampMs), `timestamp ${opts.timestampMs} ms`);
  const timestamp = BigInt(opts.timestampMs);
  return buildBatch({
    compression: opts.compression ?? CompressionCodec.None,
    baseTimestamp: timestamp,
    records: records.map((r) => ({ key: r.key, value: r.value, timestamp })),
  });
}

/** One record as stored in the log, not yet decoded. */
export interface LoggedRecord {
  offset: number;
  timestampMs: number;
  key: Buffer;
  /** Null for a tombstone. */
  value: Buffer | null;
}

export interface ScanOptions {
  /** Upper bound on one decompressed batch (see decompressedBatchBytesMax in broker/log). */
  maxDecompressedBytes: number;
  /** Records below this offset are skipped (a read starts at the batch holding the fetch offset). */
  fromOffset?: number;
}

export interface Scan {
  records: LoggedRecord[];
  /** The offset after the last batch seen; where the next read starts. */
  nextOffset: number;
  /** Transactional data batches skipped: Strata writes none to __consumer_offsets until it has
   *  transactions (TxnOffsetCommit), whose markers would then decide whether they apply. */
  transactionalBatchesSkipped: number;
}

/**
 * The records of the whole batches in `blob` (as PartitionLog.read returns them). Control batches
 * are skipped; a record without a key is an error, since every coordinator record has one.
 */
export function scanCoordinatorRecords(blob: Buffer, opts: ScanOptions): Scan {
  const from = opts.fromOffset ?? 0;
  const records: LoggedRecord[] = [];
  let nextOffset = from;
  let transactionalBatchesSkipped = 0;
  for (const batch of iterateBatches(blob, { verifyCrc: false })) {
    const h = batch.header;
    nextOffset = Number(h.baseOffset) + h.lastOffsetDelta + 1;
    if (h.isControl) continue;
    if (h.isTransactional) {
      transactionalBatchesSkipped++;
      continue;
    }
    for (const rec of readRecords(batch, { maxDecompressedBytes: opts.maxDecompressedBytes })) {
      const offset = Number(rec.offset);
      if (offset < from) continue;
      if (rec.key === null) throw new CoordinatorRecordError(`__consumer_offsets record at offset ${offset} has no key`);
      records.push({ offset, timestampMs: Number(rec.timestamp), key: rec.key, value: rec.value });
    }
  }
  return { records, nextOffset, transactionalBatchesSkipped };
}

/** What loading needs of a partition log; PartitionLog has it. */
export interface CoordinatorLogSource {
  readonly logStartOffset: number;
  readonly highWatermark: number;
  read(fetchOffset: number, maxBytes: number, maxOffsetExclusive: number, minOneBatch: boolean): { records: Buffer };
}

export interface LoadOptions {
  /** Bytes read per step; the loader yields to the event loop between steps. */
  chunkBytes: number;
  maxDecompressedBytes: number;
  /** Awaited between steps so that loading one partition never holds up requests for others.
   *  Defaults to setImmediate; tests pass their own. */
  yieldBetweenChunks?: () => Promise<void>;
  /** Aborted when the partition stops being ours mid-load; loading then stops where it is. */
  signal?: AbortSignal;
}

export interface LoadSummary {
  /** Records replayed (known types). */
  records: number;
  /** Records of types Strata does not hold (share or streams groups), skipped as Kafka's loader does. */
  unknownRecords: number;
  transactionalBatchesSkipped: number;
  /** The offset loading reached: the high watermark unless aborted. */
  endOffset: number;
  aborted: boolean;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Replays a __consumer_offsets partition from its log start to its high watermark, in chunks, handing
 * each decoded record to `apply` in log order (the latest record of a key wins, a tombstone deletes:
 * that is `apply`'s job). Throws CoordinatorRecordError on a record that does not decode.
 */
export async function loadCoordinatorLog(
  log: CoordinatorLogSource,
  apply: (record: CoordinatorRecord, offset: number) => void,
  opts: LoadOptions,
): Promise<LoadSummary> {
  assert.ok(Number.isSafeInteger(opts.chunkBytes) && opts.chunkBytes > 0, `chunkBytes ${opts.chunkBytes}`);
  const pause = opts.yieldBetweenChunks ?? yieldToEventLoop;
  const end = log.highWatermark;
  let offset = log.logStartOffset;
  const summary: LoadSummary = { records: 0, unknownRecords: 0, transactionalBatchesSkipped: 0, endOffset: offset, aborted: false };
  while (offset < end) {
    if (opts.signal?.aborted === true) {
      summary.aborted = true;
      break;
    }
    // minOneBatch: a batch larger than a chunk is still read whole.
    const { records } = log.read(offset, opts.chunkBytes, end, true);
    const scan = scanCoordinatorRecords(records, { maxDecompressedBytes: opts.maxDecompressedBytes, fromOffset: offset });
    // The log returns whole batches below the high watermark, so each read moves forward.
    assert.ok(scan.nextOffset > offset, `reading __consumer_offsets at ${offset} below ${end} made no progress`);
    for (const r of scan.records) {
      const decoded = decodeRecord(r.key, r.value);
      if (decoded.type === 'unknown') summary.unknownRecords++;
      else {
        apply(decoded, r.offset);
        summary.records++;
      }
    }
    summary.transactionalBatchesSkipped += scan.transactionalBatchesSkipped;
    offset = scan.nextOffset;
    summary.endOffset = offset;
    if (offset < end) await pause();
  }
  return summary;
}
