// Validation of a produce partition's records before the leader appends them, in the order Kafka
// applies its checks (UnifiedLog.analyzeAndValidateRecords, then LogValidator), and the in-place
// timestamp rewrite that follows. Nothing here writes to disk or changes the input; a batch that
// fails leaves the whole append rejected with the Kafka error of its first failure.
import assert from 'node:assert/strict';
import {
  BatchAttribute,
  BatchField,
  CompressionCodec,
  CorruptRecordError,
  DecompressionLimitError,
  RECORD_BATCH_MAGIC,
  TimestampType,
  UnsupportedCompressionError,
  crc32c,
  isSupportedCodec,
  iterateBatches,
  readRecords,
  recompressBatch,
  verifyBatchCrc,
  type RecordBatch,
} from '../protocol/records/index.js';
import { LogError } from './errors.js';
import { decompressedBatchBytesMax, timestampOf, type CompressionType, type LogConfig } from './types.js';

export interface ValidatedBatch {
  batch: RecordBatch;
  recordCount: number;
  /** The max timestamp to store: now under LogAppendTime, else the largest record timestamp. */
  maxTimestamp: number;
  /** Whether attributes and maxTimestamp must be rewritten (and the CRC recomputed). */
  rewrite: boolean;
}

function invalid(message: string): LogError {
  return new LogError('INVALID_RECORD', message);
}

/**
 * Checks every batch of `records` as a leader must before assigning offsets: whole batches of magic
 * 2, base offset 0 (as clients send), size within max.message.bytes, a valid CRC, a record count
 * matching the offset range, no control batches, a sequence for idempotent batches, a supported codec,
 * well-formed records with offset deltas 0..n-1, and timestamps within the configured bounds.
 */
export function validateLeaderAppend(records: Buffer, config: LogConfig, nowMs: number): ValidatedBatch[] {
  if (records.length === 0) throw invalid('the produce request has no record batches for this partition');
  const batches: RecordBatch[] = [];
  const it = iterateBatches(records, { verifyCrc: false });
  for (;;) {
    const at = it.position;
    // Checked here, before the iterator's own magic check, so an old message format is INVALID_RECORD
    // (as Kafka answers produce v3+ carrying it) rather than CORRUPT_MESSAGE.
    if (records.length - at > BatchField.Magic && records.readInt8(at + BatchField.Magic) !== RECORD_BATCH_MAGIC) {
      throw invalid(`record batch at byte ${at} has magic ${records.readInt8(at + BatchField.Magic)}; only magic 2 is accepted`);
    }
    let next: IteratorResult<RecordBatch, undefined>;
    try {
      next = it.next();
    } catch (e) {
      if (e instanceof CorruptRecordError) throw new LogError('CORRUPT_MESSAGE', e.message, { cause: e });
      throw e;
    }
    if (next.done === true) break;
    const b = next.value;
    if (b.header.baseOffset !== 0n) {
      throw invalid(`record batch at byte ${b.position} has base offset ${b.header.baseOffset}; a producer sends 0`);
    }
    if (b.header.size > config.maxMessageBytes) {
      throw new LogError(
        'MESSAGE_TOO_LARGE',
        `record batch at byte ${b.position} is ${b.header.size} bytes, more than max.message.bytes ${config.maxMessageBytes}`,
      );
    }
    try {
      verifyBatchCrc(b.bytes);
    } catch (e) {
      if (e instanceof CorruptRecordError) throw new LogError('CORRUPT_MESSAGE', e.message, { cause: e });
      throw e;
    }
    batches.push(b);
  }
  if (it.partial !== null) {
    const p = it.partial;
    throw new LogError(
      'CORRUPT_MESSAGE',
      `incomplete record batch at byte ${p.position}: ${p.availableBytes} bytes of ${p.declaredBytes ?? 'an unknown number'}`,
    );
  }
  return batches.map((b) => validateBatch(b, config, nowMs));
}

function validateBatch(b: RecordBatch, config: LogConfig, nowMs: number): ValidatedBatch {
  const h = b.header;
  const where = `record batch at byte ${b.position}`;
  const countFromOffsets = h.lastOffsetDelta + 1;
  if (countFromOffsets <= 0) throw invalid(`${where} has lastOffsetDelta ${h.lastOffsetDelta}`);
  if (h.recordCount <= 0) throw invalid(`${where} has record count ${h.recordCount}`);
  if (h.recordCount !== countFromOffsets) {
    throw invalid(`${where} has ${h.recordCount} records but lastOffsetDelta ${h.lastOffsetDelta}`);
  }
  if (h.isControl) throw invalid(`${where} is a control batch; clients may not write control records`);
  if (h.producerId >= 0n && h.baseSequence < 0) throw invalid(`${where} has producer id ${h.producerId} but sequence ${h.baseSequence}`);
  if (!isSupportedCodec(h.compression)) {
    throw new LogError('UNSUPPORTED_COMPRESSION_TYPE', `${where} uses compression id ${h.compression}`);
  }
  // Kafka refuses this under LogAppendTime and silently clears it under CreateTime; no client sets
  // it, so Strata refuses it in both cases rather than guess at the sender's intent.
  if (h.timestampType !== TimestampType.CreateTime) {
    throw new LogError('INVALID_TIMESTAMP', `${where} has the LogAppendTime attribute set; producers must not set it`);
  }

  let records;
  try {
    records = readRecords(b, { maxDecompressedBytes: decompressedBatchBytesMax(config) });
  } catch (e) {
    if (e instanceof CorruptRecordError) throw new LogError('CORRUPT_MESSAGE', `${where}: ${e.message}`, { cause: e });
    if (e instanceof UnsupportedCompressionError) throw new LogError('UNSUPPORTED_COMPRESSION_TYPE', e.message, { cause: e });
    // Too large once decompressed: the client can split the batch, which MESSAGE_TOO_LARGE asks for.
    if (e instanceof DecompressionLimitError) throw new LogError('MESSAGE_TOO_LARGE', `${where}: ${e.message}`, { cause: e });
    throw e;
  }

  const createTime = config.messageTimestampType === 'CreateTime';
  let maxTimestamp = Number.MIN_SAFE_INTEGER;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.offsetDelta !== i) throw invalid(`${where}: record ${i} has offset delta ${r.offsetDelta}`);
    // Compaction keeps the latest record per key, so a record without one could never be kept.
    if (r.key === null && config.cleanupPolicy.compact) throw invalid(`${where}: record ${i} has no key; a compacted topic cannot accept records without a key`);
    if (!createTime) continue;
    let ts: number;
    try {
      ts = timestampOf(h.baseTimestamp + r.timestampDelta, 'record timestamp');
    } catch {
      throw new LogError('INVALID_TIMESTAMP', `${where}: record ${i} has timestamp ${h.baseTimestamp + r.timestampDelta}`);
    }
    // -1 is "no timestamp", which Kafka lets through unchecked.
    if (ts !== -1 && (nowMs - ts > config.messageTimestampBeforeMaxMs || ts - nowMs > config.messageTimestampAfterMaxMs)) {
      throw new LogError(
        'INVALID_TIMESTAMP',
        `${where}: record ${i} has timestamp ${ts}, outside [${nowMs - config.messageTimestampBeforeMaxMs}, ${nowMs + config.messageTimestampAfterMaxMs}]`,
      );
    }
    if (ts > maxTimestamp) maxTimestamp = ts;
  }
  if (!createTime) return { batch: b, recordCount: h.recordCount, maxTimestamp: nowMs, rewrite: true };
  // Kafka stores the true largest record timestamp, rewriting a batch whose header says otherwise.
  const stored = timestampOf(h.maxTimestamp, 'batch max timestamp');
  return { batch: b, recordCount: h.recordCount, maxTimestamp, rewrite: stored !== maxTimestamp };
}

/**
 * Rewrites maxTimestamp and the timestamp-type attribute of a validated batch in place and
 * recomputes its CRC (which covers attributes onward). Compression bits are untouched.
 */
export function rewriteTimestamps(v: ValidatedBatch, logAppendTime: boolean): void {
  const buf = v.batch.bytes;
  let attributes = buf.readInt16BE(BatchField.Attributes);
  attributes = logAppendTime ? attributes | BatchAttribute.LogAppendTime : attributes & ~BatchAttribute.LogAppendTime;
  buf.writeInt16BE(attributes, BatchField.Attributes);
  buf.writeBigInt64BE(BigInt(v.maxTimestamp), BatchField.MaxTimestamp);
  buf.writeUInt32BE(crc32c(buf.subarray(BatchField.Attributes)), BatchField.Crc);
}

const TARGET_CODEC: Readonly<Record<Exclude<CompressionType, 'producer'>, CompressionCodec>> = {
  uncompressed: CompressionCodec.None,
  gzip: CompressionCodec.Gzip,
  snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4,
  zstd: CompressionCodec.Zstd,
};

/**
 * Under a compression.type other than `producer`, the validated batches re-encoded with that codec
 * (those already using it stay as they are, as in Kafka), laid out in a new buffer; otherwise the
 * input unchanged. Offsets, sequences, producer ids and timestamps are kept (recompressBatch). The
 * result is checked against max.message.bytes again, as Kafka does after recompressing, since a
 * batch can grow (a compressed producer batch stored uncompressed, for one).
 *
 * The records were decompressed once already by validation; doing it again here keeps validation
 * free of codec output it would have to hold. Recompression is the uncommon configuration.
 */
export function recompressForTopic(records: Buffer, validated: ValidatedBatch[], config: LogConfig): { records: Buffer; validated: ValidatedBatch[] } {
  if (config.compressionType === 'producer') return { records, validated };
  const opts = {
    codec: TARGET_CODEC[config.compressionType],
    levels: { gzip: config.compressionGzipLevel, zstd: config.compressionZstdLevel },
    maxDecompressedBytes: decompressedBatchBytesMax(config),
  };
  const parts: Buffer[] = [];
  let changed = false;
  for (const v of validated) {
    const re = recompressBatch(v.batch, opts);
    if (re !== null) {
      changed = true;
      if (re.length > config.maxMessageBytes) {
        throw new LogError(
          'MESSAGE_TOO_LARGE',
          `record batch at byte ${v.batch.position} is ${re.length} bytes once recompressed as ${config.compressionType}, more than max.message.bytes ${config.maxMessageBytes}`,
        );
      }
    }
    parts.push(re ?? v.batch.bytes);
  }
  if (!changed) return { records, validated };
  const out = Buffer.concat(parts);
  const it = iterateBatches(out, { verifyCrc: false });
  const relaid = validated.map((v) => {
    const next = it.next();
    assert.ok(next.done !== true, 'recompressed batches cover the validated ones');
    return { ...v, batch: next.value };
  });
  return { records: out, validated: relaid };
}
