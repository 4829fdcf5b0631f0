// One segment of a partition log: `<20-digit base offset>.log` holding record batches exactly as
// appended, with its `.index` (offset → position) and `.timeindex` (timestamp → offset).
//
// Lifecycle: active (the one segment taking appends) → closed (rolled: read-only, final time index
// entry written, in-memory index copies dropped) → uploaded (tiered storage has a copy; set by the
// uploader, later) → deleted (files removed by retention or DeleteRecords). Transitions only move
// forward, except that a closed segment may be deleted without being uploaded.
//
// Index entries follow Kafka's rule: before appending a batch, if more than index.interval.bytes
// were appended since the last entry, index this batch (its last offset at its position) and the
// segment's largest timestamp so far. The first batch of a segment is never indexed; lookups below
// the first entry start at byte 0.
import assert from 'node:assert/strict';
import { storageError } from './errors.js';
import { closeSync, existsSync, fdatasync, fstatSync, fsyncSync, ftruncateSync, openSync, renameSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import path from 'node:path';
import {
  BatchAttribute,
  BatchField,
  CorruptRecordError,
  LOG_OVERHEAD,
  MIN_BATCH_LENGTH,
  RECORD_BATCH_MAGIC,
  RECORD_BATCH_OVERHEAD,
  iterateBatches,
  readRecords,
  type RecordBatchHeader,
} from '../protocol/records/index.js';
import { readAt, unlinkIfExists, writeFully } from './files.js';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';
import {
  NO_TIMESTAMP,
  SEGMENT_BYTES_MAX,
  offsetOf,
  timestampOf,
  type FaultInjector,
  type LogConfig,
  type TimestampAndOffset,
} from './types.js';

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';
/** Kafka's suffix for the files of a segment removed from the log and waiting for file.delete.delay.ms. */
export const DELETED_FILE_SUFFIX = '.deleted';
const OFFSET_DIGITS = 20;
const INT32_MAX = 0x7fff_ffff;
/** Header scans read this much at a time, so a scan over small batches costs few system calls. */
const SCAN_WINDOW_BYTES = 16 * 1024;
/** translateOffset's scan window. Its scans run to completion synchronously, so one is enough. */
const TRANSLATE_WINDOW = Buffer.allocUnsafeSlow(SCAN_WINDOW_BYTES);
/** Recovery reads and CRC-checks the segment in chunks of this size (larger for a larger batch). */
const RECOVERY_CHUNK_BYTES = 1024 * 1024;
/**
 * Appended bytes after which the active segment's data is written back in the background. Without
 * it, data sits dirty in the page cache until the kernel's thresholds (a share of memory, gigabytes
 * here) and then the kernel stalls the writing thread, which for Strata is every client's thread.
 */
export const WRITEBACK_BYTES = 4 * 1024 * 1024;

/** Kafka's file name for a segment file: the base offset as 20 zero-padded digits. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(OFFSET_DIGITS, '0') + suffix;
}

const SEGMENT_FILE = /^(\d{20})\.log$/;
/** The base offset named by a `.log` file name, or null for other files. */
export function parseSegmentFileName(name: string): number | null {
  const m = SEGMENT_FILE.exec(name);
  if (m === null) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

export type SegmentState = 'active' | 'closed' | 'uploaded' | 'deleted';

/** What the log needs from a stored batch, decoded from its header. */
export interface StoredBatch {
  /** Byte position of the batch in its segment (or in the buffer being appended). */
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
  logAppendTime: boolean;
  isTransactional: boolean;
  isControl: boolean;
}

/** Converts a parsed header (bigint fields) to a StoredBatch; RangeError for unrepresentable values. */
export function storedBatchOf(h: RecordBatchHeader, position: number): StoredBatch {
  const baseOffset = offsetOf(h.baseOffset, 'batch base offset');
  if (h.lastOffsetDelta < 0) throw new RangeError(`batch at byte ${position} has lastOffsetDelta ${h.lastOffsetDelta}`);
  return {
    position,
    size: h.size,
    baseOffset,
    lastOffset: offsetOf(h.baseOffset + BigInt(h.lastOffsetDelta), 'batch last offset'),
    maxTimestamp: timestampOf(h.maxTimestamp, 'batch max timestamp'),
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    lastOffsetDelta: h.lastOffsetDelta,
    logAppendTime: (h.attributes & BatchAttribute.LogAppendTime) !== 0,
    isTransactional: h.isTransactional,
    isControl: h.isControl,
  };
}

/**
 * Decodes the header of a stored batch from its first 61 bytes (the rest of the batch is not read;
 * the CRC was checked on append and is checked again when the batch is served). Throws
 * CorruptRecordError when the header cannot be a batch that fits before `end`.
 */
function decodeStoredHeader(buf: Buffer, at: number, position: number, end: number): StoredBatch {
  const magic = buf.readInt8(at + BatchField.Magic);
  if (magic !== RECORD_BATCH_MAGIC) throw new CorruptRecordError(`stored batch at byte ${position} has magic ${magic}`);
  const batchLength = buf.readInt32BE(at + BatchField.BatchLength);
  if (batchLength < MIN_BATCH_LENGTH) throw new CorruptRecordError(`stored batch at byte ${position} has batchLength ${batchLength}`);
  const size = batchLength + LOG_OVERHEAD;
  if (position + size > end) throw new CorruptRecordError(`stored batch at byte ${position} (${size} bytes) runs past the segment end ${end}`);
  const attributes = buf.readInt16BE(at + BatchField.Attributes);
  const lastOffsetDelta = buf.readInt32BE(at + BatchField.LastOffsetDelta);
  if (lastOffsetDelta < 0) throw new CorruptRecordError(`stored batch at byte ${position} has lastOffsetDelta ${lastOffsetDelta}`);
  const base = buf.readBigInt64BE(at + BatchField.BaseOffset);
  try {
    return {
      position,
      size,
      baseOffset: offsetOf(base, 'stored base offset'),
      lastOffset: offsetOf(base + BigInt(lastOffsetDelta), 'stored last offset'),
      maxTimestamp: timestampOf(buf.readBigInt64BE(at + BatchField.MaxTimestamp), 'stored max timestamp'),
      partitionLeaderEpoch: buf.readInt32BE(at + BatchField.PartitionLeaderEpoch),
      producerId: buf.readBigInt64BE(at + BatchField.ProducerId),
      producerEpoch: buf.readInt16BE(at + BatchField.ProducerEpoch),
      baseSequence: buf.readInt32BE(at + BatchField.BaseSequence),
      lastOffsetDelta,
      logAppendTime: (attributes & BatchAttribute.LogAppendTime) !== 0,
      isTransactional: (attributes & BatchAttribute.Transactional) !== 0,
      isControl: (attributes & BatchAttribute.Control) !== 0,
    };
  } catch (e) {
    if (e instanceof RangeError) throw new CorruptRecordError(`stored batch at byte ${position}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Kafka's roll jitter for one segment (LogConfig.randomSegmentJitter): a whole number of ms drawn
 * uniformly from [0, min(segment.jitter.ms, segment.ms)), or 0 without jitter. The segment rolls
 * once its data spans segment.ms minus this. `random` returns a number in [0, 1).
 */
export function rollJitterMs(segmentJitterMs: number, segmentMs: number, random: () => number): number {
  if (segmentJitterMs <= 0) return 0;
  const bound = Math.min(segmentJitterMs, segmentMs);
  const r = random();
  assert.ok(r >= 0 && r < 1, `random source returned ${r}`);
  return Math.floor(r * bound);
}

export interface RollCheck {
  appendBytes: number;
  /** Largest timestamp in the batches about to be appended. */
  appendMaxTimestamp: number;
  appendLastOffset: number;
  nowMs: number;
}

export class LogSegment {
  readonly baseOffset: number;
  readonly logFile: string;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  #state: SegmentState;
  #fd: number;
  #size = 0;
  #nextOffset: number;
  #maxTimestamp = NO_TIMESTAMP;
  #offsetOfMaxTimestamp = -1;
  /** Max timestamp of the first batch, which time-based rolling measures from; null while empty. */
  #firstBatchTimestamp: number | null = null;
  #bytesSinceIndexEntry = 0;
  /** Bytes appended since the last background writeback started (see WRITEBACK_BYTES). */
  #bytesSinceWriteback = 0;
  /** The background writeback running now, if any (one at a time per segment). */
  #writeback: Promise<void> | null = null;
  /** release() came while a writeback ran: the descriptor closes when it ends. */
  #closeAfterWriteback = false;
  /** A background writeback failed: the data may not reach the disk, so the next append or flush fails. */
  #writebackError: NodeJS.ErrnoException | null = null;
  /** An index file was absent at open (the load checks then fail and recovery rebuilds it). */
  #indexesMissing = false;
  readonly #createdMs: number;
  #config: LogConfig;
  readonly #faults: FaultInjector;
  readonly #random: () => number;
  /** This segment's share of segment.jitter.ms (rollJitterMs), drawn at creation and redrawn when
   *  segment.ms or segment.jitter.ms change. */
  #rollJitterMs: number;

  private constructor(dir: string, baseOffset: number, config: LogConfig, nowMs: number, faults: FaultInjector, create: boolean, random: () => number) {
    this.baseOffset = baseOffset;
    this.logFile = path.join(dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX));
    this.#config = config;
    this.#faults = faults;
    this.#random = random;
    this.#rollJitterMs = rollJitterMs(config.segmentJitterMs, config.segmentMs, random);
    this.#createdMs = nowMs;
    this.#nextOffset = baseOffset;
    this.#fd = openSync(this.logFile, create ? 'wx+' : 'r+');
    try {
      const indexFile = path.join(dir, segmentFileName(baseOffset, INDEX_FILE_SUFFIX));
      const timeIndexFile = path.join(dir, segmentFileName(baseOffset, TIME_INDEX_FILE_SUFFIX));
      // An empty index is valid (sparse), so a missing one must be noticed before it is recreated.
      this.#indexesMissing = !create && (!existsSync(indexFile) || !existsSync(timeIndexFile));
      if (create) {
        // Stale index files of a segment that no longer has data would be wrong for the new one.
        unlinkIfExists(indexFile);
        unlinkIfExists(timeIndexFile);
      }
      this.offsetIndex = new OffsetIndex(indexFile, baseOffset, config.segmentIndexBytes, faults);
      try {
        this.timeIndex = new TimeIndex(timeIndexFile, baseOffset, config.segmentIndexBytes, faults);
      } catch (e) {
        this.offsetIndex.release();
        throw e;
      }
    } catch (e) {
      closeSync(this.#fd);
      throw e;
    }
    this.#size = create ? 0 : fstatSync(this.#fd).size;
    this.#state = create ? 'active' : 'closed';
    if (create) this.#mirrorIndexes();
  }

  /** Takes a changed config for roll and index-interval decisions (the roll jitter is drawn again
   *  when segment.ms or segment.jitter.ms change); the index files keep the size limit they were
   *  opened with. */
  reconfigure(config: LogConfig): void {
    if (config.segmentJitterMs !== this.#config.segmentJitterMs || config.segmentMs !== this.#config.segmentMs) {
      this.#rollJitterMs = rollJitterMs(config.segmentJitterMs, config.segmentMs, this.#random);
    }
    this.#config = config;
  }

  /** The jitter this segment rolls with (tests and logs). */
  get rollJitterMs(): number {
    return this.#rollJitterMs;
  }

  /** A new, empty, active segment. Fails if its .log already exists. */
  static create(dir: string, baseOffset: number, config: LogConfig, nowMs: number, faults: FaultInjector, random: () => number = Math.random): LogSegment {
    return new LogSegment(dir, baseOffset, config, nowMs, faults, true, random);
  }

  /**
   * An existing segment, opened as closed and not yet examined: the loader then calls load() (trust
   * the files, check them cheaply) or recover() (re-validate every batch), and activate() for the last.
   */
  static open(dir: string, baseOffset: number, config: LogConfig, nowMs: number, faults: FaultInjector, random: () => number = Math.random): LogSegment {
    return new LogSegment(dir, baseOffset, config, nowMs, faults, false, random);
  }

  get state(): SegmentState {
    return this.#state;
  }
  get sizeBytes(): number {
    return this.#size;
  }
  /** One past the last offset stored here (the base offset while empty). */
  get nextOffset(): number {
    return this.#nextOffset;
  }
  get isEmpty(): boolean {
    return this.#size === 0;
  }
  /** Largest batch max timestamp in the segment, -1 if none. */
  get maxTimestamp(): number {
    return this.#maxTimestamp;
  }
  /** Last offset of the first batch that reached maxTimestamp, -1 if none. */
  get offsetOfMaxTimestamp(): number {
    return this.#offsetOfMaxTimestamp;
  }

  /** The timestamp retention measures age from: the largest timestamp, else the file's mtime (as Kafka). */
  largestTimestampForRetention(): number {
    return this.#maxTimestamp >= 0 ? this.#maxTimestamp : Math.floor(fstatSync(this.#fd).mtimeMs);
  }

  #mirrorIndexes(): void {
    this.offsetIndex.mirror();
    this.timeIndex.mirror();
  }

  /** Makes a loaded segment the active one (the last segment of the log). */
  activate(): void {
    assert.equal(this.#state, 'closed', `${this.logFile}: activate from ${this.#state}`);
    this.#state = 'active';
    this.#mirrorIndexes();
  }

  #resetState(): void {
    this.#maxTimestamp = NO_TIMESTAMP;
    this.#offsetOfMaxTimestamp = -1;
    this.#firstBatchTimestamp = null;
    this.#bytesSinceIndexEntry = 0;
    this.#nextOffset = this.baseOffset;
  }

  /** Index bookkeeping for one batch at segment position `position`. */
  #indexBatch(b: StoredBatch, position: number): void {
    if (this.#firstBatchTimestamp === null) this.#firstBatchTimestamp = b.maxTimestamp;
    if (b.maxTimestamp > this.#maxTimestamp) {
      this.#maxTimestamp = b.maxTimestamp;
      this.#offsetOfMaxTimestamp = b.lastOffset;
    }
    if (this.#bytesSinceIndexEntry > this.#config.indexIntervalBytes) {
      // A full index skips entries rather than failing the append: lookups stay correct, only the
      // scans grow, and the full index rolls the segment before the next append.
      if (!this.offsetIndex.isFull) this.offsetIndex.append(b.lastOffset, position);
      if (!this.timeIndex.isFull) this.timeIndex.maybeAppend(this.#maxTimestamp, this.#offsetOfMaxTimestamp);
      this.#bytesSinceIndexEntry = 0;
    }
    this.#bytesSinceIndexEntry += b.size;
    this.#nextOffset = b.lastOffset + 1;
  }

  /**
   * Appends `records`, whose batches (positions relative to `records`, offsets already assigned) are
   * described by `batches`, and indexes them.
   */
  append(records: Buffer, batches: readonly StoredBatch[]): void {
    assert.equal(this.#state, 'active', `${this.logFile}: append in state ${this.#state}`);
    assert.ok(batches.length > 0 && batches[0]!.position === 0);
    const last = batches[batches.length - 1]!;
    assert.equal(last.position + last.size, records.length, 'batches must cover the appended bytes exactly');
    assert.ok(batches[0]!.baseOffset >= this.#nextOffset, `${this.logFile}: offset ${batches[0]!.baseOffset} below ${this.#nextOffset}`);
    assert.ok(last.lastOffset - this.baseOffset <= INT32_MAX, `${this.logFile}: offset ${last.lastOffset} overflows the relative offset`);
    assert.ok(this.#size + records.length <= SEGMENT_BYTES_MAX, `${this.logFile}: would exceed ${SEGMENT_BYTES_MAX} bytes`);
    const start = this.#size;
    if (this.#writebackError !== null) throw this.#writebackError;
    try {
      this.#faults('append', this.logFile);
      writeFully(this.#fd, records, start);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw e;
      // A full disk refuses this append and nothing else: what part of it reached the file is cut,
      // so the segment is exactly as before, and the next append (once there is space) goes where
      // this one would have.
      ftruncateSync(this.#fd, start);
      throw storageError(`${this.logFile}: the disk is full (${code}); ${records.length} bytes not appended`, e);
    }
    this.#size = start + records.length;
    for (const b of batches) this.#indexBatch(b, start + b.position);
    this.#bytesSinceWriteback += records.length;
    if (this.#bytesSinceWriteback >= WRITEBACK_BYTES && this.#writeback === null) this.#startWriteback();
  }

  /** Why this segment should roll before taking the append, or null. */
  shouldRoll(c: RollCheck): string | null {
    if (this.#size === 0) return null;
    if (this.#size > this.#config.segmentBytes - c.appendBytes) return `segment.bytes ${this.#config.segmentBytes} reached`;
    const first = this.#firstBatchTimestamp ?? NO_TIMESTAMP;
    // Kafka measures a segment's age in the data's own time (the incoming batch's timestamp against
    // the first batch's), falling back to wall time when the first batch has no timestamp.
    const waitedMs = first >= 0 ? c.appendMaxTimestamp - first : c.nowMs - this.#createdMs;
    const rollMs = this.#config.segmentMs - this.#rollJitterMs;
    if (waitedMs >= rollMs) {
      return `segment.ms ${this.#config.segmentMs}${this.#rollJitterMs > 0 ? ` less jitter ${this.#rollJitterMs}` : ''} reached (${waitedMs} ms)`;
    }
    if (this.offsetIndex.isFull) return 'offset index full';
    if (this.timeIndex.isFull) return 'time index full';
    if (c.appendLastOffset - this.baseOffset > INT32_MAX) return 'offsets would overflow the int32 relative offset';
    return null;
  }

  /** Reads `length` bytes at `position` (within the segment), into a buffer from `alloc` if given. */
  read(position: number, length: number, alloc?: (bytes: number) => Buffer): Buffer {
    assert.ok(position >= 0 && length >= 0 && position + length <= this.#size, `${this.logFile}: read [${position}, +${length}) of ${this.#size}`);
    const buf = readAt(this.#fd, position, length, alloc?.(length));
    assert.equal(buf.length, length, `${this.logFile}: short read at ${position}`);
    return buf;
  }

  /**
   * Batch headers from `position` to the end of the segment. Throws CorruptRecordError on garbage.
   * `window` is the buffer headers are read into; by default a new one per scan, since scans may
   * interleave (one generator paused while another runs). A caller that runs its scan to the end
   * before anything else can scan passes a shared one.
   */
  *batchesFrom(position: number, end = this.#size, window?: Buffer): Generator<StoredBatch, void, undefined> {
    window ??= Buffer.allocUnsafe(Math.min(SCAN_WINDOW_BYTES, Math.max(end - position, RECORD_BATCH_OVERHEAD)));
    let winStart = 0;
    let winLength = 0;
    let pos = position;
    while (pos < end) {
      if (pos < winStart || pos + RECORD_BATCH_OVERHEAD > winStart + winLength) {
        winStart = pos;
        winLength = readAt(this.#fd, pos, Math.min(window.length, end - pos), window).length;
        if (winLength < RECORD_BATCH_OVERHEAD) {
          throw new CorruptRecordError(`${this.logFile}: ${winLength} bytes at ${pos} are too few for a batch header`);
        }
      }
      const b = decodeStoredHeader(window, pos - winStart, pos, end);
      yield b;
      pos += b.size;
    }
  }

  /** The first batch whose last offset is >= target, found via the index, or null if none is here. */
  translateOffset(target: number, startPosition = 0): StoredBatch | null {
    if (target >= this.#nextOffset) return null;
    const position = Math.max(this.offsetIndex.lookup(target).position, startPosition);
    // Every fetch comes here once per partition: the shared window spares a 16 KiB allocation each
    // time (it was 8% of broker CPU, with the garbage collection it caused, under a fast consumer).
    for (const b of this.batchesFrom(position, this.#size, TRANSLATE_WINDOW)) {
      if (b.lastOffset >= target) return b;
    }
    return null;
  }

  /** The first record with timestamp >= targetMs and offset >= startingOffset, or null. */
  findOffsetByTimestamp(targetMs: number, startingOffset: number, decompressedBytesMax: number): TimestampAndOffset | null {
    const entry = this.timeIndex.lookup(targetMs);
    const position = this.offsetIndex.lookup(Math.max(entry.offset, startingOffset)).position;
    for (const b of this.batchesFrom(position)) {
      if (b.maxTimestamp < targetMs || b.lastOffset < startingOffset) continue;
      for (const r of readRecords(this.read(b.position, b.size), { maxDecompressedBytes: decompressedBytesMax })) {
        const timestamp = timestampOf(r.timestamp, 'record timestamp');
        const offset = offsetOf(r.offset, 'record offset');
        if (timestamp >= targetMs && offset >= startingOffset) return { offset, timestamp, leaderEpoch: b.partitionLeaderEpoch };
      }
    }
    return null;
  }

  /**
   * The record holding the segment's largest timestamp: the first record of the first batch that
   * reached it (under LogAppendTime every record of a batch carries it, so the batch's first).
   */
  maxTimestampRecord(decompressedBytesMax: number): TimestampAndOffset | null {
    if (this.#offsetOfMaxTimestamp < 0) return null;
    const max = this.#maxTimestamp;
    const position = this.offsetIndex.lookup(this.#offsetOfMaxTimestamp).position;
    for (const b of this.batchesFrom(position)) {
      if (b.maxTimestamp !== max) continue;
      if (b.logAppendTime) return { offset: b.baseOffset, timestamp: max, leaderEpoch: b.partitionLeaderEpoch };
      for (const r of readRecords(this.read(b.position, b.size), { maxDecompressedBytes: decompressedBytesMax })) {
        if (timestampOf(r.timestamp, 'record timestamp') === max) {
          return { offset: offsetOf(r.offset, 'record offset'), timestamp: max, leaderEpoch: b.partitionLeaderEpoch };
        }
      }
      return { offset: b.lastOffset, timestamp: max, leaderEpoch: b.partitionLeaderEpoch };
    }
    return null;
  }

  /**
   * Loads a segment whose files are trusted (clean shutdown, or wholly below the recovery point),
   * checking what is cheap to check: both indexes entry by entry, and the batch headers after the
   * last index entries, which also yields the next offset and the largest timestamp. Returns why the
   * segment needs recovery, or null.
   */
  load(): string | null {
    this.#resetState();
    if (this.#indexesMissing) return 'index file missing';
    const size = this.#size;
    const offsetProblem = this.offsetIndex.problem(size);
    if (offsetProblem !== null) return `offset index: ${offsetProblem}`;
    const lastEntry = this.offsetIndex.lastEntry();
    const timeLast = this.timeIndex.entries > 0 ? this.timeIndex.lastEntry() : null;
    // The time index gets an entry whenever the offset index does, so the last time entry covers
    // every batch up to the last offset entry's; only after it can a larger timestamp hide. Once the
    // time index is full (it fills first: 12-byte entries) its last entry can be older, so scan from
    // that entry's batch instead.
    let start = lastEntry?.position ?? 0;
    if (timeLast !== null && this.timeIndex.isFull && lastEntry !== null && timeLast.offset < lastEntry.offset) {
      start = Math.min(start, this.offsetIndex.lookup(timeLast.offset).position);
    }
    let expected = this.baseOffset;
    let sawEntry = lastEntry === null;
    try {
      for (const b of this.batchesFrom(start)) {
        if (b.baseOffset < expected) return `batch at byte ${b.position} has offset ${b.baseOffset}, expected >= ${expected}`;
        if (lastEntry !== null && b.position === lastEntry.position) {
          if (b.lastOffset !== lastEntry.offset) return `offset index entry (${lastEntry.offset}, ${lastEntry.position}) names a batch ending at ${b.lastOffset}`;
          sawEntry = true;
        }
        if (b.maxTimestamp > this.#maxTimestamp) {
          this.#maxTimestamp = b.maxTimestamp;
          this.#offsetOfMaxTimestamp = b.lastOffset;
        }
        expected = b.lastOffset + 1;
      }
    } catch (e) {
      if (e instanceof CorruptRecordError) return e.message;
      throw e;
    }
    if (!sawEntry) return `offset index entry at byte ${lastEntry?.position} is not a batch boundary`;
    this.#nextOffset = size === 0 ? this.baseOffset : expected;
    this.#bytesSinceIndexEntry = size - (lastEntry?.position ?? 0);
    const timeProblem = this.timeIndex.problem(this.#nextOffset - 1);
    if (timeProblem !== null) return `time index: ${timeProblem}`;
    if (timeLast !== null && timeLast.timestamp >= this.#maxTimestamp) {
      // Ties keep the index's offset: it is the first batch that reached the timestamp.
      this.#maxTimestamp = timeLast.timestamp;
      this.#offsetOfMaxTimestamp = timeLast.offset;
    }
    if (size > 0) {
      const firstBatch = this.batchesFrom(0).next();
      if (!firstBatch.done) this.#firstBatchTimestamp = firstBatch.value.maxTimestamp;
    }
    return null;
  }

  /**
   * Re-validates every batch (structure, magic, CRC, offsets increasing and within int32 of the base
   * offset), cuts the file at the first bad byte and rebuilds both indexes. `onBatch` sees each valid
   * batch in order (producer state, leader epochs). Returns the number of bytes cut.
   */
  recover(onBatch?: (b: StoredBatch) => void): number {
    assert.ok(this.#state === 'active' || this.#state === 'closed', `${this.logFile}: recover in state ${this.#state}`);
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.#resetState();
    this.#indexesMissing = false;
    const fileBytes = fstatSync(this.#fd).size;
    let pos = 0;
    let want = RECOVERY_CHUNK_BYTES;
    while (pos < fileBytes) {
      const chunk = readAt(this.#fd, pos, Math.min(Math.max(want, RECOVERY_CHUNK_BYTES), fileBytes - pos));
      want = RECOVERY_CHUNK_BYTES;
      const it = iterateBatches(chunk, { verifyCrc: true });
      let consumed = 0;
      let bad = false;
      try {
        for (const rb of it) {
          const b = storedBatchOf(rb.header, pos + rb.position);
          if (b.baseOffset < this.#nextOffset || b.lastOffset - this.baseOffset > INT32_MAX) {
            bad = true;
            break;
          }
          this.#indexBatch(b, b.position);
          onBatch?.(b);
          consumed = rb.position + rb.bytes.length;
        }
      } catch (e) {
        if (!(e instanceof CorruptRecordError || e instanceof RangeError)) throw e;
        bad = true;
      }
      pos += consumed;
      if (bad) break;
      const partial = it.partial;
      if (partial === null) continue;
      // A batch runs past this chunk: read it whole next time, unless it runs past the file (torn).
      const declared = partial.declaredBytes ?? LOG_OVERHEAD;
      if (pos + declared > fileBytes) break;
      want = declared;
    }
    const truncated = fileBytes - pos;
    if (truncated > 0) ftruncateSync(this.#fd, pos);
    this.#size = pos;
    // A recovered segment ends its time index with its largest timestamp, as a closed one does.
    this.writeFinalTimeIndexEntry();
    return truncated;
  }

  /** active → closed: the final time index entry, and the index memory copies dropped. */
  close(): void {
    assert.equal(this.#state, 'active', `${this.logFile}: close in state ${this.#state}`);
    this.writeFinalTimeIndexEntry();
    this.offsetIndex.seal();
    this.timeIndex.seal();
    this.#state = 'closed';
  }

  /** Records the largest timestamp as the last time index entry (at roll, and at a clean shutdown). */
  writeFinalTimeIndexEntry(): void {
    this.timeIndex.maybeAppend(this.#maxTimestamp, this.#offsetOfMaxTimestamp, true);
  }

  /** closed → uploaded: tiered storage holds a copy (the uploader calls this; nothing does yet). */
  markUploaded(): void {
    assert.equal(this.#state, 'closed', `${this.logFile}: markUploaded in state ${this.#state}`);
    this.#state = 'uploaded';
  }

  /**
   * fsync the data and both indexes on the libuv thread pool, for a segment that will not change
   * any more (rolled). Each file is fsynced through a descriptor of its own, which on Linux flushes
   * the file whatever descriptor wrote it, so this never races the segment's own descriptors being
   * closed. A file deleted meanwhile (retention) needs no flush.
   */
  async flushInBackground(): Promise<void> {
    // A writeback error may already have been reported to the segment's own descriptor, and would
    // then not be reported again to the descriptors opened here.
    await this.#writeback;
    if (this.#writebackError !== null) throw this.#writebackError;
    for (const file of [this.logFile, this.offsetIndex.file, this.timeIndex.file]) {
      this.#faults('flush', file);
      let handle;
      try {
        handle = await openFile(file, 'r');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  }

  /**
   * Starts writing the appended data back to disk on the libuv thread pool (fdatasync), so that dirty
   * pages never pile up until the kernel throttles the writing thread, which for Strata is the one
   * thread serving every client. A hint: nothing waits for it and the recovery point does not move.
   * But a failure it meets is kept and fails the next append or flush, because the kernel reports
   * a writeback error only once and a later fsync would then succeed over lost data.
   */
  #startWriteback(): void {
    this.#bytesSinceWriteback = 0;
    try {
      this.#faults('writeback', this.logFile);
    } catch (e) {
      this.#writebackError ??= e as NodeJS.ErrnoException;
      return;
    }
    const fd = this.#fd;
    this.#writeback = new Promise((resolve) =>
      fdatasync(fd, (err) => {
        if (err !== null) this.#writebackError ??= err;
        if (this.#closeAfterWriteback) closeSync(fd);
        this.#writeback = null;
        resolve();
      }),
    );
  }

  /** fsync the data and both indexes. */
  flush(): void {
    this.#faults('flush', this.logFile);
    if (this.#writebackError !== null) throw this.#writebackError;
    fsyncSync(this.#fd);
    this.offsetIndex.flush();
    this.timeIndex.flush();
  }

  /** Closes the file handles (log close); the state is kept. */
  release(): void {
    if (this.#fd >= 0 && this.#writeback !== null) this.#closeAfterWriteback = true;
    else if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
    this.offsetIndex.release();
    this.timeIndex.release();
  }

  /**
   * → deleted, files kept for now: renames the three files to `*.deleted` (indexes first, as
   * deleteFiles does) and returns their new paths. The descriptors stay open, so a reader still
   * holding this segment reads on; the caller removes the files later (file.delete.delay.ms), with
   * release() first. The loader removes `*.deleted` files a crash left behind.
   */
  renameForDeletion(): string[] {
    assert.notEqual(this.#state, 'deleted', `${this.logFile}: deleted twice`);
    this.#faults('delete', this.logFile);
    const renamed: string[] = [];
    for (const file of [this.offsetIndex.file, this.timeIndex.file, this.logFile]) {
      const to = file + DELETED_FILE_SUFFIX;
      try {
        renameSync(file, to);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      renamed.push(to);
    }
    this.#state = 'deleted';
    return renamed;
  }

  /** → deleted: removes the files, indexes first so a crash in between leaves a segment to reload. */
  deleteFiles(): void {
    assert.notEqual(this.#state, 'deleted', `${this.logFile}: deleted twice`);
    this.#faults('delete', this.logFile);
    this.release();
    this.offsetIndex.deleteFile();
    this.timeIndex.deleteFile();
    unlinkIfExists(this.logFile);
    this.#state = 'deleted';
  }
}
