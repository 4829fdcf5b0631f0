// The tiered storage driver, Strata's RemoteLogManager (Kafka's, KIP-405): for every tiered
// partition it uploads closed segments below the last stable offset, records them in the
// partition's manifest, tells the log what the bucket holds (so local retention may delete it),
// applies remote retention, and serves reads below the local log start.
//
// Per partition, one task at a time runs through these steps, each a manifest transition written
// before the next I/O:
//   load:   read the manifest; attempts left copy-started by a crash become delete-started; objects
//           no manifest entry names (a crash before copy-started was written) are deleted; then
//           delete-started attempts are finished.
//   upload: copy-started → put log (multipart when large), offset index, time index, producer
//           snapshot, leader epochs, empty transaction index → copy-finished → markUploadedBelow.
//           A failure abandons the attempt (delete-started, objects deleted, entry removed).
//   retain: oldest readable segments past retention.* → delete-started → objects deleted → gone,
//           then the log start follows.
// A failing task waits with exponential back-off (remote.log.manager.task.retry.backoff.*) and
// logs the upload backlog; local segments stay meanwhile, so nothing is lost, and hot reads and
// produce never wait on the store.
//
// Bounds: at most `copyConcurrency` uploads at once across partitions, `copyBytesPerSecond`
// overall, one part of `partBytes` in memory per upload; the read cache is `cacheBytes` in memory
// plus `cacheDisk.maxBytes` on disk (chunk-cache.ts), read-ahead bounded there too.
//
// Reads: a partition whose remote reads are sequential (a fetch starts where the last one ended)
// gets the next `readAheadChunks` chunks loaded in the background, and the next segment's first
// chunk when that reaches its segment's end. ListOffsets by timestamp searches the readable
// segments' uploaded time indexes. A deleted topic's objects are removed in the background
// (deleteTopic), retried until they are gone; so are those of a topic whose tiering was turned off
// (disableTopic, KIP-950). remote.log.copy.disable skips the upload step only.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TieredLogView, TieredSegment } from '../log/partition-log.js';
import { ChunkCache } from './chunk-cache.js';
import { newAttemptId, partitionPrefix, segmentObjectKeys } from './layout.js';
import { ManifestFencedError, ManifestStore, orphanKeys } from './manifest-store.js';
import { type ObjectStore, ObjectStoreError } from './object-store.js';
import { backoffMs, nextUpload, remoteRetention, uploadLag } from './plan.js';
import { RemoteReadError, type RemoteRead, RemoteSegmentReader, type TimestampAndOffset } from './remote-reader.js';
import {
  type PartitionManifest,
  type RemoteSegment,
  finishCopy,
  finishDelete,
  readable,
  remoteEndOffset,
  remoteStartOffset,
  segmentFor,
  startCopy,
  startDelete,
} from './remote-segments.js';

export interface TieredLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** What the manager reports; the server maps it onto Prometheus metrics. */
export interface TieredMetricsSink {
  copied(topic: string, bytes: number): void;
  remoteDeleted(topic: string, segments: number, bytes: number): void;
  remoteFetched(topic: string, bytes: number, seconds: number): void;
  error(operation: 'copy' | 'delete' | 'fetch' | 'load', kind: string): void;
}

export interface RemoteLogManagerOptions {
  store: ObjectStore;
  clusterId: string;
  logger: TieredLogger;
  metrics: TieredMetricsSink;
  nowMs?: () => number;
  taskIntervalMs: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  copyConcurrency: number;
  copyBytesPerSecond: number;
  partBytes: number;
  cacheBytes: number;
  /** The disk tier of the read cache; null or maxBytes 0: memory only. */
  cacheDisk?: { dir: string; maxBytes: number } | null;
  /** Chunks loaded ahead of a sequential reader; 0 turns read-ahead off. */
  readAheadChunks?: number;
}

/** A partition as the manager is given it. */
export interface TieredPartition {
  topic: string;
  topicId: string;
  partition: number;
  log: TieredLogView;
}

/** What a read below the local log start can throw: a Kafka error code as data. */
export class RemoteFetchError extends Error {
  override readonly name = 'RemoteFetchError';
  constructor(
    readonly code: 'OFFSET_OUT_OF_RANGE' | 'KAFKA_STORAGE_ERROR',
    readonly errorCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Task {
  p: TieredPartition;
  key: string;
  prefix: string;
  manifests: ManifestStore;
  /** Null until loaded, and again after a failure that may have left it stale. */
  manifest: PartitionManifest | null;
  /** The last manifest known to be in the bucket, for reads: kept through failures, so reads of
   *  cached data go on while the store is down. */
  readView: PartitionManifest | null;
  running: Promise<void> | null;
  failures: number;
  nextAttemptMs: number;
  /** Where the last remote read ended: a fetch starting here is sequential (read-ahead). */
  readNext: number;
  /** Set when its topic is deleted: the round stops at its next step. */
  deleted: boolean;
}

/** A simple counting semaphore: upload slots. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((r) => this.#waiting.push(r));
  }
  give(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#free++;
  }
}

/** Upload bandwidth: each upload waits until the bytes sent so far fit the rate. */
class RateLimit {
  #availableAtMs = 0;
  constructor(private readonly bytesPerSecond: number) {}
  async take(bytes: number, nowMs: number): Promise<void> {
    if (this.bytesPerSecond >= Number.MAX_SAFE_INTEGER) return;
    const start = Math.max(nowMs, this.#availableAtMs);
    this.#availableAtMs = start + (bytes * 1000) / this.bytesPerSecond;
    const wait = start - nowMs;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

const EMPTY = Buffer.alloc(0);

/** The kind of a failure, as metrics and logs label it. */
function errorKind(e: unknown): string {
  return e instanceof ObjectStoreError ? e.kind : e instanceof ManifestFencedError ? 'fenced' : 'other';
}

export class RemoteLogManager {
  readonly #o: RemoteLogManagerOptions;
  readonly #now: () => number;
  readonly #tasks = new Map<string, Task>();
  readonly #slots: Slots;
  readonly #rate: RateLimit;
  readonly cache: ChunkCache;
  readonly #reader: RemoteSegmentReader;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #partitions: () => Iterable<TieredPartition> = () => [];
  /** Topics whose remote objects are being deleted (deleted, or tiering turned off): no task runs
   *  for them meanwhile, so a re-enabled topic never uploads into a prefix still being emptied. */
  readonly #clearing = new Set<string>();

  constructor(opts: RemoteLogManagerOptions) {
    this.#o = opts;
    this.#now = opts.nowMs ?? Date.now;
    this.#slots = new Slots(opts.copyConcurrency);
    this.#rate = new RateLimit(opts.copyBytesPerSecond);
    this.cache = new ChunkCache(opts.cacheBytes, opts.cacheDisk ?? null);
    this.#reader = new RemoteSegmentReader(opts.store, this.cache);
  }

  /** Prepares the read cache's disk tier (its directory is wiped). Before start(). */
  init(): Promise<void> {
    return this.cache.init();
  }

  /** Runs a round every taskIntervalMs over the partitions `partitions` lists at that moment. */
  start(partitions: () => Iterable<TieredPartition>): void {
    this.#partitions = partitions;
    this.#timer = setInterval(() => this.runOnce(), this.#o.taskIntervalMs);
    this.#timer.unref();
    this.runOnce();
  }

  /** One round: starts the task of every due partition that is not already running one. */
  runOnce(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const seen = new Set<string>();
    const running: Promise<void>[] = [];
    for (const p of this.#partitions()) {
      if (!p.log.config.remoteStorageEnable || this.#clearing.has(p.topicId)) continue;
      const key = `${p.topicId}:${p.partition}`;
      seen.add(key);
      let t = this.#tasks.get(key);
      if (t === undefined || t.p.log !== p.log) {
        const prefix = partitionPrefix(this.#o.clusterId, p.topic, p.topicId, p.partition);
        t = { p, key, prefix, manifests: new ManifestStore(this.#o.store, prefix, p.topicId, p.partition), manifest: null, readView: null, running: null, failures: 0, nextAttemptMs: 0, readNext: -1, deleted: false };
        this.#tasks.set(key, t);
      }
      if (t.running !== null) {
        running.push(t.running);
        continue;
      }
      if (this.#now() < t.nextAttemptMs) continue;
      const task = t;
      task.running = this.#round(task).finally(() => {
        task.running = null;
      });
      running.push(task.running);
    }
    for (const key of this.#tasks.keys()) if (!seen.has(key)) this.#tasks.delete(key);
    return Promise.all(running).then(() => {});
  }

  /**
   * The topic was deleted: its partitions' tasks stop, then every object under the topic's prefix
   * (segments and manifests) is deleted in the background, retried with back-off until the bucket
   * holds none (or the manager stops). Returns at once; the promise it gives is for tests.
   */
  deleteTopic(topic: string, topicId: string): Promise<void> {
    return this.#clearTopic(topic, topicId, 'deleted topic');
  }

  /**
   * Tiered storage was turned off for the topic (remote.storage.enable=false with
   * remote.log.delete.on.disable=true, KIP-950): as for a deleted topic, its tasks stop and every
   * remote object of it is deleted in the background. Its logs have already moved their start up to
   * the local log start. Until the deletion is done no task runs for the topic, so turning tiering on
   * again waits for it and then uploads from an empty prefix.
   */
  disableTopic(topic: string, topicId: string): Promise<void> {
    return this.#clearTopic(topic, topicId, 'topic with tiered storage turned off');
  }

  #clearTopic(topic: string, topicId: string, what: string): Promise<void> {
    const stopping: Promise<void>[] = [];
    for (const [key, t] of this.#tasks) {
      if (t.p.topicId !== topicId) continue;
      t.deleted = true;
      if (t.running !== null) stopping.push(t.running);
      this.#tasks.delete(key);
    }
    const prefix = `${this.#o.clusterId}/${topic}-${topicId}/`;
    this.#clearing.add(topicId);
    const work = (async () => {
      // A round under way may still write; its objects must not outlive the deletion.
      await Promise.all(stopping);
      for (let attempt = 1; !this.#stopped; attempt++) {
        try {
          let deleted = 0;
          for (;;) {
            const keys: string[] = [];
            for await (const o of this.#o.store.list(prefix)) {
              keys.push(o.key);
              if (keys.length >= 1000) break;
            }
            if (keys.length === 0) break;
            await this.#o.store.delete(keys);
            deleted += keys.length;
          }
          this.cache.evictPrefix(prefix);
          if (deleted > 0 || attempt > 1) this.#o.logger.info(`deleted the remote objects of a ${what}`, { topic, topicId, objects: deleted, attempts: attempt });
          return;
        } catch (e) {
          this.#o.metrics.error('delete', e instanceof ObjectStoreError ? e.kind : 'other');
          const wait = backoffMs(attempt, this.#o.retryBackoffMs, this.#o.retryBackoffMaxMs, Math.random);
          this.#o.logger.warn(`deleting the remote objects of a ${what} failed; retrying with back-off`, { topic, topicId, attempt, retryInMs: wait, err: e });
          await new Promise((r) => setTimeout(r, wait).unref());
        }
      }
    })().finally(() => this.#clearing.delete(topicId));
    return work;
  }

  /** Stops scheduling and waits (at most `waitMs`) for running tasks to finish. */
  async stop(waitMs = 5_000): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    const running = [...this.#tasks.values()].map((t) => t.running).filter((r): r is Promise<void> => r !== null);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(running), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  /** Segments and bytes closed locally but not yet in the bucket, per partition; 0 while uploads
   *  are stopped (remote.log.copy.disable), as Kafka resets the copy lag when it stops copying. */
  *backlog(): Iterable<{ topic: string; partition: number; segments: number; bytes: number }> {
    for (const t of this.#tasks.values()) {
      if (!t.p.log.usable) continue;
      const lag = t.p.log.config.remoteLogCopyDisable ? { segments: 0, bytes: 0 } : uploadLag(t.p.log.closedSegments(), t.p.log.uploadedBelow);
      yield { topic: t.p.topic, partition: t.p.partition, ...lag };
    }
  }

  async #round(t: Task): Promise<void> {
    const log = t.p.log;
    try {
      if (!log.usable) return;
      if (t.manifest === null) await this.#load(t);
      // remote.log.copy.disable (KIP-950): no uploads, but what was uploaded stays readable and
      // remote retention goes on.
      while (!this.#stopped && !t.deleted && log.usable && !log.config.remoteLogCopyDisable && (await this.#uploadOne(t))) {
        // Upload every eligible segment in one round: a backlog drains at the store's pace.
      }
      if (!this.#stopped && !t.deleted && log.usable) await this.#retain(t);
      if (t.failures > 0) this.#o.logger.info('tiered storage caught up after failures', { topic: t.p.topic, partition: t.p.partition, failures: t.failures });
      t.failures = 0;
      t.nextAttemptMs = 0;
    } catch (e) {
      t.failures++;
      // The manifest in memory may be ahead of or behind the bucket's; reload next time.
      t.manifest = null;
      const wait = backoffMs(t.failures, this.#o.retryBackoffMs, this.#o.retryBackoffMaxMs, Math.random);
      t.nextAttemptMs = this.#now() + wait;
      const kind = errorKind(e);
      const lag = log.usable ? uploadLag(log.closedSegments(), log.uploadedBelow) : { segments: 0, bytes: 0 };
      // One line per failure streak step; the back-off bounds how often that is.
      this.#o.logger.warn('tiered storage task failed; retrying with back-off, local segments kept', {
        topic: t.p.topic,
        partition: t.p.partition,
        kind,
        failures: t.failures,
        retryInMs: wait,
        backlogSegments: lag.segments,
        backlogBytes: lag.bytes,
        err: e,
      });
    }
  }

  async #write(t: Task, next: PartitionManifest): Promise<void> {
    await t.manifests.write(next);
    t.manifest = next;
    t.readView = next;
  }

  async #load(t: Task): Promise<void> {
    try {
      let m = await t.manifests.load();
      t.manifest = m;
      t.readView = m;
      // An attempt a crash left copy-started is abandoned: its objects may be partial.
      for (const s of m.segments.filter((x) => x.state === 'copy-started')) {
        m = startDelete(m, s.id, this.#now());
        await this.#write(t, m);
      }
      // Objects of attempts that never made it into a manifest.
      const listed: string[] = [];
      for await (const o of this.#o.store.list(`${t.prefix}/segments/`)) listed.push(o.key);
      const orphans = orphanKeys(t.prefix, listed, new Set(m.segments.map((s) => s.id)));
      if (orphans.length > 0) {
        await this.#o.store.delete(orphans);
        this.#o.logger.info('deleted orphaned objects of failed uploads', { topic: t.p.topic, partition: t.p.partition, objects: orphans.length });
      }
      await this.#finishDeletes(t);
      this.#syncLog(t);
    } catch (e) {
      this.#o.metrics.error('load', e instanceof ObjectStoreError ? e.kind : 'other');
      throw e;
    }
  }

  /** Deletes the objects of every delete-started entry, then the entries. */
  async #finishDeletes(t: Task): Promise<void> {
    for (const s of t.manifest!.segments.filter((x) => x.state === 'delete-started')) {
      await this.#o.store.delete(Object.values(segmentObjectKeys(t.prefix, s.baseOffset, s.id)));
      this.cache.evictPrefix(segmentObjectKeys(t.prefix, s.baseOffset, s.id).log.replace(/\.log$/, ''));
      await this.#write(t, finishDelete(t.manifest!, s.id));
    }
  }

  /** Tells the log what the bucket holds, and moves its start to the first offset still held. */
  #syncLog(t: Task): void {
    const log = t.p.log;
    const m = t.manifest!;
    const end = remoteEndOffset(m);
    if (end !== null) log.markUploadedBelow(Math.min(end + 1, log.highWatermark));
    const remoteStart = remoteStartOffset(m);
    const earliest = Math.min(remoteStart ?? Number.MAX_SAFE_INTEGER, log.localLogStartOffset);
    if (earliest > log.logStartOffset) log.advanceLogStartOffset(earliest);
  }

  async #uploadOne(t: Task): Promise<boolean> {
    const log = t.p.log;
    const m = t.manifest!;
    const end = remoteEndOffset(m);
    // With nothing in the bucket, a log start above what was uploaded (DeleteRecords, or local
    // retention while uploads were stopped) lets the remote log start anew at the log start.
    const cursor = end !== null ? end + 1 : log.uploadedBelow >= log.logStartOffset ? log.uploadedBelow : 0;
    const seg = nextUpload(log.closedSegments(), cursor, Math.min(log.lastStableOffset, log.highWatermark), log.logStartOffset);
    if (seg === null) return false;
    const full = log.closedSegments().find((s) => s.baseOffset === seg.baseOffset)!;
    await this.#slots.take();
    try {
      await this.#rate.take(full.sizeBytes, this.#now());
      await this.#copy(t, full);
    } finally {
      this.#slots.give();
    }
    return true;
  }

  async #copy(t: Task, seg: TieredSegment): Promise<void> {
    const log = t.p.log;
    const id = newAttemptId(randomUUID);
    const keys = segmentObjectKeys(t.prefix, seg.baseOffset, id);
    const epochs = log.leaderEpochs();
    // Entries in force inside the segment: the last one starting at or before its base, and any after.
    const inSegment = epochs.filter((e, i) => e.startOffset < seg.nextOffset && (epochs[i + 1] === undefined || epochs[i + 1]!.startOffset > seg.baseOffset));
    const entry = {
      id,
      baseOffset: seg.baseOffset,
      endOffset: seg.nextOffset - 1,
      // A segment without timestamps ages from its upload.
      maxTimestampMs: seg.maxTimestampMs >= 0 ? seg.maxTimestampMs : this.#now(),
      sizeBytes: seg.sizeBytes,
      leaderEpochs: inSegment.map((e) => ({ epoch: e.epoch, startOffset: Math.max(e.startOffset, seg.baseOffset) })),
    };
    try {
      await this.#write(t, startCopy(t.manifest!, entry, this.#now()));
    } catch (e) {
      // Counted here too: a store that refuses only writes fails every round at this step.
      this.#o.metrics.error('copy', errorKind(e));
      throw e;
    }
    try {
      await this.#o.store.putFile(keys.log, seg.logFile, this.#o.partBytes);
      await this.#o.store.put(keys.index, readFileSync(seg.offsetIndexFile));
      await this.#o.store.put(keys.timeindex, readFileSync(seg.timeIndexFile));
      await this.#o.store.put(keys.snapshot, seg.producerSnapshotFile === null ? EMPTY : readFileSync(seg.producerSnapshotFile));
      await this.#o.store.put(keys['leader-epoch'], Buffer.from(`0\n${entry.leaderEpochs.length}\n${entry.leaderEpochs.map((e) => `${e.epoch} ${e.startOffset}`).join('\n')}\n`));
      // No transactions yet: Kafka's RemoteStorageManager takes an (empty) transaction index too.
      await this.#o.store.put(keys.txnindex, EMPTY);
      await this.#write(t, finishCopy(t.manifest!, id, this.#now()));
    } catch (e) {
      this.#o.metrics.error('copy', errorKind(e));
      // Abandon the attempt now if the store lets us; otherwise the next load does.
      try {
        await this.#write(t, startDelete(t.manifest!, id, this.#now()));
        await this.#finishDeletes(t);
      } catch {
        // Left for the next load: the entry is copy-started or delete-started.
      }
      throw e;
    }
    this.#o.metrics.copied(t.p.topic, seg.sizeBytes);
    if (log.usable) log.markUploadedBelow(Math.min(seg.nextOffset, log.highWatermark));
  }

  async #retain(t: Task): Promise<void> {
    const log = t.p.log;
    const m = t.manifest!;
    const segs = readable(m);
    if (segs.length === 0) return;
    const end = segs.at(-1)!.endOffset;
    let localOnlyBytes = 0;
    for (const s of log.closedSegments()) if (s.baseOffset > end) localOnlyBytes += s.sizeBytes;
    // The active segment is local-only too; its size is the log end's share not yet closed.
    const closedBytes = log.closedSegments().reduce((n, s) => n + s.sizeBytes, 0);
    const activeBytes = Math.max(0, log.sizeBytes() - closedBytes);
    localOnlyBytes += activeBytes;
    const plan = remoteRetention({
      readable: segs,
      nowMs: this.#now(),
      retentionMs: log.config.cleanupPolicy.delete ? log.config.retentionMs : -1,
      retentionBytes: log.config.cleanupPolicy.delete ? log.config.retentionBytes : -1,
      localOnlyBytes,
      logStartOffset: log.logStartOffset,
    });
    if (plan.segments.length === 0) return;
    let bytes = 0;
    for (const s of plan.segments) {
      try {
        await this.#write(t, startDelete(t.manifest!, s.id, this.#now()));
        await this.#finishDeletes(t);
      } catch (e) {
        this.#o.metrics.error('delete', e instanceof ObjectStoreError ? e.kind : 'other');
        throw e;
      }
      bytes += s.sizeBytes;
    }
    this.#o.metrics.remoteDeleted(t.p.topic, plan.segments.length, bytes);
    this.#o.logger.info('remote segments deleted by retention', {
      topic: t.p.topic,
      partition: t.p.partition,
      segments: plan.segments.length,
      reasons: [...new Set(plan.reasons)],
      upTo: plan.segments.at(-1)!.endOffset,
    });
    // Retention is the whole log's: the start moves past what was deleted, and local copies of
    // those offsets go with it.
    if (log.usable) log.advanceLogStartOffset(plan.segments.at(-1)!.endOffset + 1);
  }

  // -------------------------------------------------------------------------------------------------
  // Reads

  #taskFor(topicId: string, partition: number): Task | undefined {
    return this.#tasks.get(`${topicId}:${partition}`);
  }

  /** The last offset held in the bucket (ListOffsets LATEST_TIERED), or -1 when none is known. */
  latestTieredOffset(topicId: string, partition: number): number {
    const m = this.#taskFor(topicId, partition)?.readView;
    return m === null || m === undefined ? -1 : (remoteEndOffset(m) ?? -1);
  }

  /**
   * Batches from the remote segment holding `fetchOffset` (below the local log start). Throws
   * RemoteFetchError: OFFSET_OUT_OF_RANGE for an offset the bucket no longer holds, else
   * KAFKA_STORAGE_ERROR (retriable for clients) when the store fails or the manifest is not loaded.
   */
  async read(p: TieredPartition, fetchOffset: number, maxBytes: number, maxOffsetExclusive: number, minOneBatch: boolean): Promise<RemoteRead> {
    const started = performance.now();
    const t = this.#taskFor(p.topicId, p.partition);
    if (t === undefined || t.readView === null) {
      throw new RemoteFetchError('KAFKA_STORAGE_ERROR', 56, `the remote log of ${p.topic}-${p.partition} is not loaded yet`);
    }
    const m = t.readView;
    const seg: RemoteSegment | null = segmentFor(m, fetchOffset);
    if (seg === null) {
      const start = remoteStartOffset(m);
      if (start === null || fetchOffset < start) throw new RemoteFetchError('OFFSET_OUT_OF_RANGE', 1, `offset ${fetchOffset} of ${p.topic}-${p.partition} is no longer held`);
      throw new RemoteFetchError('KAFKA_STORAGE_ERROR', 56, `offset ${fetchOffset} of ${p.topic}-${p.partition} is in no remote segment`);
    }
    const keys = segmentObjectKeys(t.prefix, seg.baseOffset, seg.id);
    try {
      const r = await this.#reader.read(keys, seg, fetchOffset, maxBytes, maxOffsetExclusive, minOneBatch);
      this.#o.metrics.remoteFetched(p.topic, r.bytes, (performance.now() - started) / 1000);
      const sequential = fetchOffset === t.readNext;
      if (r.bytes > 0) t.readNext = r.nextOffset;
      if (sequential && r.bytes > 0) this.#readAhead(t, m, seg, keys, r.endPosition);
      return r;
    } catch (e) {
      const kind = e instanceof ObjectStoreError ? e.kind : e instanceof RemoteReadError ? 'corrupt' : 'other';
      this.#o.metrics.error('fetch', kind);
      throw new RemoteFetchError('KAFKA_STORAGE_ERROR', 56, `remote read of ${p.topic}-${p.partition} at ${fetchOffset} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Background loads of what a sequential reader reads next; never fails the read. */
  #readAhead(t: Task, m: PartitionManifest, seg: RemoteSegment, keys: { log: string }, endPosition: number): void {
    const chunks = this.#o.readAheadChunks ?? 0;
    if (chunks <= 0) return;
    if (!this.#reader.readAhead(keys, seg, endPosition, chunks)) return;
    const next = segmentFor(m, seg.endOffset + 1);
    if (next !== null) this.#reader.readAheadStart(segmentObjectKeys(t.prefix, next.baseOffset, next.id), next);
  }

  /**
   * ListOffsets by timestamp in the bucket (Kafka's RemoteLogManager.findOffsetByTimestamp): the
   * first record at or after `startingOffset` with a timestamp at least `targetMs`, searched in the
   * readable segments whose max timestamp reaches it, oldest first; null when none holds one.
   * Throws RemoteFetchError (KAFKA_STORAGE_ERROR) when the manifest is not loaded or the store fails.
   */
  async offsetForTimestamp(p: TieredPartition, targetMs: number, startingOffset: number, maxDecompressedBytes: number): Promise<TimestampAndOffset | null> {
    const m = this.#readViewOf(p);
    for (const seg of readable(m)) {
      if (seg.maxTimestampMs < targetMs || seg.endOffset < startingOffset) continue;
      const found = await this.#findInSegment(p, seg, targetMs, startingOffset, maxDecompressedBytes);
      if (found !== null) return found;
    }
    return null;
  }

  /**
   * ListOffsets MAX_TIMESTAMP (-3) in the bucket: the first record carrying the largest timestamp of
   * the readable segments (the earliest such segment), or null when none has one.
   */
  async maxTimestampOffset(p: TieredPartition, maxDecompressedBytes: number): Promise<TimestampAndOffset | null> {
    const m = this.#readViewOf(p);
    let best: RemoteSegment | null = null;
    for (const seg of readable(m)) if (seg.maxTimestampMs >= 0 && seg.endOffset >= p.log.logStartOffset && (best === null || seg.maxTimestampMs > best.maxTimestampMs)) best = seg;
    if (best === null) return null;
    return this.#findInSegment(p, best, best.maxTimestampMs, p.log.logStartOffset, maxDecompressedBytes);
  }

  #readViewOf(p: TieredPartition): PartitionManifest {
    const t = this.#taskFor(p.topicId, p.partition);
    if (t === undefined || t.readView === null) {
      throw new RemoteFetchError('KAFKA_STORAGE_ERROR', 56, `the remote log of ${p.topic}-${p.partition} is not loaded yet`);
    }
    return t.readView;
  }

  async #findInSegment(p: TieredPartition, seg: RemoteSegment, targetMs: number, startingOffset: number, maxDecompressedBytes: number): Promise<TimestampAndOffset | null> {
    const prefix = partitionPrefix(this.#o.clusterId, p.topic, p.topicId, p.partition);
    try {
      return await this.#reader.findOffsetByTimestamp(segmentObjectKeys(prefix, seg.baseOffset, seg.id), seg, targetMs, startingOffset, maxDecompressedBytes);
    } catch (e) {
      const kind = e instanceof ObjectStoreError ? e.kind : e instanceof RemoteReadError ? 'corrupt' : 'other';
      this.#o.metrics.error('fetch', kind);
      throw new RemoteFetchError('KAFKA_STORAGE_ERROR', 56, `remote timestamp lookup of ${p.topic}-${p.partition} in segment ${seg.baseOffset} failed: ${(e as Error).message}`, { cause: e });
    }
  }
}

