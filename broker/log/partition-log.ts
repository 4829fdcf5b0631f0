// The log of one partition, in its directory `<logDir>/<topic>-<partition>/`: an ordered list of
// segments (the last one active), the log start offset, the high watermark, the recovery point, the
// leader epoch cache and the idempotent producer state.
//
// Offsets that matter, in order (checked after every change):
//   logStartOffset <= highWatermark <= logEndOffset, and recoveryPoint <= logEndOffset
// The high watermark is kept apart from the log end on purpose: it is the offset below which data is
// committed (replicated to the in-sync replicas). This single-node broker moves it to the log end
// after each append; replication will move it as followers catch up. Reads stop at it (or at the
// last stable offset, equal to it until transactions exist).
//
// All I/O is synchronous. The broker calls the log from its event loop, appends write into the page
// cache, and reads are served from it; a thread hop per call would cost more than the copy. fsync is
// the one slow call, and it runs only by the flush policy (off by default), at segment roll, and at
// close.
//
// Failures: a Kafka-visible problem with the input (bad CRC, sequence gap, offset out of range) is a
// LogError and changes nothing. A failed disk operation in the middle of a change leaves memory and
// disk possibly out of step, so the log takes itself offline: every later call throws
// KAFKA_STORAGE_ERROR until it is reopened, which recovers the files.
import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { CorruptRecordError, iterateBatches, readRecords, setBaseOffset, setPartitionLeaderEpoch, type RecordBatch } from '../protocol/records/index.js';
import { recompressForTopic, rewriteTimestamps, validateLeaderAppend, type ValidatedBatch } from './append-validation.js';
import { LogError, storageError } from './errors.js';
import { CheckpointFormatError, formatCheckpoint, fsyncDir, readOffsetCheckpoint, unlinkIfExists, writeFileAtomic, writeFully, writeOffsetCheckpoint } from './files.js';
import { type CleaningPlan, OffsetMap, filterBatch, planCleaning } from './cleaner.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import { CLEAN_SHUTDOWN_FILE, HIGH_WATERMARK_FILE, LOG_START_OFFSET_FILE, RECOVERY_POINT_FILE, loadLog } from './log-loader.js';
import { SNAPSHOT_FILE_SUFFIX, type ProducerBatch, type ProducerStateManager } from './producer-state.js';
import { LogSegment, segmentFileName, type StoredBatch } from './segment.js';
import {
  NO_TIMESTAMP,
  decompressedBatchBytesMax,
  noFaults,
  silentLogger,
  validateLogConfig,
  type AppendResult,
  type EpochEndOffset,
  type FaultInjector,
  type LoadReport,
  type LogConfig,
  type LogLogger,
  type ReadResult,
  type TimestampAndOffset,
} from './types.js';

const INT32_MAX = 0x7fff_ffff;
/**
 * With a flush policy set, data is fsynced often, but the recovery-point checkpoint (another fsync,
 * plus a directory fsync) is written at most this often, as Kafka's
 * log.flush.offset.checkpoint.interval.ms does; an older recovery point only means more to re-check.
 */
const RECOVERY_POINT_CHECKPOINT_INTERVAL_MS = 60_000;
const EMPTY = Buffer.alloc(0);
/** Where the last compaction pass ended: the first offset it has not cleaned. */
export const CLEANER_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';
/** A segment being rewritten by compaction, and the same file once complete and about to replace it. */
export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

export interface CompactOptions {
  /** Keys the pass may map (log.cleaner.dedupe.buffer.size / 24, as Kafka sizes its map). */
  maxMapEntries: number;
  /** Clean even when the plan says it is not due (tests, and a forced clean). */
  force?: boolean;
  /** Called after each chunk of work with the bytes read since the last call; it may wait (I/O
   *  throttle, yielding the event loop). */
  pace: (bytesRead: number) => Promise<void>;
}

export interface CompactionResult {
  firstDirtyOffset: number;
  endOffset: number;
  segmentsRewritten: number;
  bytesRead: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsRemoved: number;
  durationMs: number;
}

/** A closed local segment as tiered storage sees it: its offsets and the files to upload. */
export interface TieredSegment {
  baseOffset: number;
  /** One past its last offset. */
  nextOffset: number;
  sizeBytes: number;
  /** Largest record timestamp (-1 when none), for remote time retention. */
  maxTimestampMs: number;
  logFile: string;
  offsetIndexFile: string;
  timeIndexFile: string;
  /** The producer state snapshot taken at its roll (named by nextOffset), or null when gone. */
  producerSnapshotFile: string | null;
}

/**
 * The narrow part of a partition log that tiered storage drives (broker/tiered/): it reads closed
 * segments and the committed bound, records what the bucket holds, and moves the whole log's start
 * when remote retention deletes. Kafka's UnifiedLog plays this part for its RemoteLogManager.
 */
export interface TieredLogView {
  readonly dir: string;
  /** Whole log's start, remote part included. */
  readonly logStartOffset: number;
  /** First offset on local disk (Kafka's localLogStartOffset). */
  readonly localLogStartOffset: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly logEndOffset: number;
  /** Every offset below this is recorded as uploaded (0 until the first markUploadedBelow). */
  readonly uploadedBelow: number;
  readonly config: Readonly<LogConfig>;
  /** False once the log is closed, deleted or offline: tiered work on it stops. */
  readonly usable: boolean;
  /** Closed segments (never the active one), oldest first. */
  closedSegments(): TieredSegment[];
  /** Bytes on local disk, the active segment included. */
  sizeBytes(): number;
  /** Leader epoch entries (epoch → start offset), oldest first. */
  leaderEpochs(): readonly { epoch: number; startOffset: number }[];
  /** Records that the bucket holds every offset below `offset` (a confirmed upload); local segments
   *  wholly below it may then go by local retention. Never moves back. */
  markUploadedBelow(offset: number): void;
  /** Remote retention deleted everything below `offset`: the whole log's start moves there (never
   *  back, never past the local log start's segments' end, never past the high watermark). */
  advanceLogStartOffset(offset: number): void;
}

/** Bytes a compaction pass reads between two calls to its pace function. */
const COMPACTION_CHUNK_BYTES = 4 * 1024 * 1024;

export interface PartitionLogOptions {
  /** The partition directory, `<logDir>/<topic>-<partition>`; created if missing. */
  dir: string;
  config: LogConfig;
  nowMs?: () => number;
  logger?: LogLogger;
  /** Tests: make file operations fail at named points. */
  faults?: FaultInjector;
  /** Producers tracked before the least recent is evicted (default PRODUCER_IDS_MAX_DEFAULT). */
  producerIdsMax?: number;
  /** The log directory's free-space check (one per directory, shared by its logs). */
  diskSpace?: { check(bytes: number): void };
  /** Runs `task` after `delayMs` (file.delete.delay.ms); returns a cancel function. Defaults to an
   *  unref'd setTimeout; tests pass a manual scheduler. */
  schedule?: (delayMs: number, task: () => void) => () => void;
  /** Draws segment roll jitter (segment.jitter.ms); Math.random by default. */
  random?: () => number;
  /** Told when an I/O failure takes this log offline (the broker takes its directory offline). */
  onFailure?: (cause: unknown) => void;
}

/** A removed segment whose `*.deleted` files wait for file.delete.delay.ms. */
interface PendingDeletion {
  segment: LogSegment;
  files: string[];
  cancel: () => void;
}

function scheduleTimer(delayMs: number, task: () => void): () => void {
  const t = setTimeout(task, delayMs);
  t.unref();
  return () => clearTimeout(t);
}

type LogState = 'open' | 'closed' | 'deleted';

export class PartitionLog implements TieredLogView {
  readonly dir: string;
  /** How the open went (clean or recovered, what was cut); tests read it. */
  readonly loadReport: Readonly<LoadReport>;
  #config: Readonly<LogConfig>;
  readonly #now: () => number;
  readonly #logger: LogLogger;
  readonly #faults: FaultInjector;
  readonly #diskSpace: { check(bytes: number): void } | undefined;
  readonly #schedule: (delayMs: number, task: () => void) => () => void;
  readonly #random: () => number;
  /** Removed segments whose files are still on disk as `*.deleted`; bounded by the segments the
   *  log deletes within file.delete.delay.ms. */
  readonly #pendingDeletions = new Set<PendingDeletion>();
  readonly #onFailure: (cause: unknown) => void;
  /** The segments' files were closed by abandon(). */
  #released = false;
  readonly #segments: LogSegment[];
  readonly #producers: ProducerStateManager;
  readonly #epochs: LeaderEpochCache;
  #logStartOffset: number;
  #highWatermark: number;
  /** Offset below which everything is fsynced. */
  #recoveryPoint: number;
  #recoveryPointWrittenMs: number;
  #unflushedRecords = 0;
  /** Background fsyncs of rolled segments still running. */
  readonly #pendingFlushes = new Set<Promise<void>>();
  #lastFlushMs: number;
  #state: LogState = 'open';
  /** The cleaner checkpoint: compaction has cleaned everything below this offset. */
  #firstDirtyOffset: number;
  /** A compaction pass is running (they never overlap on one log). */
  #compacting = false;
  /** The I/O failure that took this log offline, or null. */
  #failure: unknown = null;
  /** Tiered storage holds every offset below this (remote.storage.enable); see markUploadedBelow. */
  #uploadedBelow = 0;

  private constructor(
    opts: Required<Pick<PartitionLogOptions, 'dir' | 'config' | 'nowMs' | 'logger' | 'faults' | 'schedule' | 'random'>> & Pick<PartitionLogOptions, 'diskSpace' | 'onFailure'>,
    loaded: ReturnType<typeof loadLog>,
  ) {
    this.dir = opts.dir;
    this.#schedule = opts.schedule;
    this.#random = opts.random;
    this.#config = opts.config;
    this.#now = opts.nowMs;
    this.#logger = opts.logger;
    this.#faults = opts.faults;
    this.#diskSpace = opts.diskSpace;
    this.#onFailure = opts.onFailure ?? (() => {});
    this.#segments = loaded.segments;
    this.#producers = loaded.producers;
    this.#epochs = loaded.epochs;
    this.#logStartOffset = loaded.logStartOffset;
    this.#highWatermark = loaded.highWatermark;
    this.#recoveryPoint = loaded.recoveryPoint;
    this.loadReport = loaded.report;
    this.#lastFlushMs = this.#now();
    this.#recoveryPointWrittenMs = this.#lastFlushMs;
    this.#firstDirtyOffset = 0;
    try {
      this.#firstDirtyOffset = readOffsetCheckpoint(path.join(this.dir, CLEANER_CHECKPOINT_FILE)) ?? 0;
    } catch (e) {
      if (!(e instanceof CheckpointFormatError)) throw e;
      // A lost checkpoint only makes the next pass clean more.
      this.#logger.warn('cleaner checkpoint unreadable, compacting from the start', { dir: this.dir, reason: e.message });
    }
    this.#checkInvariants();
  }

  /** The settings the log runs with now. */
  get config(): Readonly<LogConfig> {
    return this.#config;
  }

  /** Applies a changed topic config at once (AlterConfigs). Every later append, roll, flush and
   *  retention decision uses it; segments already written keep their files as they are. */
  updateConfig(config: LogConfig): void {
    this.#checkUsable();
    validateLogConfig(config);
    const wasTiered = this.#config.remoteStorageEnable;
    this.#config = Object.freeze({ ...config });
    this.#active.reconfigure(this.#config);
    if (wasTiered && !config.remoteStorageEnable) this.#leaveTieredStorage();
    this.#logger.info('log config updated', { dir: this.dir });
  }

  /**
   * Tiered storage was turned off (remote.storage.enable=false with remote.log.delete.on.disable,
   * KIP-950): the bucket's copy is being deleted, so the log is what is on local disk. The log start
   * moves up to the local log start, and nothing counts as uploaded any more, so that turning tiering
   * on again uploads from scratch before local retention deletes anything.
   */
  #leaveTieredStorage(): void {
    this.#mutate('logStartOffset', () => {
      const localStart = this.localLogStartOffset;
      if (localStart > this.#logStartOffset) this.#setLogStartOffset(localStart);
    });
    this.#uploadedBelow = 0;
    this.#logger.info('tiered storage turned off; the log start is now the local log start', { dir: this.dir, logStartOffset: this.#logStartOffset });
    this.#checkInvariants();
  }

  /** Opens (creating, loading and if needed recovering) the partition directory. */
  static open(opts: PartitionLogOptions): PartitionLog {
    validateLogConfig(opts.config);
    const full = {
      dir: opts.dir,
      config: Object.freeze({ ...opts.config }),
      nowMs: opts.nowMs ?? Date.now,
      logger: opts.logger ?? silentLogger,
      faults: opts.faults ?? noFaults,
      schedule: opts.schedule ?? scheduleTimer,
      random: opts.random ?? Math.random,
    };
    let loaded;
    try {
      loaded = loadLog({ ...full, ...(opts.producerIdsMax !== undefined ? { producerIdsMax: opts.producerIdsMax } : {}) });
    } catch (e) {
      if (e instanceof AssertionError || e instanceof LogError) throw e;
      throw storageError(`cannot open partition log ${opts.dir}`, e);
    }
    return new PartitionLog(
      { ...full, ...(opts.diskSpace === undefined ? {} : { diskSpace: opts.diskSpace }), ...(opts.onFailure === undefined ? {} : { onFailure: opts.onFailure }) },
      loaded,
    );
  }

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  get logEndOffset(): number {
    return this.#active.nextOffset;
  }

  /**
   * First offset on local disk. Equal to the log start unless the topic is tiered: then local
   * segments uploaded and past local retention are gone while the log start stays the whole log's.
   */
  get localLogStartOffset(): number {
    return Math.max(this.#logStartOffset, this.#segments[0]!.baseOffset);
  }

  get uploadedBelow(): number {
    return this.#uploadedBelow;
  }

  get usable(): boolean {
    return this.#state === 'open' && this.#failure === null;
  }

  closedSegments(): TieredSegment[] {
    this.#checkUsable();
    const snapshots = new Set(this.#producers.snapshotOffsets());
    return this.#segments.slice(0, -1).map((seg) => ({
      baseOffset: seg.baseOffset,
      nextOffset: seg.nextOffset,
      sizeBytes: seg.sizeBytes,
      maxTimestampMs: seg.maxTimestamp,
      logFile: seg.logFile,
      offsetIndexFile: seg.offsetIndex.file,
      timeIndexFile: seg.timeIndex.file,
      producerSnapshotFile: snapshots.has(seg.nextOffset) ? path.join(this.dir, segmentFileName(seg.nextOffset, SNAPSHOT_FILE_SUFFIX)) : null,
    }));
  }

  markUploadedBelow(offset: number): void {
    this.#checkUsable();
    assert.ok(Number.isSafeInteger(offset) && offset <= this.#highWatermark, `uploaded below ${offset}, above the high watermark ${this.#highWatermark}`);
    if (offset <= this.#uploadedBelow) return;
    this.#uploadedBelow = offset;
    for (const seg of this.#segments) if (seg.state === 'closed' && seg.nextOffset <= offset) seg.markUploaded();
  }

  advanceLogStartOffset(offset: number): void {
    this.#checkUsable();
    if (offset <= this.#logStartOffset) return;
    // Remote retention deletes only uploaded data, all of it below the high watermark.
    const to = Math.min(offset, this.#highWatermark);
    this.#mutate('logStartOffset', () => {
      this.#setLogStartOffset(to);
      this.#deleteSegmentsWhile((_seg, next) => next.baseOffset <= this.#logStartOffset, 'log start offset', true);
    });
    this.#checkInvariants();
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  /** Equal to the high watermark until transactions exist; then the first open transaction's start. */
  get lastStableOffset(): number {
    return this.#highWatermark;
  }

  /** Offset below which data is known to be on disk. */
  get recoveryPoint(): number {
    return this.#recoveryPoint;
  }

  get #active(): LogSegment {
    return this.#segments[this.#segments.length - 1]!;
  }

  /** Base offsets of the segments, oldest first (the last is the active segment). */
  segmentBaseOffsets(): number[] {
    return this.#segments.map((s) => s.baseOffset);
  }

  sizeBytes(): number {
    let n = 0;
    for (const s of this.#segments) n += s.sizeBytes;
    return n;
  }

  segmentCount(): number {
    return this.#segments.length;
  }

  /** The leader epoch entries (epoch → start offset), oldest first. */
  leaderEpochs(): readonly { epoch: number; startOffset: number }[] {
    return this.#epochs.entries();
  }

  /** Sets the high watermark, clamped to [logStartOffset, logEndOffset] as Kafka does; returns it. */
  updateHighWatermark(offset: number): number {
    this.#checkUsable();
    assert.ok(Number.isSafeInteger(offset), `high watermark ${offset} is not an integer`);
    this.#highWatermark = Math.min(Math.max(offset, this.#logStartOffset), this.logEndOffset);
    this.#checkInvariants();
    return this.#highWatermark;
  }

  // -------------------------------------------------------------------------------------------------
  // Append

  /**
   * Validates and appends the records of one produce partition (one or more v2 batches as the client
   * sent them). The batches are patched in place in `records` (base offset, leader epoch, and under
   * LogAppendTime or a wrong max timestamp the timestamp fields and CRC) and stored as they are;
   * under a compression.type other than `producer`, batches with another codec are recompressed into
   * a new buffer first, which is then what is patched and stored.
   */
  appendAsLeader(records: Buffer, leaderEpoch: number): AppendResult {
    this.#checkUsable();
    assert.ok(Number.isInteger(leaderEpoch) && leaderEpoch >= 0 && leaderEpoch <= INT32_MAX, `leader epoch ${leaderEpoch}`);
    // The partition's leader epoch never goes back; an older one here is a caller bug.
    assert.ok(leaderEpoch >= this.#epochs.latestEpoch(), `append with leader epoch ${leaderEpoch} below ${this.#epochs.latestEpoch()}`);
    const nowMs = this.#now();
    const logAppendTime = this.#config.messageTimestampType === 'LogAppendTime';
    let validated: ValidatedBatch[];
    ({ records, validated } = recompressForTopic(records, validateLeaderAppend(records, this.#config, nowMs), this.#config));
    if (records.length > this.#config.segmentBytes) {
      throw new LogError('RECORD_LIST_TOO_LARGE', `${records.length} bytes of batches exceed segment.bytes ${this.#config.segmentBytes}`);
    }

    const baseOffset = this.logEndOffset;
    const producerAppend = this.#producers.beginAppend();
    const stored: StoredBatch[] = [];
    let next = baseOffset;
    let recordCount = 0;
    let appendMaxTimestamp = NO_TIMESTAMP;
    for (const v of validated) {
      const h = v.batch.header;
      const batchBase = next;
      const batchLast = batchBase + h.lastOffsetDelta;
      next = batchLast + 1;
      recordCount += v.recordCount;
      if (v.maxTimestamp > appendMaxTimestamp) appendMaxTimestamp = v.maxTimestamp;
      if (h.producerId >= 0n) {
        const pb: ProducerBatch = {
          producerId: h.producerId,
          producerEpoch: h.producerEpoch,
          baseSequence: h.baseSequence,
          lastOffsetDelta: h.lastOffsetDelta,
          baseOffset: batchBase,
          lastOffset: batchLast,
          maxTimestamp: v.maxTimestamp,
        };
        // Kafka answers a retried batch with the offsets it got the first time, and writes nothing.
        const duplicate = producerAppend.findDuplicate(pb);
        if (duplicate !== null) {
          return {
            baseOffset: duplicate.firstOffset,
            lastOffset: duplicate.lastOffset,
            logAppendTimeMs: logAppendTime ? duplicate.timestamp : -1,
            logStartOffset: this.#logStartOffset,
            recordCount: duplicate.lastOffset - duplicate.firstOffset + 1,
            duplicate: true,
          };
        }
        producerAppend.checkAndStage(pb);
      }
      stored.push({
        position: v.batch.position,
        size: h.size,
        baseOffset: batchBase,
        lastOffset: batchLast,
        maxTimestamp: v.maxTimestamp,
        partitionLeaderEpoch: leaderEpoch,
        producerId: h.producerId,
        producerEpoch: h.producerEpoch,
        baseSequence: h.baseSequence,
        lastOffsetDelta: h.lastOffsetDelta,
        logAppendTime,
        isTransactional: h.isTransactional,
        isControl: h.isControl,
      });
    }
    assert.ok(Number.isSafeInteger(next), `offset ${next} is past 2^53`);

    // Everything is valid; from here a failure is the disk's. A disk about to fill refuses the append
    // here, before anything is written.
    this.#diskSpace?.check(records.length);
    for (const v of validated) if (v.rewrite) rewriteTimestamps(v, logAppendTime);
    for (const b of stored) {
      setBaseOffset(records, BigInt(b.baseOffset), b.position);
      setPartitionLeaderEpoch(records, leaderEpoch, b.position);
    }
    this.#mutate('append', () => {
      this.#epochs.assign(leaderEpoch, baseOffset);
      const reason = this.#active.shouldRoll({
        appendBytes: records.length,
        appendMaxTimestamp,
        appendLastOffset: next - 1,
        nowMs,
      });
      if (reason !== null) this.#roll(reason);
      this.#active.append(records, stored);
    });
    producerAppend.commit();
    this.#unflushedRecords += recordCount;
    this.#mutate('flush', () => this.#flushByPolicy(nowMs));
    this.#checkInvariants();
    return {
      baseOffset,
      lastOffset: next - 1,
      logAppendTimeMs: logAppendTime ? nowMs : -1,
      logStartOffset: this.#logStartOffset,
      recordCount,
      duplicate: false,
    };
  }

  /** Closes the active segment and starts a new one at the log end. */
  #roll(reason: string): void {
    const old = this.#active;
    const baseOffset = old.nextOffset;
    this.#faults('roll', old.logFile);
    old.close();
    this.#producers.takeSnapshot(baseOffset);
    this.#segments.push(LogSegment.create(this.dir, baseOffset, this.#config, this.#now(), this.#faults, this.#random));
    this.#flushRolled(old, baseOffset);
    this.#logger.info('rolled segment', { dir: this.dir, closed: old.baseOffset, next: baseOffset, reason, bytes: old.sizeBytes });
  }

  /**
   * fsyncs a rolled segment off the event loop, then moves the recovery point past it, so a crash
   * only re-checks the segments after it. Done in the background, as Kafka does: fsyncing a full
   * 1 GiB segment takes about a second, which on the event loop would stall every client. Until it
   * completes the recovery point stays where it was, so a crash meanwhile re-checks the rolled
   * segment too. A failure takes the log offline, as a failed synchronous flush does.
   */
  #flushRolled(segment: LogSegment, upTo: number): void {
    const done = segment.flushInBackground().then(
      () => {
        if (this.#state !== 'open' || this.#failure !== null || upTo <= this.#recoveryPoint) return;
        try {
          this.#recoveryPoint = upTo;
          this.#writeRecoveryPoint();
        } catch (e) {
          this.#fail('roll', e);
        }
      },
      (e: unknown) => {
        if (this.#state !== 'open' || this.#failure !== null) return;
        this.#fail('roll flush', e);
      },
    );
    this.#pendingFlushes.add(done);
    void done.finally(() => this.#pendingFlushes.delete(done));
  }

  /** Resolves once every background flush of rolled segments started so far has finished. */
  async flushesSettled(): Promise<void> {
    await Promise.all([...this.#pendingFlushes]);
  }

  // -------------------------------------------------------------------------------------------------
  // Read

  /**
   * Whole batches from the one holding `fetchOffset`, never one ending at or beyond
   * `maxOffsetExclusive` (the high watermark or last stable offset), within `maxBytes` except that
   * with `minOneBatch` the first batch is returned even when larger. Reads continue into later
   * segments. Batches are CRC-checked as they are read back unless `verifyCrc` is false: the fetch
   * path passes false, because every client checks the CRC of what it receives (as Kafka, which
   * sends segment bytes unread), and the check costs about a tenth of the broker's time when
   * consumers read at full speed. Internal readers (the group coordinator's load) keep it.
   */
  read(fetchOffset: number, maxBytes: number, maxOffsetExclusive: number, minOneBatch: boolean, verifyCrc = true, alloc?: (bytes: number) => Buffer): ReadResult {
    this.#checkUsable();
    assert.ok(Number.isSafeInteger(fetchOffset) && Number.isSafeInteger(maxOffsetExclusive), 'read offsets must be integers');
    assert.ok(Number.isSafeInteger(maxBytes) && maxBytes >= 0, `maxBytes ${maxBytes}`);
    const logEnd = this.logEndOffset;
    if (fetchOffset < this.#logStartOffset || fetchOffset > logEnd) {
      throw new LogError('OFFSET_OUT_OF_RANGE', `fetch offset ${fetchOffset} is outside the log [${this.#logStartOffset}, ${logEnd}]`);
    }
    if (fetchOffset < this.localLogStartOffset) {
      // Kafka's answer to a follower; a consumer's fetch is served from the bucket before it gets here.
      throw new LogError('OFFSET_MOVED_TO_TIERED_STORAGE', `fetch offset ${fetchOffset} is below the local log start ${this.localLogStartOffset}; it is in tiered storage`);
    }
    const bound = Math.min(maxOffsetExclusive, logEnd);
    if (fetchOffset >= bound) return { records: EMPTY, firstOffset: fetchOffset, bytes: 0 };
    try {
      const parts: Buffer[] = [];
      let total = 0;
      let firstOffset = fetchOffset;
      for (let i = this.#segmentIndexFor(fetchOffset); i < this.#segments.length; i++) {
        const seg = this.#segments[i]!;
        const start = seg.translateOffset(total === 0 ? fetchOffset : seg.baseOffset);
        if (start === null) continue;
        // A batch counts as readable only when all of it lies below the bound, as in Kafka, where the
        // bound is the position of the batch holding the high watermark.
        if (start.lastOffset >= bound) break;
        let budget = maxBytes - total;
        if (total === 0 && minOneBatch) budget = Math.max(budget, start.size);
        if (start.size > budget) break;
        const chunk = seg.read(start.position, Math.min(budget, seg.sizeBytes - start.position), alloc);
        const it = iterateBatches(chunk, { verifyCrc });
        let used = 0;
        let stopped = false;
        for (const rb of it) {
          if (Number(rb.header.baseOffset) + rb.header.lastOffsetDelta >= bound) {
            stopped = true;
            break;
          }
          if (total + used === 0) firstOffset = Number(rb.header.baseOffset);
          used = rb.position + rb.bytes.length;
        }
        if (used > 0) {
          parts.push(chunk.subarray(0, used));
          total += used;
        }
        // Stop unless this segment was read to its end.
        if (stopped || it.partial !== null || start.position + used < seg.sizeBytes) break;
      }
      const records = parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
      return { records, firstOffset, bytes: total };
    } catch (e) {
      throw this.#readFailure('read', e);
    }
  }

  /** The segment that would hold `offset`: the last one whose base offset is <= offset. */
  #segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.#segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * ListOffsets by timestamp: the first record at or after the log start whose timestamp is >= the
   * target, searched in the first segment whose largest timestamp reaches it. Null when none does.
   * The caller hides offsets at or above the high watermark.
   */
  offsetForTimestamp(targetMs: number): TimestampAndOffset | null {
    this.#checkUsable();
    assert.ok(Number.isSafeInteger(targetMs), `timestamp ${targetMs}`);
    try {
      for (const seg of this.#segments) {
        if (seg.maxTimestamp < targetMs || seg.nextOffset <= this.#logStartOffset) continue;
        const found = seg.findOffsetByTimestamp(targetMs, this.#logStartOffset, decompressedBatchBytesMax(this.#config));
        if (found !== null) return found;
      }
      return null;
    } catch (e) {
      throw this.#readFailure('offsetForTimestamp', e);
    }
  }

  /** ListOffsets MAX_TIMESTAMP (-3): the first record carrying the largest timestamp, or null. */
  maxTimestampOffset(): TimestampAndOffset | null {
    this.#checkUsable();
    let best: LogSegment | null = null;
    for (const seg of this.#segments) {
      if (seg.maxTimestamp >= 0 && (best === null || seg.maxTimestamp > best.maxTimestamp)) best = seg;
    }
    if (best === null) return null;
    try {
      return best.maxTimestampRecord(decompressedBatchBytesMax(this.#config));
    } catch (e) {
      throw this.#readFailure('maxTimestampOffset', e);
    }
  }

  /** OffsetForLeaderEpoch (see LeaderEpochCache.endOffsetFor). */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    this.#checkUsable();
    return this.#epochs.endOffsetFor(epoch, this.logEndOffset);
  }

  // -------------------------------------------------------------------------------------------------
  // Deletion

  /**
   * DeleteRecords: moves the log start offset up to `offset` (at most the high watermark, else
   * OFFSET_OUT_OF_RANGE), persisting it, then deletes segments wholly below it. Returns the new log
   * start offset.
   */
  deleteRecordsBefore(offset: number): number {
    this.#checkUsable();
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.#highWatermark) {
      throw new LogError('OFFSET_OUT_OF_RANGE', `cannot move the log start to ${offset}: the high watermark is ${this.#highWatermark}`);
    }
    if (offset <= this.#logStartOffset) return this.#logStartOffset;
    this.#mutate('deleteRecords', () => {
      this.#setLogStartOffset(offset);
      this.#deleteSegmentsWhile((_seg, next) => next.baseOffset <= this.#logStartOffset, 'log start offset');
    });
    this.#checkInvariants();
    return this.#logStartOffset;
  }

  /**
   * retention.ms then retention.bytes, over closed segments only (never the active one, and never one
   * holding data at or above the high watermark), oldest first. Returns how many segments went.
   */
  deleteSegmentsByRetention(): number {
    this.#checkUsable();
    if (this.#config.remoteStorageEnable) return this.#deleteLocalSegmentsByRetention();
    let deleted = 0;
    this.#mutate('retention', () => {
      const { retentionMs, retentionBytes, cleanupPolicy } = this.#config;
      // Under cleanup.policy=compact alone, only the log start offset deletes segments.
      if (retentionMs >= 0 && cleanupPolicy.delete) {
        const nowMs = this.#now();
        // Age by the segment's largest timestamp, as Kafka does (file mtime when it has none).
        deleted += this.#deleteSegmentsWhile((seg) => nowMs - seg.largestTimestampForRetention() > retentionMs, 'retention.ms');
      }
      if (retentionBytes >= 0 && cleanupPolicy.delete) {
        let excess = this.sizeBytes() - retentionBytes;
        deleted += this.#deleteSegmentsWhile((seg) => {
          if (excess - seg.sizeBytes < 0) return false;
          excess -= seg.sizeBytes;
          return true;
        }, 'retention.bytes');
      }
      deleted += this.#deleteSegmentsWhile((_seg, next) => next.baseOffset <= this.#logStartOffset, 'log start offset');
    });
    this.#checkInvariants();
    return deleted;
  }

  // -------------------------------------------------------------------------------------------------
  // Compaction (the rules are in cleaner.ts)

  /** Where the next compaction pass would start and end, and whether it is due. */
  cleaningPlan(): CleaningPlan {
    this.#checkUsable();
    return planCleaning({
      segments: this.#segments.slice(0, -1).map((s) => ({ baseOffset: s.baseOffset, nextOffset: s.nextOffset, sizeBytes: s.sizeBytes, maxTimestamp: s.maxTimestamp })),
      logStartOffset: this.#logStartOffset,
      highWatermark: this.#highWatermark,
      firstDirtyOffset: this.#firstDirtyOffset,
      nowMs: this.#now(),
      minCleanableDirtyRatio: this.#config.minCleanableDirtyRatio,
      minCompactionLagMs: this.#config.minCompactionLagMs,
      maxCompactionLagMs: this.#config.maxCompactionLagMs,
    });
  }

  /** The cleaner checkpoint. */
  get firstDirtyOffset(): number {
    return this.#firstDirtyOffset;
  }

  /**
   * One compaction pass, if due (or forced): maps the dirty part's keys to their latest offsets,
   * then rewrites each closed segment up to the cleanable end that has something to drop, replacing
   * it through a `.cleaned` then `.swap` file so that a crash at any moment leaves the old segment or
   * the new one (the loader finishes an interrupted swap). The work is cut into chunks with `pace`
   * between them, so appends and fetches go on meanwhile; a pass whose segment was deleted under it
   * (retention, DeleteRecords) or whose log was closed stops and returns null. Returns null when
   * nothing was due.
   */
  async compact(opts: CompactOptions): Promise<CompactionResult | null> {
    if (this.#compacting || !this.#config.cleanupPolicy.compact) return null;
    const plan = this.cleaningPlan();
    if (plan.reason === null && !(opts.force === true && plan.cleanableEndOffset > plan.firstDirtyOffset)) return null;
    this.#compacting = true;
    try {
      return await this.#compactPass(plan, opts);
    } finally {
      this.#compacting = false;
    }
  }

  async #compactPass(plan: CleaningPlan, opts: CompactOptions): Promise<CompactionResult | null> {
    const started = performance.now();
    const nowMs = this.#now();
    const maxDecompressedBytes = decompressedBatchBytesMax(this.#config);
    const live = (seg: LogSegment) => this.#state === 'open' && this.#failure === null && this.#segments.includes(seg) && seg !== this.#active;
    let bytesRead = 0;
    let sincePace = 0;
    const account = async (n: number): Promise<void> => {
      bytesRead += n;
      sincePace += n;
      if (sincePace >= COMPACTION_CHUNK_BYTES) {
        const chunk = sincePace;
        sincePace = 0;
        await opts.pace(chunk);
      }
    };

    // 1. The offset map over the dirty part, one segment at a time; a segment whose keys would not
    //    fit ends the pass there (the first one is always taken, so every pass makes progress).
    const map = new OffsetMap(opts.maxMapEntries);
    let end = plan.firstDirtyOffset;
    for (const seg of this.#segments.slice(0, -1)) {
      if (seg.nextOffset <= plan.firstDirtyOffset) continue;
      if (seg.nextOffset > plan.cleanableEndOffset) break;
      const segMap = new OffsetMap(Number.MAX_SAFE_INTEGER);
      for (const sb of seg.batchesFrom(0)) {
        if (sb.isControl || sb.lastOffset < plan.firstDirtyOffset) continue;
        const bytes = seg.read(sb.position, sb.size);
        for (const r of readRecords(bytes, { maxDecompressedBytes })) {
          if (r.key !== null && Number(r.offset) >= plan.firstDirtyOffset) segMap.put(r.key, Number(r.offset));
        }
        await account(sb.size);
        if (!live(seg)) return null;
      }
      if (end > plan.firstDirtyOffset && map.size + map.newKeys(segMap) > map.maxEntries) break;
      map.merge(segMap);
      end = seg.nextOffset;
    }
    if (end <= plan.firstDirtyOffset) return null;

    // 2. Rewrite the segments below `end` that have anything to drop.
    const ctx = {
      map,
      nowMs,
      deleteRetentionMs: this.#config.deleteRetentionMs,
      maxDecompressedBytes,
      isLastBatchOfProducer: (producerId: bigint, lastOffset: number) => this.#producers.get(producerId)?.batches.at(-1)?.lastOffset === lastOffset,
    };
    let segmentsRewritten = 0;
    let bytesBefore = 0;
    let bytesAfter = 0;
    let recordsRemoved = 0;
    for (const seg of this.#segments.slice(0, -1)) {
      if (seg.nextOffset > end) break;
      if (!live(seg)) continue;
      const cleaned = seg.logFile + CLEANED_SUFFIX;
      unlinkIfExists(cleaned);
      let fd = openSync(cleaned, 'wx');
      let written = 0;
      let changed = false;
      let removedHere = 0;
      try {
        for (const sb of seg.batchesFrom(0)) {
          const bytes = seg.read(sb.position, sb.size);
          const rb: RecordBatch | undefined = iterateBatches(bytes, { verifyCrc: true }).next().value;
          if (rb === undefined) throw new CorruptRecordError(`${seg.logFile}: no batch at byte ${sb.position}`);
          const f = filterBatch(rb, ctx);
          if (!f.unchanged) changed = true;
          removedHere += f.recordsRemoved;
          if (f.bytes !== null) {
            writeFully(fd, f.bytes, written);
            written += f.bytes.length;
          }
          await account(sb.size);
          if (!live(seg)) {
            closeSync(fd);
            fd = -1;
            unlinkIfExists(cleaned);
            return null;
          }
        }
        if (!changed) {
          closeSync(fd);
          fd = -1;
          unlinkIfExists(cleaned);
          continue;
        }
        this.#faults('clean', `${cleaned} written`);
        fsyncSync(fd);
        closeSync(fd);
        fd = -1;
      } catch (e) {
        if (fd >= 0) closeSync(fd);
        unlinkIfExists(cleaned);
        throw e;
      }
      const before = seg.sizeBytes;
      this.#mutate('compaction', () => this.#swapCleaned(seg, cleaned, written));
      segmentsRewritten++;
      bytesBefore += before;
      bytesAfter += written;
      recordsRemoved += removedHere;
    }
    this.#mutate('compaction', () => writeOffsetCheckpoint(this.dir, CLEANER_CHECKPOINT_FILE, end, this.#faults));
    this.#firstDirtyOffset = end;
    this.#checkInvariants();
    const result = {
      firstDirtyOffset: plan.firstDirtyOffset,
      endOffset: end,
      segmentsRewritten,
      bytesRead,
      bytesBefore,
      bytesAfter,
      recordsRemoved,
      durationMs: Math.round(performance.now() - started),
    };
    this.#logger.info('compacted', { dir: this.dir, reason: plan.reason ?? 'forced', ...result });
    return result;
  }

  /**
   * Puts a cleaned file in place of `seg`: rename to `.swap`, delete the old segment (indexes first),
   * rename the swap file to the segment's name, then rebuild its indexes from the data. A crash
   * between any two steps is finished by the loader: a `.swap` file whose segment is gone, or still
   * there, becomes the segment; a `.cleaned` file is deleted.
   */
  #swapCleaned(seg: LogSegment, cleaned: string, bytes: number): void {
    const i = this.#segments.indexOf(seg);
    assert.ok(i >= 0 && i < this.#segments.length - 1, `${seg.logFile} is not a closed segment of ${this.dir}`);
    const swap = seg.logFile + SWAP_SUFFIX;
    renameSync(cleaned, swap);
    fsyncDir(this.dir);
    this.#faults('clean', `${swap} renamed`);
    this.#retire(seg);
    this.#faults('clean', `${seg.logFile} deleted`);
    renameSync(swap, seg.logFile);
    fsyncDir(this.dir);
    if (bytes === 0 && i > 0) {
      // Nothing left: the offsets become a gap between its neighbours.
      unlinkIfExists(seg.logFile);
      fsyncDir(this.dir);
      this.#segments.splice(i, 1);
      return;
    }
    const fresh = LogSegment.open(this.dir, seg.baseOffset, this.#config, this.#now(), this.#faults, this.#random);
    fresh.recover();
    this.#segments[i] = fresh;
  }

  /**
   * A tiered log's local retention: local.retention.ms then local.retention.bytes (-2: retention.*),
   * over segments whose upload is recorded only, so a backlog of uploads keeps local segments past
   * local retention rather than lose them. The log start offset stays where it is (the data is in
   * the bucket); segments wholly below it go whatever their upload state. Whole-log retention of
   * uploaded data is the tiered manager's (remote retention), which moves the log start. With
   * remote.log.copy.disable, retention.* applies instead, to every closed segment; deleting one
   * never uploaded moves the log start up to the new local start.
   */
  #deleteLocalSegmentsByRetention(): number {
    let deleted = 0;
    this.#mutate('retention', () => {
      const c = this.#config;
      // With uploads stopped (remote.log.copy.disable, KIP-950) the whole log's retention applies
      // to local segments too, uploaded or not: waiting for uploads that never come would grow the
      // disk without bound.
      const copying = !c.remoteLogCopyDisable;
      const localMs = c.localRetentionMs === -2 || !copying ? c.retentionMs : c.localRetentionMs;
      const localBytes = c.localRetentionBytes === -2 || !copying ? c.retentionBytes : c.localRetentionBytes;
      // Set when a segment without a copy in the bucket goes (possible only with copying off).
      let gap = false;
      const uploaded = (seg: LogSegment) => {
        if (seg.nextOffset <= this.#uploadedBelow) return true;
        gap ||= !copying;
        return !copying;
      };
      if (localMs >= 0) {
        const nowMs = this.#now();
        deleted += this.#deleteSegmentsWhile((seg) => nowMs - seg.largestTimestampForRetention() > localMs && uploaded(seg), copying ? 'local.retention.ms' : 'retention.ms', false);
      }
      if (localBytes >= 0) {
        let excess = this.sizeBytes() - localBytes;
        deleted += this.#deleteSegmentsWhile((seg) => {
          if (excess - seg.sizeBytes < 0 || !uploaded(seg)) return false;
          excess -= seg.sizeBytes;
          return true;
        }, copying ? 'local.retention.bytes' : 'retention.bytes', false);
      }
      // A segment deleted without a copy in the bucket leaves a gap below the local start: the log
      // start moves up to it (that data was past the whole log's retention anyway), and remote
      // retention then removes the remote segments below.
      if (gap && this.localLogStartOffset > this.#logStartOffset) this.#setLogStartOffset(this.localLogStartOffset);
      deleted += this.#deleteSegmentsWhile((_seg, next) => next.baseOffset <= this.#logStartOffset, 'log start offset', true);
    });
    this.#checkInvariants();
    return deleted;
  }

  /**
   * Deletes the oldest segments while `shouldDelete` holds; returns how many. With `moveLogStart`
   * the log start follows (plain retention); a tiered log's local retention leaves it, since the
   * deleted data stays readable from the bucket.
   */
  #deleteSegmentsWhile(shouldDelete: (seg: LogSegment, next: LogSegment) => boolean, reason: string, moveLogStart = true): number {
    let count = 0;
    while (count < this.#segments.length - 1) {
      const seg = this.#segments[count]!;
      const next = this.#segments[count + 1]!;
      // Data at or above the high watermark is not committed; never delete it.
      if (next.baseOffset > this.#highWatermark || !shouldDelete(seg, next)) break;
      count++;
    }
    if (count === 0) return 0;
    const doomed = this.#segments.slice(0, count);
    const newStart = this.#segments[count]!.baseOffset;
    // The new start is on disk before any file goes, so a crash in between never exposes a hole.
    if (moveLogStart && newStart > this.#logStartOffset) this.#setLogStartOffset(newStart);
    for (const seg of doomed) {
      this.#retire(seg);
      this.#segments.shift();
    }
    this.#producers.deleteSnapshotsBefore(this.#segments[0]!.baseOffset);
    this.#logger.info('deleted segments', { dir: this.dir, reason, count, baseOffsets: doomed.map((s) => s.baseOffset) });
    return count;
  }

  /**
   * Takes a segment out of use for good: its files become `*.deleted` now and are removed after
   * file.delete.delay.ms (at once when it is 0), as Kafka does, so that whoever still holds the
   * segment (a compaction pass between two chunks) can finish with it. The caller drops it from
   * #segments. A crash meanwhile leaves `*.deleted` files, which the next load removes.
   */
  #retire(seg: LogSegment): void {
    const files = seg.renameForDeletion();
    const pending: PendingDeletion = { segment: seg, files, cancel: () => {} };
    const delayMs = this.#config.fileDeleteDelayMs;
    if (delayMs === 0) {
      this.#removeFiles(pending);
      return;
    }
    this.#pendingDeletions.add(pending);
    pending.cancel = this.#schedule(delayMs, () => {
      this.#pendingDeletions.delete(pending);
      try {
        this.#removeFiles(pending);
      } catch (e) {
        // The files are out of the log already; one left behind is removed at the next start.
        this.#logger.warn('removing the files of a deleted segment failed', { dir: this.dir, files, err: e });
      }
    });
  }

  #removeFiles(p: PendingDeletion): void {
    p.segment.release();
    for (const f of p.files) {
      this.#faults('delete', f);
      unlinkIfExists(f);
    }
  }

  /** Files of removed segments still waiting for file.delete.delay.ms (tests). */
  pendingDeletedFiles(): string[] {
    return [...this.#pendingDeletions].flatMap((p) => p.files);
  }

  /** Stops the timers of pending deletions and closes their descriptors; with `remove`, removes
   *  the files now (a closing log: nothing can read them any more). */
  #settlePendingDeletions(remove: boolean): void {
    for (const p of this.#pendingDeletions) {
      p.cancel();
      if (remove) this.#removeFiles(p);
      else p.segment.release();
    }
    this.#pendingDeletions.clear();
  }

  #setLogStartOffset(offset: number): void {
    assert.ok(offset >= this.#logStartOffset && offset <= this.#highWatermark, `log start ${offset}`);
    writeOffsetCheckpoint(this.dir, LOG_START_OFFSET_FILE, offset, this.#faults);
    this.#logStartOffset = offset;
    this.#epochs.truncateFromStart(offset);
  }

  // -------------------------------------------------------------------------------------------------
  // Flush, close, delete

  /** fsyncs everything appended and records the recovery point and high watermark. */
  flush(): void {
    this.#checkUsable();
    this.#mutate('flush', () => {
      this.#flushData();
      this.#writeRecoveryPoint();
      writeOffsetCheckpoint(this.dir, HIGH_WATERMARK_FILE, this.#highWatermark, this.#faults);
    });
  }

  /** Flushes if flush.ms has passed since the last flush and data is waiting; for a broker timer. */
  flushIfDue(): boolean {
    this.#checkUsable();
    if (this.#unflushedRecords === 0 || this.#now() - this.#lastFlushMs < this.#config.flushMs) return false;
    this.flush();
    return true;
  }

  #flushByPolicy(nowMs: number): void {
    if (this.#unflushedRecords < this.#config.flushMessages && nowMs - this.#lastFlushMs < this.#config.flushMs) return;
    this.#flushData();
    if (nowMs - this.#recoveryPointWrittenMs >= RECOVERY_POINT_CHECKPOINT_INTERVAL_MS) this.#writeRecoveryPoint();
  }

  #flushData(): void {
    const end = this.logEndOffset;
    for (const seg of this.#segments) if (seg.nextOffset > this.#recoveryPoint) seg.flush();
    this.#recoveryPoint = end;
    this.#unflushedRecords = 0;
    this.#lastFlushMs = this.#now();
  }

  #writeRecoveryPoint(): void {
    writeOffsetCheckpoint(this.dir, RECOVERY_POINT_FILE, this.#recoveryPoint, this.#faults);
    this.#recoveryPointWrittenMs = this.#now();
  }

  /**
   * Flushes, writes the producer snapshot and checkpoints, and last the clean-shutdown marker, so the
   * next open trusts the files. A log taken offline by a failure closes without the marker.
   */
  close(): void {
    if (this.#state !== 'open') return;
    try {
      if (this.#failure === null) {
        const end = this.logEndOffset;
        this.#active.writeFinalTimeIndexEntry();
        this.#flushData();
        this.#writeRecoveryPoint();
        writeOffsetCheckpoint(this.dir, HIGH_WATERMARK_FILE, this.#highWatermark, this.#faults);
        writeOffsetCheckpoint(this.dir, LOG_START_OFFSET_FILE, this.#logStartOffset, this.#faults);
        this.#producers.takeSnapshot(end);
        this.#settlePendingDeletions(true);
        writeFileAtomic(this.dir, CLEAN_SHUTDOWN_FILE, formatCheckpoint([[end]]), this.#faults);
        this.#logger.info('partition log closed', { dir: this.dir, logEndOffset: end });
      }
    } catch (e) {
      if (e instanceof AssertionError) throw e;
      throw storageError(`closing partition log ${this.dir} failed`, e);
    } finally {
      this.#settlePendingDeletions(false);
      if (!this.#released) for (const s of this.#segments) s.release();
      this.#state = 'closed';
    }
  }

  /** Removes the partition directory (DeleteTopics). The log is unusable afterwards. */
  delete(): void {
    assert.notEqual(this.#state, 'deleted', `${this.dir} deleted twice`);
    if (this.#state === 'open') {
      this.#settlePendingDeletions(false);
      if (!this.#released) for (const s of this.#segments) s.release();
    }
    this.#state = 'deleted';
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch (e) {
      throw storageError(`deleting partition log ${this.dir} failed`, e);
    }
    this.#logger.info('partition log deleted', { dir: this.dir });
  }

  // -------------------------------------------------------------------------------------------------
  // Failure handling and invariants

  #checkUsable(): void {
    assert.equal(this.#state, 'open', `partition log ${this.dir} used after ${this.#state === 'closed' ? 'close' : 'delete'}`);
    if (this.#failure !== null) {
      throw storageError(`partition log ${path.basename(this.dir)} is offline after an I/O failure; reopen it to recover`, this.#failure);
    }
  }

  /** Runs a change to files; an I/O failure in it takes the log offline. */
  #mutate(op: string, change: () => void): void {
    try {
      change();
    } catch (e) {
      if (e instanceof AssertionError || e instanceof LogError) throw e;
      this.#fail(op, e);
      throw storageError(`${op} on partition log ${this.dir} failed`, e);
    }
  }

  /**
   * A read that fails. Stored bytes that fail their CRC are reported as a storage error but do not take
   * the log offline (other offsets are still readable); other I/O failures do.
   */
  #readFailure(op: string, e: unknown): Error {
    if (e instanceof AssertionError || e instanceof LogError) return e;
    if (e instanceof CorruptRecordError) {
      this.#logger.warn('stored batch failed its checks on read', { dir: this.dir, op, err: e });
      return storageError(`${op} on partition log ${this.dir} found corrupt data`, e);
    }
    this.#fail(op, e);
    return storageError(`${op} on partition log ${this.dir} failed`, e);
  }

  /** Takes the log offline after an I/O failure and tells the owner. */
  #fail(op: string, e: unknown): void {
    this.#failure = e;
    this.#logger.warn('partition log failed, taking it offline until reopened', { dir: this.dir, op, err: e });
    this.#onFailure(e);
  }

  /**
   * Takes the log offline without touching its files again (its log directory failed): every later
   * call throws KAFKA_STORAGE_ERROR, the files are closed, and close() writes nothing. The next
   * open recovers it as after a crash.
   */
  abandon(cause: unknown): void {
    if (this.#state !== 'open' || this.#released) return;
    this.#failure ??= cause;
    this.#settlePendingDeletions(false);
    for (const s of this.#segments) s.release();
    this.#released = true;
  }

  #checkInvariants(): void {
    const end = this.logEndOffset;
    assert.ok(
      this.#logStartOffset <= this.#highWatermark && this.#highWatermark <= end,
      `offsets out of order: logStart ${this.#logStartOffset}, highWatermark ${this.#highWatermark}, logEnd ${end}`,
    );
    assert.ok(this.#recoveryPoint <= end, `recovery point ${this.#recoveryPoint} beyond log end ${end}`);
    assert.ok(this.#segments.length > 0 && this.#active.state === 'active', 'the last segment must be the active one');
    // A tiered log keeps its log start below the local segments once uploaded ones are deleted.
    assert.ok(this.#config.remoteStorageEnable || this.#segments[0]!.baseOffset <= this.#logStartOffset, 'the first segment starts above the log start');
  }
}
