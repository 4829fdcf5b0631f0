// Log compaction's pure parts: which offsets a pass may clean, the key → latest-offset map, and the
// rewrite of one batch. PartitionLog.compact() does the file work with these.
//
// The rules, as Kafka's log cleaner applies them:
//   - Only closed segments below the high watermark are cleaned, and not those holding a record
//     younger than min.compaction.lag.ms. The active segment never is.
//   - The "dirty" part is everything from the cleaner checkpoint (where the last pass ended) to that
//     bound. A log is cleaned when dirty bytes are at least min.cleanable.dirty.ratio of the
//     cleanable log, or when its oldest dirty data is older than max.compaction.lag.ms.
//   - A pass maps each key in the dirty part to its last offset, then rewrites every segment up to the
//     bound, keeping a record only if no later record in the dirty part has its key. Offsets never
//     change: a rewritten batch keeps its base offset, last offset delta and producer fields, so
//     consumers see gaps, never renumbering.
//   - A tombstone (null value) is dropped once its batch is older than delete.retention.ms, so a
//     consumer reading from the start within that time still sees the delete.
//   - Records without a key are dropped (a compacted topic refuses them on produce).
//   - Control batches (transaction markers) are kept as they are.
//   - A batch from an idempotent producer whose records all go is kept, emptied, if it is that
//     producer's last batch, so its sequence state survives a reload (Kafka keeps it the same way).
import { createHash } from 'node:crypto';
import { buildBatch, readRecords, type DecodedRecord, type RecordBatch } from '../protocol/records/index.js';
import { TimestampType } from '../protocol/records/index.js';

/** What the planner needs to know about one closed segment. */
export interface SegmentSummary {
  baseOffset: number;
  /** One past its last offset. */
  nextOffset: number;
  sizeBytes: number;
  /** Largest record timestamp, -1 if none. */
  maxTimestamp: number;
}

export interface CleaningPlanInput {
  /** Closed segments, oldest first (the active one excluded). */
  segments: readonly SegmentSummary[];
  logStartOffset: number;
  highWatermark: number;
  /** Where the last pass ended (the cleaner checkpoint), 0 if never. */
  firstDirtyOffset: number;
  nowMs: number;
  minCleanableDirtyRatio: number;
  minCompactionLagMs: number;
  maxCompactionLagMs: number;
}

export interface CleaningPlan {
  firstDirtyOffset: number;
  /** Exclusive: the pass cleans offsets below this; always a segment boundary. */
  cleanableEndOffset: number;
  dirtyBytes: number;
  cleanBytes: number;
  dirtyRatio: number;
  /** Why the pass runs, or null when it should not. */
  reason: string | null;
}

/** Decides whether a partition needs a pass, and over which offsets. */
export function planCleaning(p: CleaningPlanInput): CleaningPlan {
  const firstDirty = Math.max(p.firstDirtyOffset, p.logStartOffset);
  // The bound: the first segment that reaches the high watermark, or holds a record too young.
  let end = p.segments[0]?.baseOffset ?? firstDirty;
  for (const s of p.segments) {
    if (s.nextOffset > p.highWatermark) break;
    if (p.minCompactionLagMs > 0 && s.maxTimestamp >= 0 && p.nowMs - s.maxTimestamp < p.minCompactionLagMs) break;
    end = s.nextOffset;
  }
  let dirtyBytes = 0;
  let cleanBytes = 0;
  let oldestDirtyMs = Number.POSITIVE_INFINITY;
  for (const s of p.segments) {
    if (s.nextOffset > end) break;
    if (s.baseOffset >= firstDirty) {
      dirtyBytes += s.sizeBytes;
      if (s.maxTimestamp >= 0) oldestDirtyMs = Math.min(oldestDirtyMs, s.maxTimestamp);
    } else cleanBytes += s.sizeBytes;
  }
  const total = dirtyBytes + cleanBytes;
  const dirtyRatio = total === 0 ? 0 : dirtyBytes / total;
  let reason: string | null = null;
  if (end > firstDirty && dirtyBytes > 0) {
    if (dirtyRatio >= p.minCleanableDirtyRatio) reason = `dirty ratio ${dirtyRatio.toFixed(2)} >= min.cleanable.dirty.ratio ${p.minCleanableDirtyRatio}`;
    else if (p.nowMs - oldestDirtyMs > p.maxCompactionLagMs) reason = `uncompacted data older than max.compaction.lag.ms ${p.maxCompactionLagMs}`;
  }
  return { firstDirtyOffset: firstDirty, cleanableEndOffset: end, dirtyBytes, cleanBytes, dirtyRatio, reason };
}

/**
 * Keys to their latest offset in the dirty part. Keys are held as 16-byte digests, as Kafka's
 * SkimpyOffsetMap does, so memory per entry is bounded whatever the key size; `maxEntries` comes
 * from log.cleaner.dedupe.buffer.size.
 */
export class OffsetMap {
  readonly #map = new Map<string, number>();
  constructor(readonly maxEntries: number) {}

  static keyOf(key: Uint8Array): string {
    return createHash('md5').update(key).digest().toString('latin1');
  }

  get size(): number {
    return this.#map.size;
  }

  get full(): boolean {
    return this.#map.size >= this.maxEntries;
  }

  put(key: Uint8Array, offset: number): void {
    this.#map.set(OffsetMap.keyOf(key), offset);
  }

  /** Merges another map (a segment's) into this one; later offsets win. */
  merge(other: OffsetMap): void {
    for (const [k, v] of other.#map) {
      const mine = this.#map.get(k);
      if (mine === undefined || v > mine) this.#map.set(k, v);
    }
  }

  /** Entries `other` would add. */
  newKeys(other: OffsetMap): number {
    let n = 0;
    for (const k of other.#map.keys()) if (!this.#map.has(k)) n++;
    return n;
  }

  latest(key: Uint8Array): number | undefined {
    return this.#map.get(OffsetMap.keyOf(key));
  }
}

export interface BatchFilterContext {
  map: OffsetMap;
  nowMs: number;
  deleteRetentionMs: number;
  maxDecompressedBytes: number;
  /** Whether this batch is the last one its producer has in the log (kept, emptied, if all goes). */
  isLastBatchOfProducer: (producerId: bigint, lastOffset: number) => boolean;
}

export interface FilteredBatch {
  /** The batch to write, or null to drop it. `unchanged` means these are the original bytes. */
  bytes: Buffer | null;
  unchanged: boolean;
  recordsRemoved: number;
}

/** Applies the retention rules of a pass to one stored batch. */
export function filterBatch(b: RecordBatch, ctx: BatchFilterContext): FilteredBatch {
  const h = b.header;
  if (h.isControl) return { bytes: b.bytes, unchanged: true, recordsRemoved: 0 };
  const records = readRecords(b, { maxDecompressedBytes: ctx.maxDecompressedBytes });
  const tombstonesExpired = Number(h.maxTimestamp) >= 0 && ctx.nowMs - Number(h.maxTimestamp) > ctx.deleteRetentionMs;
  const kept: DecodedRecord[] = [];
  for (const r of records) {
    if (r.key === null) continue;
    const latest = ctx.map.latest(r.key);
    if (latest !== undefined && Number(r.offset) < latest) continue;
    if (r.value === null && tombstonesExpired) continue;
    kept.push(r);
  }
  const removed = records.length - kept.length;
  if (removed === 0) return { bytes: b.bytes, unchanged: true, recordsRemoved: 0 };
  const lastOffset = Number(h.baseOffset) + h.lastOffsetDelta;
  if (kept.length === 0 && !(h.producerId >= 0n && ctx.isLastBatchOfProducer(h.producerId, lastOffset))) {
    return { bytes: null, unchanged: false, recordsRemoved: removed };
  }
  // As Kafka rebuilds a batch: its max timestamp is that of the records kept (under LogAppendTime the
  // broker's stamp, the same for all). An emptied batch keeps its header's.
  const logAppendTime = h.timestampType === TimestampType.LogAppendTime;
  let maxTimestamp = h.maxTimestamp;
  if (!logAppendTime && kept.length > 0) {
    maxTimestamp = kept[0]!.timestamp;
    for (const r of kept) if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
  }
  const bytes = buildBatch({
    baseOffset: h.baseOffset,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    compression: h.compression,
    timestampType: logAppendTime ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    isTransactional: h.isTransactional,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    baseTimestamp: h.baseTimestamp,
    maxTimestamp,
    // The last offset stays, so the producer's sequence range and the next offset are unchanged.
    lastOffsetDelta: h.lastOffsetDelta,
    records: kept.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers.map((x) => ({ key: x.key, value: x.value })),
      timestamp: h.baseTimestamp + r.timestampDelta,
      offsetDelta: r.offsetDelta,
    })),
  });
  return { bytes, unchanged: false, recordsRemoved: removed };
}
