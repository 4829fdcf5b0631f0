// Reads record batches of one remote segment back from the store, as a Fetch below the local log
// start needs them: the segment's offset index (fetched whole, cached) gives the byte position to
// start from, then 4 MiB aligned chunks of the segment are fetched with ranged GETs (cached) and cut
// to whole batches, as views of the chunk. Every batch returned has its CRC checked, since the bytes crossed a network.
// Read-ahead loads the chunks after a read's end in the background; the timestamp search
// (ListOffsets below the local log start) goes through the uploaded time index the same way.
import { crc32c } from '@node-rs/crc32';
import { readRecords } from '../protocol/records/batch.js';
import type { ChunkCache } from './chunk-cache.js';
import type { ObjectStore } from './object-store.js';
import type { RemoteSegment } from './remote-segments.js';

/** Data is fetched and cached in aligned chunks of this size. 4 MiB rather than 1: a catch-up read
 *  costs a quarter of the GETs (the SDK's per-request work was a large share of the CPU) and of the
 *  disk-tier files, for a larger first GET on a random read. */
export const CHUNK_BYTES = 4 * 1024 * 1024;
/** Record batch v2 header: base offset (8), length (4), epoch (4), magic (1), CRC (4), attributes (2), last offset delta (4), ... */
const BATCH_HEADER_BYTES = 61;
const LENGTH_OFFSET = 8;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const LAST_OFFSET_DELTA_OFFSET = 23;
const MAX_TIMESTAMP_OFFSET = 35;
const PARTITION_LEADER_EPOCH_OFFSET = 12;
/** Offset index entries: relative offset (int32) and position (int32), big-endian, as Kafka's. */
const INDEX_ENTRY_BYTES = 8;
/** Time index entries: timestamp (int64) and relative offset (int32), big-endian, as Kafka's. */
const TIME_INDEX_ENTRY_BYTES = 12;

export class RemoteReadError extends Error {
  override readonly name = 'RemoteReadError';
}

export interface RemoteRead {
  records: Buffer;
  /** Base offset of the first batch, or the fetch offset when none. */
  firstOffset: number;
  bytes: number;
  /** The offset after the last batch returned (the fetch offset when none): a sequential reader's next fetch. */
  nextOffset: number;
  /** The byte position in the segment after the last batch returned. */
  endPosition: number;
}

export interface TimestampAndOffset {
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

/** The offset of the last time index entry whose timestamp is at most `targetMs`, else `baseOffset`. */
export function offsetForTime(timeIndex: Buffer, baseOffset: number, targetMs: number): number {
  const n = Math.floor(timeIndex.length / TIME_INDEX_ENTRY_BYTES);
  let lo = 0;
  let hi = n - 1;
  let found = baseOffset;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const ts = Number(timeIndex.readBigInt64BE(mid * TIME_INDEX_ENTRY_BYTES));
    if (ts <= targetMs) {
      found = baseOffset + timeIndex.readInt32BE(mid * TIME_INDEX_ENTRY_BYTES + 8);
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** The byte position to start reading `offset` from: that of the last index entry at or below it. */
export function positionFor(index: Buffer, baseOffset: number, offset: number): number {
  const n = Math.floor(index.length / INDEX_ENTRY_BYTES);
  let lo = 0;
  let hi = n - 1;
  let pos = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const rel = index.readInt32BE(mid * INDEX_ENTRY_BYTES);
    if (baseOffset + rel <= offset) {
      pos = index.readInt32BE(mid * INDEX_ENTRY_BYTES + 4);
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return pos;
}

export class RemoteSegmentReader {
  constructor(
    private readonly store: ObjectStore,
    private readonly cache: ChunkCache,
  ) {}

  private index(keys: { index: string }): Promise<Buffer> {
    return this.cache.get(keys.index, () => this.store.get(keys.index));
  }

  private chunkLoad(keys: { log: string }, segment: RemoteSegment, i: number): () => Promise<Buffer> {
    const start = i * CHUNK_BYTES;
    const end = Math.min(segment.sizeBytes, start + CHUNK_BYTES) - 1;
    return () => this.store.get(keys.log, { start, endInclusive: end });
  }

  private chunk(keys: { log: string }, segment: RemoteSegment, i: number): Promise<Buffer> {
    return this.cache.get(`${keys.log}#${i}`, this.chunkLoad(keys, segment, i));
  }

  /**
   * Read-ahead after a read that ended at byte `endPosition`: loads the chunk holding it and the
   * `chunks - 1` after it in the background (the cache skips those it holds). Returns true when that
   * reaches the segment's last chunk, so the caller may start on the next segment.
   */
  readAhead(keys: { log: string }, segment: RemoteSegment, endPosition: number, chunks: number): boolean {
    const lastChunk = Math.max(0, Math.ceil(segment.sizeBytes / CHUNK_BYTES) - 1);
    const first = Math.floor(endPosition / CHUNK_BYTES);
    const upTo = Math.min(lastChunk, first + chunks - 1);
    for (let i = first; i <= upTo; i++) this.cache.prefetch(`${keys.log}#${i}`, this.chunkLoad(keys, segment, i));
    return upTo >= lastChunk;
  }

  /** Read-ahead of a segment's start: its offset index and first chunk. */
  readAheadStart(keys: { log: string; index: string }, segment: RemoteSegment): void {
    this.cache.prefetch(keys.index, () => this.store.get(keys.index));
    if (segment.sizeBytes > 0) this.cache.prefetch(`${keys.log}#0`, this.chunkLoad(keys, segment, 0));
  }

  /**
   * ListOffsets by timestamp in one remote segment: the first record at or after `startingOffset`
   * whose timestamp is at least `targetMs`, or null. The uploaded time index gives the offset to
   * start from, the offset index its position; batch headers are scanned from there and the first
   * batch whose max timestamp reaches the target is decoded.
   */
  async findOffsetByTimestamp(
    keys: { log: string; index: string; timeindex: string },
    segment: RemoteSegment,
    targetMs: number,
    startingOffset: number,
    maxDecompressedBytes: number,
  ): Promise<TimestampAndOffset | null> {
    const timeIndex = await this.cache.get(keys.timeindex, () => this.store.get(keys.timeindex));
    const index = await this.index(keys);
    let pos = positionFor(index, segment.baseOffset, Math.max(offsetForTime(timeIndex, segment.baseOffset, targetMs), startingOffset));
    while (pos + BATCH_HEADER_BYTES <= segment.sizeBytes) {
      const head = await this.bytes(keys, segment, pos, BATCH_HEADER_BYTES);
      const size = 12 + head.readInt32BE(LENGTH_OFFSET);
      if (head.readInt8(MAGIC_OFFSET) !== 2 || size < BATCH_HEADER_BYTES || pos + size > segment.sizeBytes) {
        throw new RemoteReadError(`${keys.log}: no valid batch at byte ${pos}`);
      }
      const last = Number(head.readBigInt64BE(0)) + head.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
      if (Number(head.readBigInt64BE(MAX_TIMESTAMP_OFFSET)) >= targetMs && last >= startingOffset) {
        const batch = await this.bytes(keys, segment, pos, size);
        if ((crc32c(batch.subarray(ATTRIBUTES_OFFSET)) >>> 0) !== batch.readUInt32BE(CRC_OFFSET)) {
          throw new RemoteReadError(`${keys.log}: the batch at byte ${pos} fails its CRC`);
        }
        const epoch = batch.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET);
        for (const r of readRecords(batch, { maxDecompressedBytes })) {
          const ts = Number(r.timestamp);
          const offset = Number(r.offset);
          if (ts >= targetMs && offset >= startingOffset) return { offset, timestamp: ts, leaderEpoch: epoch };
        }
      }
      pos += size;
    }
    return null;
  }

  /** Bytes [from, from + length) of the segment, from as many chunks as they span. */
  private async bytes(keys: { log: string }, segment: RemoteSegment, from: number, length: number): Promise<Buffer> {
    const first = Math.floor(from / CHUNK_BYTES);
    const last = Math.floor((from + length - 1) / CHUNK_BYTES);
    const parts: Buffer[] = [];
    for (let i = first; i <= last; i++) {
      const c = await this.chunk(keys, segment, i);
      const cStart = i * CHUNK_BYTES;
      parts.push(c.subarray(Math.max(0, from - cStart), Math.min(c.length, from + length - cStart)));
    }
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (out.length !== length) throw new RemoteReadError(`${keys.log}: read ${out.length} of ${length} bytes at ${from}; the object is shorter than the manifest says`);
    return out;
  }

  /**
   * Whole batches of `segment` from the one holding `fetchOffset`, none ending at or past
   * `maxOffsetExclusive`, within `maxBytes` (the first batch whole even if larger when
   * `minOneBatch`). Reads stop at the segment's end; the next fetch continues in the next segment.
   */
  async read(keys: { log: string; index: string }, segment: RemoteSegment, fetchOffset: number, maxBytes: number, maxOffsetExclusive: number, minOneBatch: boolean): Promise<RemoteRead> {
    const index = await this.index(keys);
    let pos = positionFor(index, segment.baseOffset, fetchOffset);
    // Batches are cut from the chunk in hand without a cache lookup or a copy each: a run of
    // batches inside one chunk becomes one view of it, and a read inside one chunk (the usual case)
    // returns that view. Only a batch or header across a chunk boundary is assembled by bytes().
    const parts: Buffer[] = [];
    let chunk: Buffer | null = null;
    let chunkStart = 0;
    let runStart = -1;
    const endRun = () => {
      if (runStart >= 0) parts.push(chunk!.subarray(runStart - chunkStart, pos - chunkStart));
      runStart = -1;
    };
    const inChunk = (from: number, length: number) => chunk !== null && from >= chunkStart && from + length <= chunkStart + chunk.length;
    let total = 0;
    let firstOffset = fetchOffset;
    let nextOffset = fetchOffset;
    while (pos + BATCH_HEADER_BYTES <= segment.sizeBytes) {
      if (!inChunk(pos, BATCH_HEADER_BYTES)) {
        endRun();
        const i = Math.floor(pos / CHUNK_BYTES);
        chunk = await this.chunk(keys, segment, i);
        chunkStart = i * CHUNK_BYTES;
      }
      const head = inChunk(pos, BATCH_HEADER_BYTES) ? chunk!.subarray(pos - chunkStart, pos - chunkStart + BATCH_HEADER_BYTES) : await this.bytes(keys, segment, pos, BATCH_HEADER_BYTES);
      const base = Number(head.readBigInt64BE(0));
      const size = 12 + head.readInt32BE(LENGTH_OFFSET);
      const last = base + head.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
      if (head.readInt8(MAGIC_OFFSET) !== 2 || size < BATCH_HEADER_BYTES || pos + size > segment.sizeBytes) {
        throw new RemoteReadError(`${keys.log}: no valid batch at byte ${pos}`);
      }
      if (last < fetchOffset) {
        endRun();
        pos += size;
        continue;
      }
      if (last >= maxOffsetExclusive) break;
      if (total + size > maxBytes && !(total === 0 && minOneBatch)) break;
      let batch: Buffer;
      if (inChunk(pos, size)) {
        batch = chunk!.subarray(pos - chunkStart, pos - chunkStart + size);
        if (runStart < 0) runStart = pos;
      } else {
        endRun();
        batch = await this.bytes(keys, segment, pos, size);
        parts.push(batch);
      }
      if ((crc32c(batch.subarray(ATTRIBUTES_OFFSET)) >>> 0) !== batch.readUInt32BE(CRC_OFFSET)) {
        throw new RemoteReadError(`${keys.log}: the batch at byte ${pos} (offsets ${base}-${last}) fails its CRC`);
      }
      if (total === 0) firstOffset = base;
      nextOffset = last + 1;
      total += size;
      pos += size;
    }
    endRun();
    return { records: parts.length === 1 ? parts[0]! : Buffer.concat(parts, total), firstOffset, bytes: total, nextOffset, endPosition: pos };
  }
}
