// Shared types of the partition log: its configuration, its results, and how offsets travel.
//
// Offsets inside the log are JS numbers, exact up to 2^53 - 1 (a partition appending a million
// records a second takes 285 years to get there). Batch headers carry them as bigint; `offsetOf`
// converts once, at the edge, and refuses anything that would round. Timestamps are milliseconds
// since the epoch, also numbers.

declare const offsetBrand: unique symbol;
/** A partition offset: a safe, non-negative integer. */
export type Offset = number & { readonly [offsetBrand]: true };

/** Checked conversion of a batch-header offset (bigint) to an Offset. */
export function offsetOf(value: bigint, what: string): Offset {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${what} ${value} is outside the offsets Strata can represent (0 .. 2^53-1)`);
  }
  return Number(value) as Offset;
}

/** Checked conversion of a batch-header timestamp (bigint, ms) to a number. */
export function timestampOf(value: bigint, what: string): number {
  if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${what} ${value} is outside the exact range of a number`);
  }
  return Number(value);
}

/** Kafka's "no timestamp" (-1) and "no epoch" (-1). */
export const NO_TIMESTAMP = -1;
export const NO_EPOCH = -1;

/** Topic-level log settings, named after Kafka's (segment.bytes → segmentBytes, and so on). */
export interface LogConfig {
  /** segment.bytes: a segment rolls before an append would take it past this size. */
  segmentBytes: number;
  /** segment.ms: a non-empty segment rolls once its data spans this long. */
  segmentMs: number;
  /** segment.jitter.ms: each segment rolls up to this much earlier than segment.ms, by a random
   *  amount drawn when it is created (at most segment.ms - 1), so that segments do not roll together. */
  segmentJitterMs: number;
  /** index.interval.bytes: appended bytes between two index entries. */
  indexIntervalBytes: number;
  /** segment.index.bytes: the largest an index file may grow; a full index rolls the segment. */
  segmentIndexBytes: number;
  /** flush.messages: fsync after this many records (Number.MAX_SAFE_INTEGER = leave it to the OS). */
  flushMessages: number;
  /** flush.ms: fsync when the last fsync is this old (Number.MAX_SAFE_INTEGER = never). */
  flushMs: number;
  /** max.message.bytes: the largest record batch accepted, header included. */
  maxMessageBytes: number;
  /** message.timestamp.type. */
  messageTimestampType: 'CreateTime' | 'LogAppendTime';
  /** message.timestamp.before.max.ms: how far in the past a CreateTime timestamp may be. */
  messageTimestampBeforeMaxMs: number;
  /** message.timestamp.after.max.ms: how far in the future a CreateTime timestamp may be. */
  messageTimestampAfterMaxMs: number;
  /** retention.ms (-1 = unlimited). */
  retentionMs: number;
  /** retention.bytes (-1 = unlimited). */
  retentionBytes: number;
  /** cleanup.policy: whether retention deletes old segments, and whether the cleaner compacts. */
  cleanupPolicy: { delete: boolean; compact: boolean };
  /** delete.retention.ms: how long compaction keeps a tombstone after it is written. */
  deleteRetentionMs: number;
  /** min.cleanable.dirty.ratio: share of the log that must be uncompacted before it is compacted. */
  minCleanableDirtyRatio: number;
  /** min.compaction.lag.ms: a record younger than this is never compacted away. */
  minCompactionLagMs: number;
  /** max.compaction.lag.ms: a log with older uncompacted data is compacted whatever its dirty ratio. */
  maxCompactionLagMs: number;
  /** compression.type: `producer` stores batches as they arrive; any other codec recompresses the
   *  batches that use another one (`uncompressed` means none). */
  compressionType: CompressionType;
  /** compression.gzip.level (-1 = zlib's default) and compression.zstd.level, used when recompressing. */
  compressionGzipLevel: number;
  compressionZstdLevel: number;
  /** file.delete.delay.ms: a segment removed by retention, DeleteRecords or compaction is renamed
   *  to `*.deleted` and its files are removed this much later. */
  fileDeleteDelayMs: number;
  /** min.insync.replicas: checked by the produce path for acks=all (see effectiveMinIsr). */
  minInsyncReplicas: number;
  /**
   * remote.storage.enable, and the broker's remote.log.storage.system.enable: closed segments are
   * uploaded, and a local segment is deleted only once its upload is recorded (markUploadedBelow),
   * by local.retention.* instead of retention.*; the log start offset then stays the whole log's
   * start, below the local one.
   */
  remoteStorageEnable: boolean;
  /** local.retention.ms (-2 = retention.ms, -1 = unlimited). */
  localRetentionMs: number;
  /** local.retention.bytes (-2 = retention.bytes, -1 = unlimited). */
  localRetentionBytes: number;
  /**
   * remote.log.copy.disable with remoteStorageEnable (KIP-950): nothing more is uploaded, and local
   * segments go by retention.* whether uploaded or not (local.retention.* no longer applies).
   */
  remoteLogCopyDisable: boolean;
}

export const COMPRESSION_TYPES = ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionType = (typeof COMPRESSION_TYPES)[number];

/** Kafka's defaults for the same keys. */
export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentJitterMs: 0,
  indexIntervalBytes: 4096,
  segmentIndexBytes: 10 * 1024 * 1024,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  maxMessageBytes: 1024 * 1024 + 12,
  messageTimestampType: 'CreateTime',
  messageTimestampBeforeMaxMs: Number.MAX_SAFE_INTEGER,
  // Kafka 4.0 (KIP-1030) lowered this from "unlimited" to one hour.
  messageTimestampAfterMaxMs: 60 * 60 * 1000,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  cleanupPolicy: Object.freeze({ delete: true, compact: false }),
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_SAFE_INTEGER,
  compressionType: 'producer',
  compressionGzipLevel: -1,
  compressionZstdLevel: 3,
  fileDeleteDelayMs: 60_000,
  minInsyncReplicas: 1,
  remoteStorageEnable: false,
  localRetentionMs: -2,
  localRetentionBytes: -2,
  remoteLogCopyDisable: false,
});

/** File positions are int32 in the index format, so no segment may reach 2 GiB. */
export const SEGMENT_BYTES_MAX = 0x7fff_ffff;
/**
 * Kafka's floor for segment.index.bytes. Below one entry (8 or 12 bytes) an index is always full,
 * which rolls the segment on every append, as it does in Kafka.
 */
export const SEGMENT_INDEX_BYTES_MIN = 4;
/**
 * A compressed batch is decompressed on append to check its records, and on timestamp lookups.
 * Kafka trusts the codec; Strata caps the output, at least at this much and at least a few times the
 * largest batch accepted, so a small batch cannot claim gigabytes.
 */
export const DECOMPRESSED_BATCH_BYTES_FLOOR = 64 * 1024 * 1024;
export function decompressedBatchBytesMax(config: LogConfig): number {
  return Math.max(DECOMPRESSED_BATCH_BYTES_FLOOR, 4 * config.maxMessageBytes);
}

function checkInt(config: LogConfig, key: keyof LogConfig, min: number, max = Number.MAX_SAFE_INTEGER): void {
  const v = config[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new RangeError(`log config ${key}=${String(v)} must be an integer in [${min}, ${max}]`);
  }
}

/** Throws RangeError for a configuration the log cannot run with; called once at open. */
export function validateLogConfig(config: LogConfig): void {
  // A segment must hold at least one batch header; positions must fit the int32 index format.
  checkInt(config, 'segmentBytes', 61, SEGMENT_BYTES_MAX);
  checkInt(config, 'segmentMs', 1);
  checkInt(config, 'indexIntervalBytes', 0);
  checkInt(config, 'segmentIndexBytes', SEGMENT_INDEX_BYTES_MIN, SEGMENT_BYTES_MAX);
  checkInt(config, 'flushMessages', 1);
  checkInt(config, 'flushMs', 0);
  checkInt(config, 'maxMessageBytes', 0, SEGMENT_BYTES_MAX);
  checkInt(config, 'messageTimestampBeforeMaxMs', 0);
  checkInt(config, 'messageTimestampAfterMaxMs', 0);
  checkInt(config, 'retentionMs', -1);
  checkInt(config, 'retentionBytes', -1);
  checkInt(config, 'deleteRetentionMs', 0);
  checkInt(config, 'minCompactionLagMs', 0);
  checkInt(config, 'maxCompactionLagMs', 1);
  checkInt(config, 'segmentJitterMs', 0);
  checkInt(config, 'fileDeleteDelayMs', 0);
  checkInt(config, 'minInsyncReplicas', 1);
  checkInt(config, 'compressionZstdLevel', -131072, 22);
  if (config.compressionGzipLevel !== -1) checkInt(config, 'compressionGzipLevel', 1, 9);
  if (!(COMPRESSION_TYPES as readonly string[]).includes(config.compressionType)) {
    throw new RangeError(`log config compressionType=${String(config.compressionType)} must be one of ${COMPRESSION_TYPES.join(', ')}`);
  }
  checkInt(config, 'localRetentionMs', -2);
  checkInt(config, 'localRetentionBytes', -2);
  if (typeof config.remoteStorageEnable !== 'boolean') throw new RangeError(`log config remoteStorageEnable=${String(config.remoteStorageEnable)} must be a boolean`);
  if (typeof config.remoteLogCopyDisable !== 'boolean') throw new RangeError(`log config remoteLogCopyDisable=${String(config.remoteLogCopyDisable)} must be a boolean`);
  if (!(config.minCleanableDirtyRatio >= 0 && config.minCleanableDirtyRatio <= 1)) {
    throw new RangeError(`log config minCleanableDirtyRatio=${String(config.minCleanableDirtyRatio)} must be in [0, 1]`);
  }
  if (config.messageTimestampType !== 'CreateTime' && config.messageTimestampType !== 'LogAppendTime') {
    throw new RangeError(`log config messageTimestampType=${String(config.messageTimestampType)} must be CreateTime or LogAppendTime`);
  }
}

/** What appendAsLeader reports, as the Produce response needs it. */
export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker time stamped on the batches under LogAppendTime, else -1. */
  logAppendTimeMs: number;
  logStartOffset: number;
  recordCount: number;
  /** The batch repeated one already in the log (an idempotent retry): nothing was written, and the
   *  offsets are those of the original. */
  duplicate: boolean;
}

export interface ReadResult {
  /** Whole batches, as stored. Empty when nothing is readable within the limits. */
  records: Buffer;
  /** Base offset of the first batch returned (it may be below the fetch offset), or the fetch offset
   *  when nothing is returned. */
  firstOffset: number;
  bytes: number;
}

export interface TimestampAndOffset {
  offset: number;
  timestamp: number;
  /** The partition leader epoch stamped on the batch, -1 if none. */
  leaderEpoch: number;
}

export interface EpochEndOffset {
  /** -1 with endOffset -1 when the epoch is unknown (Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET). */
  leaderEpoch: number;
  endOffset: number;
}

/** How the last open went; also how tests see whether recovery ran. */
export interface LoadReport {
  /** A clean-shutdown marker was found and the segments were trusted. */
  cleanShutdown: boolean;
  /** Segments fully re-validated (CRC of every batch) and re-indexed. */
  segmentsRecovered: number;
  /** Bytes cut from torn or corrupt tails. */
  bytesTruncated: number;
  /** Segments deleted because they followed a corrupt one. */
  segmentsDeleted: number;
  /** Index files found broken (or missing) and rebuilt. */
  indexesRebuilt: number;
  /** Offset of the producer snapshot the state was loaded from, -1 if none. */
  producerSnapshotOffset: number;
  /** Batches replayed into the producer state after the snapshot. */
  producerBatchesReplayed: number;
  durationMs: number;
}

export interface LogLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** Named places where tests make the log's file operations fail. */
export type FaultPoint = 'append' | 'index-write' | 'roll' | 'flush' | 'writeback' | 'checkpoint' | 'delete' | 'clean';
/** Called before the operation at `point`; throwing there simulates that operation failing. */
export type FaultInjector = (point: FaultPoint, detail: string) => void;

export const noFaults: FaultInjector = () => {};
export const silentLogger: LogLogger = { info: () => {}, warn: () => {} };
