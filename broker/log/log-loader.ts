// Opening a partition directory: finding the segments, deciding what to trust, recovering the rest,
// and rebuilding the leader epochs and producer state. Runs synchronously, once, in PartitionLog.open.
//
// Trust rules:
//   - A `clean-shutdown` marker (written last by close(), holding the log end offset) means every file
//     was flushed and closed: segments are loaded with cheap checks only (indexes entry by entry,
//     batch headers after the last index entry). A segment failing them is recovered; a last segment
//     ending elsewhere than the marker says sends the whole log down the unclean path.
//   - Otherwise the `recovery-point` checkpoint (the offset below which data was fsynced) splits the
//     log: segments wholly below it get the cheap checks, the rest are recovered (every batch CRC
//     checked, torn or corrupt tails cut, indexes rebuilt). After a segment had to be cut, the
//     segments after it are deleted: their offsets would follow a gap of lost data.
//   - The marker is removed once loading is done, so a crash from then on is seen as unclean.
import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CheckpointFormatError, TMP_SUFFIX, fsyncDir, readOffsetCheckpoint, unlinkIfExists } from './files.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { ProducerStateManager } from './producer-state.js';
import { DELETED_FILE_SUFFIX, LogSegment, parseSegmentFileName, type StoredBatch } from './segment.js';
import type { FaultInjector, LoadReport, LogConfig, LogLogger } from './types.js';

export const CLEAN_SHUTDOWN_FILE = 'clean-shutdown';
export const RECOVERY_POINT_FILE = 'recovery-point';
export const LOG_START_OFFSET_FILE = 'log-start-offset';
export const HIGH_WATERMARK_FILE = 'high-watermark';
/** Recovery logs a progress line per segment when it has at least this much to re-validate. */
const RECOVERY_PROGRESS_MIN_BYTES = 64 * 1024 * 1024;

export interface LoadOptions {
  dir: string;
  config: LogConfig;
  nowMs: () => number;
  logger: LogLogger;
  faults: FaultInjector;
  producerIdsMax?: number;
  /** Draws each segment's roll jitter (segment.jitter.ms); Math.random by default. */
  random?: () => number;
}

export interface LoadedLog {
  /** Ascending by base offset; the last one is active. */
  segments: LogSegment[];
  logStartOffset: number;
  recoveryPoint: number;
  highWatermark: number;
  producers: ProducerStateManager;
  epochs: LeaderEpochCache;
  report: LoadReport;
}

function readCheckpointOrNull(file: string, logger: LogLogger): number | null {
  try {
    return readOffsetCheckpoint(file);
  } catch (e) {
    if (!(e instanceof CheckpointFormatError)) throw e;
    logger.warn('checkpoint unreadable, ignoring it', { file, reason: e.message });
    return null;
  }
}

function loadEpochs(dir: string, faults: FaultInjector, logger: LogLogger): { cache: LeaderEpochCache; rebuild: boolean } {
  try {
    return { cache: LeaderEpochCache.load(dir, faults) ?? LeaderEpochCache.empty(dir, faults), rebuild: false };
  } catch (e) {
    if (!(e instanceof CheckpointFormatError || e instanceof RangeError)) throw e;
    logger.warn('leader epoch checkpoint unreadable, rebuilding it from the batches', { dir, reason: e.message });
    return { cache: LeaderEpochCache.empty(dir, faults), rebuild: true };
  }
}

export function loadLog(opts: LoadOptions): LoadedLog {
  const { dir, config, logger, faults } = opts;
  const random = opts.random ?? Math.random;
  const started = performance.now();
  mkdirSync(dir, { recursive: true });
  const report: LoadReport = {
    cleanShutdown: false,
    segmentsRecovered: 0,
    bytesTruncated: 0,
    segmentsDeleted: 0,
    indexesRebuilt: 0,
    producerSnapshotOffset: -1,
    producerBatchesReplayed: 0,
    durationMs: 0,
  };

  let names = readdirSync(dir);
  // Leftovers of atomic writes interrupted by a crash; the real file holds the previous version.
  for (const name of names) if (name.endsWith(TMP_SUFFIX)) unlinkIfExists(path.join(dir, name));
  // Segments removed from the log whose files were waiting for file.delete.delay.ms when the process
  // stopped: nothing can read them any more (as Kafka's loader, which deletes them too).
  let leftovers = 0;
  for (const name of names) {
    if (!name.endsWith(DELETED_FILE_SUFFIX)) continue;
    unlinkIfExists(path.join(dir, name));
    leftovers++;
  }
  if (leftovers > 0) {
    logger.info('removed files of deleted segments left from before the restart', { dir, files: leftovers });
    names = names.filter((n) => !n.endsWith(DELETED_FILE_SUFFIX));
  }
  // Compaction interrupted by a crash (PartitionLog.#swapCleaned): a `.cleaned` file was never
  // complete, and the segment it was for is intact; a `.swap` file is complete, so the swap is
  // finished: the old segment (if still there) goes, indexes first, and the swap file takes its name.
  // Its indexes are then missing, so the segment is recovered below.
  let swapped = false;
  for (const name of names) {
    if (name.endsWith('.log.cleaned')) {
      logger.warn('deleting an unfinished compaction file', { file: name });
      unlinkIfExists(path.join(dir, name));
      swapped = true;
    }
    const m = /^(\d{20})\.log\.swap$/.exec(name);
    if (m === null) continue;
    const log = path.join(dir, `${m[1]}.log`);
    logger.warn('finishing a compaction swap interrupted by a crash', { file: name, replaced: existsSync(log) });
    unlinkIfExists(path.join(dir, `${m[1]}.index`));
    unlinkIfExists(path.join(dir, `${m[1]}.timeindex`));
    renameSync(path.join(dir, name), log);
    swapped = true;
  }
  if (swapped) {
    fsyncDir(dir);
    names = readdirSync(dir);
  }
  const bases = names.map(parseSegmentFileName).filter((b): b is number => b !== null).sort((a, b) => a - b);
  const baseSet = new Set(bases);
  for (const name of names) {
    const m = /^(\d{20})\.(index|timeindex)$/.exec(name);
    if (m !== null && !baseSet.has(Number(m[1]))) {
      // An index without its .log: a deletion interrupted after the data went.
      logger.warn('deleting an index file without a segment', { file: name });
      unlinkIfExists(path.join(dir, name));
    }
  }

  const marker = readCheckpointOrNull(path.join(dir, CLEAN_SHUTDOWN_FILE), logger);
  const recoveryPointChecked = readCheckpointOrNull(path.join(dir, RECOVERY_POINT_FILE), logger);
  const logStartChecked = readCheckpointOrNull(path.join(dir, LOG_START_OFFSET_FILE), logger);
  const highWatermarkChecked = readCheckpointOrNull(path.join(dir, HIGH_WATERMARK_FILE), logger);
  const { cache: epochs, rebuild: rebuildEpochs } = loadEpochs(dir, faults, logger);
  logger.info('loading partition log', { dir, segments: bases.length, cleanShutdown: marker !== null });

  const nowMs = opts.nowMs();
  let segments: LogSegment[] = [];
  try {
    for (const base of bases) segments.push(LogSegment.open(dir, base, config, nowMs, faults, random));

    const assignEpoch = (b: StoredBatch) => {
      if (b.partitionLeaderEpoch >= 0 && b.partitionLeaderEpoch > epochs.latestEpoch()) epochs.assign(b.partitionLeaderEpoch, b.baseOffset);
    };
    const recoverSegment = (seg: LogSegment, why: string): number => {
      const truncated = seg.recover(assignEpoch);
      report.segmentsRecovered++;
      report.bytesTruncated += truncated;
      if (truncated > 0) logger.warn('cut a torn or corrupt segment tail', { file: seg.logFile, bytes: truncated, why });
      return truncated;
    };
    const loadTrusted = (seg: LogSegment): void => {
      const problem = seg.load();
      if (problem === null) return;
      logger.warn('segment failed its load checks, recovering it', { file: seg.logFile, problem });
      report.indexesRebuilt++;
      recoverSegment(seg, problem);
    };

    let clean = marker !== null;
    if (clean) {
      for (const seg of segments) loadTrusted(seg);
      const end = segments.at(-1)?.nextOffset ?? 0;
      if (segments.length > 0 && end !== marker) {
        logger.warn('log end differs from the clean-shutdown marker, recovering as after a crash', { dir, marker, end });
        clean = false;
      }
    }
    if (!clean) {
      const recoveryPoint = recoveryPointChecked ?? 0;
      const firstToRecover = segments.findIndex((_s, i) => (segments[i + 1]?.baseOffset ?? Number.POSITIVE_INFINITY) > recoveryPoint);
      for (const seg of segments.slice(0, Math.max(firstToRecover, 0))) loadTrusted(seg);
      if (firstToRecover >= 0) {
        // Epochs at or after the first unflushed segment are re-derived from its batches.
        epochs.truncateFromEnd(segments[firstToRecover]!.baseOffset);
        const toRecover = segments.slice(firstToRecover);
        const bytes = toRecover.reduce((n, s) => n + s.sizeBytes, 0);
        const progress = bytes >= RECOVERY_PROGRESS_MIN_BYTES;
        logger.info('recovering unflushed segments', { dir, recoveryPoint, segments: toRecover.length, bytes });
        for (let i = 0; i < toRecover.length; i++) {
          const seg = toRecover[i]!;
          const truncated = recoverSegment(seg, 'after the recovery point');
          if (progress) logger.info('recovered segment', { file: seg.logFile, done: i + 1, of: toRecover.length });
          if (truncated > 0) {
            const doomed = toRecover.slice(i + 1);
            for (const d of doomed) {
              logger.warn('deleting a segment that follows a corrupt one', { file: d.logFile });
              d.deleteFiles();
            }
            report.segmentsDeleted += doomed.length;
            segments = segments.filter((s) => !doomed.includes(s));
            break;
          }
        }
      }
    }
    report.cleanShutdown = clean;

    // A tiered log's start may lie below its first local segment (the rest is in the bucket), so
    // the checkpoint is kept; otherwise the first segment is the floor.
    let logStartOffset =
      config.remoteStorageEnable && logStartChecked !== null && logStartChecked !== undefined
        ? logStartChecked
        : Math.max(logStartChecked ?? 0, segments[0]?.baseOffset ?? 0);
    if (segments.length === 0) {
      segments.push(LogSegment.create(dir, logStartOffset, config, nowMs, faults, random));
    } else if (segments.at(-1)!.nextOffset < logStartOffset) {
      // Everything from the log start on was lost; what remains lies below the log start.
      logger.warn('log ends below its log start offset, starting empty at the log start', { dir, logStartOffset });
      for (const s of segments) s.deleteFiles();
      report.segmentsDeleted += segments.length;
      segments = [LogSegment.create(dir, logStartOffset, config, nowMs, faults, random)];
    } else {
      segments.at(-1)!.activate();
    }
    const logEndOffset = segments.at(-1)!.nextOffset;
    logStartOffset = Math.min(logStartOffset, logEndOffset);

    if (rebuildEpochs) {
      epochs.clearAndPersist();
      for (const seg of segments) for (const b of seg.batchesFrom(0)) assignEpoch(b);
    }
    epochs.truncateFromEnd(logEndOffset);
    epochs.truncateFromStart(logStartOffset);

    const producers = new ProducerStateManager(dir, {
      logger,
      faults,
      ...(opts.producerIdsMax !== undefined ? { producerIdsMax: opts.producerIdsMax } : {}),
    });
    producers.deleteSnapshotsAfter(logEndOffset);
    const snapshotOffset = producers.loadLatestSnapshot(logEndOffset);
    report.producerSnapshotOffset = snapshotOffset ?? -1;
    const replayFrom = snapshotOffset ?? segments[0]!.baseOffset;
    for (const seg of segments) {
      if (seg.nextOffset <= replayFrom) continue;
      const first = seg.translateOffset(replayFrom);
      if (first === null) continue;
      for (const b of seg.batchesFrom(first.position)) {
        if (b.lastOffset < replayFrom || b.producerId < 0n) continue;
        producers.replay(b);
        report.producerBatchesReplayed++;
      }
    }
    producers.deleteSnapshotsBefore(segments[0]!.baseOffset);

    const recoveryPoint = clean ? logEndOffset : Math.min(recoveryPointChecked ?? 0, logEndOffset);
    const highWatermark = Math.min(Math.max(highWatermarkChecked ?? logStartOffset, logStartOffset), logEndOffset);

    if (unlinkIfExists(path.join(dir, CLEAN_SHUTDOWN_FILE))) fsyncDir(dir);
    report.durationMs = Math.round(performance.now() - started);
    logger.info('partition log loaded', {
      dir,
      logStartOffset,
      logEndOffset,
      highWatermark,
      segments: segments.length,
      ...report,
    });
    return { segments, logStartOffset, recoveryPoint, highWatermark, producers, epochs, report };
  } catch (e) {
    for (const s of segments) if (s.state !== 'deleted') s.release();
    throw e;
  }
}
