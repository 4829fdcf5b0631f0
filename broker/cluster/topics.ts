// The topics a single-node Strata hosts: names, ids, partition counts, per-topic config overrides,
// and each partition's log, spread over the log directories (log.dirs).
//
// Topic metadata lives in `strata-metadata.json`, written atomically to every online log directory
// with a generation number one above the last; at start-up the readable copy with the highest
// generation wins and the others are brought up to it. Any one directory can fail without losing it.
// Replication will move this into a replicated metadata log.
//
// Where each partition lives is not recorded: start-up scans the online directories for
// `<topic>-<partition>` folders (Kafka's layout, each with Kafka's `partition.metadata` holding the
// topic id). A partition found in none of them while a directory is offline is taken to be there
// and starts offline. A partition folder whose topic id is not the current topic's (the topic was
// deleted, or deleted and created again, while its directory was offline) is a stray and is
// deleted, as Kafka does. The same partition in two directories stops start-up.
//
// New partitions go to the online directory holding the fewest partitions. When a directory goes
// offline every partition in it stops serving: its log is abandoned (files closed, nothing written)
// and `offline` turns true; handlers answer KAFKA_STORAGE_ERROR for it.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import type { AppendResult, EpochEndOffset, FaultInjector, LoadReport, LogConfig, ReadResult, TimestampAndOffset } from '../log/types.js';
import type { CompactOptions, CompactionResult, TieredLogView } from '../log/partition-log.js';
import { LogError } from '../log/errors.js';
import { writeFileAtomic } from '../log/files.js';
import { type LogDir, type LogDirectories, LogDirectoryConflict } from '../log/log-dirs.js';

/** The part of a partition log the rest of the broker uses (implemented by broker/log), tiered
 *  storage's view included. */
export interface PartitionLogLike extends TieredLogView {
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  /** The log's current settings (min.insync.replicas is read from here by the produce path). */
  readonly config: Readonly<LogConfig>;
  updateHighWatermark(offset: number): void;
  appendAsLeader(records: Buffer, leaderEpoch: number): AppendResult;
  read(fetchOffset: number, maxBytes: number, maxOffsetExclusive: number, minOneBatch: boolean, verifyCrc?: boolean, alloc?: (bytes: number) => Buffer): ReadResult;
  offsetForTimestamp(targetMs: number): TimestampAndOffset | null;
  maxTimestampOffset(): TimestampAndOffset | null;
  endOffsetForEpoch(epoch: number): EpochEndOffset;
  deleteRecordsBefore(offset: number): number;
  deleteSegmentsByRetention(): number;
  compact(opts: CompactOptions): Promise<CompactionResult | null>;
  updateConfig(config: LogConfig): void;
  flushIfDue(): boolean;
  sizeBytes(): number;
  flush(): void;
  close(): void;
  delete(): void;
  /** Closes the files without writing anything: the log directory failed. */
  abandon(cause: unknown): void;
  /** How opening it went (clean or recovered); absent for a log that was never opened. */
  readonly loadReport?: Readonly<LoadReport>;
}

export interface Partition {
  readonly topic: string;
  readonly index: number;
  readonly leaderEpoch: number;
  /** The log directory holding it; null when it was found in no online directory at start-up
   *  (it is in one of the offline ones). */
  readonly logDir: string | null;
  /** Its log directory is offline: it serves nothing (KAFKA_STORAGE_ERROR) until the broker
   *  restarts with the directory healthy. */
  readonly offline: boolean;
  /** The log; while offline every call throws KAFKA_STORAGE_ERROR. */
  readonly log: PartitionLogLike;
}

export interface Topic {
  readonly name: string;
  readonly id: string;
  readonly partitions: Partition[];
  /** Per-topic config overrides (DYNAMIC_TOPIC_CONFIG); absent keys take the broker default. */
  configs: Record<string, string>;
}

interface StoredMetadata {
  version: 1;
  /** One more on every write; the highest readable copy wins (absent before several log dirs: 0). */
  generation?: number;
  clusterId: string;
  topics: { name: string; id: string; partitions: number; configs: Record<string, string> }[];
}

/** How the registry makes partition logs: open one, and turn topic overrides into log settings. */
export interface LogFactory {
  /** Opens the partition directory `dir` in log directory `logDir`; `onFailure` is told of an I/O
   *  failure that takes the log offline. */
  open(req: {
    logDir: string;
    dir: string;
    topic: string;
    partition: number;
    config: LogConfig;
    /** The log directory's free-space check and fault injector, shared by its logs. */
    diskSpace: { check(bytes: number): void };
    faults: FaultInjector;
    onFailure: (cause: unknown) => void;
  }): PartitionLogLike;
  configFor(overrides: Record<string, string>): LogConfig;
}

export const METADATA_FILE = 'strata-metadata.json';
/** Kafka's per-partition file naming the topic id, so a stray folder is told from a live one. */
export const PARTITION_METADATA_FILE = 'partition.metadata';

/** Kafka's partition.metadata text. */
function formatPartitionMetadata(topicId: string): string {
  return `version: 0\ntopic_id: ${topicId}`;
}

function readPartitionMetadata(dir: string): string | null {
  const file = path.join(dir, PARTITION_METADATA_FILE);
  if (!existsSync(file)) return null;
  const m = /^topic_id:\s*(\S+)\s*$/m.exec(readFileSync(file, 'utf8'));
  return m === null ? null : m[1]!;
}

function offlineError(what: string): LogError {
  return new LogError('KAFKA_STORAGE_ERROR', `${what} is in an offline log directory`);
}

/** The log of a partition whose directory was offline at start-up: it was never opened, every call
 *  throws KAFKA_STORAGE_ERROR, and the offsets read as 0 (nothing reads them: handlers check
 *  `offline` first). */
class OfflineLog implements PartitionLogLike {
  readonly logStartOffset = 0;
  readonly logEndOffset = 0;
  readonly highWatermark = 0;
  readonly lastStableOffset = 0;
  readonly localLogStartOffset = 0;
  readonly uploadedBelow = 0;
  /** Tiered storage skips it: nothing is uploaded from or recorded for an offline log. */
  readonly usable = false;
  constructor(
    readonly dir: string,
    private readonly what: string,
    /** The topic's settings, kept so that config reads (min ISR, describe) still answer. */
    readonly config: Readonly<LogConfig>,
  ) {}
  #fail(): never {
    throw offlineError(this.what);
  }
  updateHighWatermark(): void {
    this.#fail();
  }
  appendAsLeader(): AppendResult {
    this.#fail();
  }
  read(): ReadResult {
    this.#fail();
  }
  offsetForTimestamp(): TimestampAndOffset | null {
    this.#fail();
  }
  maxTimestampOffset(): TimestampAndOffset | null {
    this.#fail();
  }
  endOffsetForEpoch(): EpochEndOffset {
    this.#fail();
  }
  deleteRecordsBefore(): number {
    this.#fail();
  }
  deleteSegmentsByRetention(): number {
    this.#fail();
  }
  closedSegments(): [] {
    return [];
  }
  leaderEpochs(): [] {
    return [];
  }
  markUploadedBelow(): void {
    this.#fail();
  }
  advanceLogStartOffset(): void {
    this.#fail();
  }
  compact(): Promise<CompactionResult | null> {
    return Promise.resolve(null);
  }
  updateConfig(): void {}
  flushIfDue(): boolean {
    return false;
  }
  sizeBytes(): number {
    return 0;
  }
  flush(): void {}
  close(): void {}
  delete(): void {}
  abandon(): void {}
}

class HostedPartition implements Partition {
  readonly leaderEpoch = 0;
  constructor(
    readonly topic: string,
    readonly index: number,
    readonly logDir: string | null,
    readonly log: PartitionLogLike,
    private readonly dirs: LogDirectories,
    /** The log could not be opened (a full disk at start-up): offline although its directory is not. */
    private readonly unopened = false,
  ) {}

  get offline(): boolean {
    return this.unopened || this.logDir === null || !this.dirs.isOnline(this.logDir);
  }
}
/** Kafka's limit: a topic name must fit a directory name with a partition suffix. */
const TOPIC_NAME_MAX_CHARS = 249;
const TOPIC_NAME_PATTERN = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rules; returns why a name is invalid, or null. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be '${name}'`;
  if (name.length > TOPIC_NAME_MAX_CHARS) return `topic name is longer than ${TOPIC_NAME_MAX_CHARS} characters`;
  if (!TOPIC_NAME_PATTERN.test(name)) return `topic name '${name}' has characters other than ASCII letters, digits, '.', '_' and '-'`;
  return null;
}

/** Kafka treats '.' and '_' as the same in metric names, so two topics differing only there collide. */
function collisionKey(name: string): string {
  return name.replace(/\./g, '_');
}

function newUuid(): string {
  // A random version-4 uuid in Kafka's base64url form; never the all-zero or the reserved one.
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b.toString('base64url');
}

/** A partition folder name: the topic, a dash, the partition number. Kafka's `-delete`, `-future`
 *  and `-stray` folders do not match. */
const PARTITION_DIR_PATTERN = /^(.+)-(\d+)$/;

export class TopicRegistry {
  private readonly topics = new Map<string, Topic>();
  private readonly byId = new Map<string, Topic>();
  readonly clusterId: string;
  private generation = 0;
  /** Partition folders found at start-up: `topic-partition` → log directory. */
  private readonly found = new Map<string, string>();

  constructor(
    private readonly dirs: LogDirectories,
    private readonly logs: LogFactory,
    private readonly log: Logger,
  ) {
    const started = performance.now();
    this.clusterId = dirs.clusterId;
    const stored = dirs.readNewest<StoredMetadata>(METADATA_FILE, (m) => m.generation ?? 0);
    if (stored !== null && stored.clusterId !== dirs.clusterId) {
      throw new LogDirectoryConflict(`${METADATA_FILE} belongs to cluster ${stored.clusterId}, but meta.properties to cluster ${dirs.clusterId}`);
    }
    this.generation = stored?.generation ?? 0;
    log.info('loading logs', {
      dirs: dirs.dirs.map((d) => d.path),
      offline: dirs.offline().map((d) => d.path),
      topics: stored?.topics.length ?? 0,
      partitions: stored?.topics.reduce((n, t) => n + t.partitions, 0) ?? 0,
    });
    dirs.onOffline((d) => this.takeOffline(d));
    this.scan(stored);
    for (const t of stored?.topics ?? []) this.materialise(t.name, t.id, t.partitions, t.configs);
    this.loading = false;
    // Brings every online copy to the newest generation (and writes the first one).
    this.persist();
    this.logLoaded(performance.now() - started);
  }

  /** Finds the partition folders in the online directories; deletes strays. */
  private scan(stored: StoredMetadata | null): void {
    const ids = new Map((stored?.topics ?? []).map((t) => [t.name, t]));
    for (const d of this.dirs.online()) {
      let names: string[];
      try {
        names = readdirSync(d.path);
      } catch (e) {
        this.dirs.reportFailure(d.path, e);
        continue;
      }
      for (const name of names) {
        const m = PARTITION_DIR_PATTERN.exec(name);
        if (m === null || topicNameProblem(m[1]!) !== null) continue;
        const dir = path.join(d.path, name);
        try {
          if (!statSync(dir).isDirectory()) continue;
          const topic = ids.get(m[1]!);
          const topicId = readPartitionMetadata(dir);
          const index = Number(m[2]);
          if (topic === undefined || topic.partitions <= index || (topicId !== null && topicId !== topic.id)) {
            if (topicId === null) {
              this.log.warn('partition folder of no known topic, left alone', { dir });
              continue;
            }
            // Its topic was deleted (or deleted and created again) while this directory was offline.
            this.log.warn('deleting a stray partition folder', { dir, topicId, currentTopicId: topic?.id ?? null });
            rmSync(dir, { recursive: true, force: true });
            continue;
          }
          const other = this.found.get(name);
          if (other !== undefined) {
            throw new LogDirectoryConflict(`partition ${name} is in two log directories, ${other} and ${d.path}; remove the copy that should not be there`);
          }
          this.found.set(name, d.path);
        } catch (e) {
          if (e instanceof LogDirectoryConflict) throw e;
          this.dirs.reportFailure(d.path, e);
          break;
        }
      }
    }
  }

  private logLoaded(ms: number): void {
    const perDir = new Map<string, { partitions: number; segmentsRecovered: number; unclean: number }>();
    for (const d of this.dirs.dirs) perDir.set(d.path, { partitions: 0, segmentsRecovered: 0, unclean: 0 });
    let segmentsRecovered = 0;
    let unclean = 0;
    let offline = 0;
    for (const t of this.topics.values()) {
      for (const p of t.partitions) {
        if (p.offline) offline++;
        const entry = p.logDir === null ? undefined : perDir.get(p.logDir);
        if (entry === undefined) continue;
        entry.partitions++;
        const r = p.log.loadReport;
        if (r === undefined) continue;
        entry.segmentsRecovered += r.segmentsRecovered;
        segmentsRecovered += r.segmentsRecovered;
        if (!r.cleanShutdown) {
          entry.unclean++;
          unclean++;
        }
      }
    }
    this.log.info('logs loaded', {
      durationMs: Math.round(ms),
      topics: this.topics.size,
      partitions: this.partitionCount(),
      offlinePartitions: offline,
      uncleanPartitions: unclean,
      segmentsRecovered,
      dirs: this.dirs.dirs.map((d) => ({ dir: d.path, online: d.online, ...perDir.get(d.path)! })),
    });
  }

  private materialise(name: string, id: string, partitionCount: number, configs: Record<string, string>): Topic {
    const topic: Topic = { name, id, partitions: [], configs };
    // Registered first, so placement counts the partitions opened so far.
    this.topics.set(name, topic);
    this.byId.set(id, topic);
    try {
      for (let i = 0; i < partitionCount; i++) topic.partitions.push(this.openPartition(topic, i));
    } catch (e) {
      for (const p of topic.partitions) p.log.close();
      this.topics.delete(name);
      this.byId.delete(id);
      throw e;
    }
    return topic;
  }

  /** Partitions per log directory, for placement. */
  private partitionsIn(d: LogDir): number {
    let n = 0;
    for (const t of this.topics.values()) for (const p of t.partitions) if (p.logDir === d.path) n++;
    return n;
  }

  private openPartition(topic: Topic, index: number): Partition {
    const name = `${topic.name}-${index}`;
    let logDir = this.found.get(name) ?? null;
    this.found.delete(name);
    if (logDir !== null && !this.dirs.isOnline(logDir)) logDir = null;
    if (logDir === null && this.loading && this.dirs.offline().length > 0) {
      // Not in any online directory, so in an offline one (or lost with it): it waits for them.
      this.log.warn('partition not found in any online log directory; offline until they are all back', { topic: topic.name, partition: index });
      return new HostedPartition(topic.name, index, null, new OfflineLog('', `partition ${name}`, this.logs.configFor(topic.configs)), this.dirs);
    }
    // A new partition, or one never created: placed on the online directory with the fewest
    // partitions; a directory that fails while it is created goes offline and the next one is tried.
    for (let attempt = 0; attempt <= this.dirs.dirs.length; attempt++) {
      const at = logDir ?? this.dirs.placeNew((d) => this.partitionsIn(d))?.path;
      if (at === undefined) throw offlineError(`every log directory for partition ${name}`);
      const dir = path.join(at, name);
      let log: PartitionLogLike;
      try {
        log = this.logs.open({
          logDir: at,
          dir,
          topic: topic.name,
          partition: index,
          config: this.logs.configFor(topic.configs),
          diskSpace: this.dirs.dirOf(at)!.diskSpace,
          faults: this.dirs.faultsFor(at),
          onFailure: (cause) => this.dirs.reportFailure(at, cause),
        });
      } catch (e) {
        if (!(e instanceof LogError)) throw e;
        this.log.error('partition log could not be opened', { topic: topic.name, partition: index, dir, err: e });
        this.dirs.reportFailure(at, e);
        if (this.dirs.isOnline(at)) return new HostedPartition(topic.name, index, at, new OfflineLog(dir, `partition ${name}`, this.logs.configFor(topic.configs)), this.dirs, true);
        if (logDir !== null) return new HostedPartition(topic.name, index, at, new OfflineLog(dir, `partition ${name}`, this.logs.configFor(topic.configs)), this.dirs, true);
        continue;
      }
      try {
        if (readPartitionMetadata(dir) !== topic.id) writeFileAtomic(dir, PARTITION_METADATA_FILE, formatPartitionMetadata(topic.id), this.dirs.faultsFor(at));
      } catch (e) {
        this.dirs.reportFailure(at, e);
      }
      // This broker is the only replica, so the in-sync set is itself and everything in its log is
      // committed: the high watermark starts at the log end. Replication will replace this with the
      // checkpointed value, moved by followers' fetches.
      if (this.dirs.isOnline(at)) log.updateHighWatermark(log.logEndOffset);
      return new HostedPartition(topic.name, index, at, log, this.dirs);
    }
    throw offlineError(`every log directory for partition ${name}`);
  }

  /** Set while start-up opens the stored topics: a partition not found then waits for its
   *  directory instead of being created elsewhere. */
  private loading = true;

  /** Stops every partition of a directory that went offline (LogDirectories.onOffline). */
  private takeOffline(dir: LogDir): void {
    const stopped: string[] = [];
    for (const t of this.topics.values()) {
      for (const p of t.partitions) {
        if (p.logDir !== dir.path) continue;
        p.log.abandon(dir.failure);
        stopped.push(`${t.name}-${p.index}`);
      }
    }
    this.log.warn('stopped serving the partitions in a failed log directory', { dir: dir.path, partitions: stopped });
  }

  /** Runs `work` on each online partition's log; a failure is logged and reported for its
   *  directory, and the others go on. */
  private eachOnline(what: string, partitions: Iterable<Partition>, work: (p: Partition) => void): void {
    for (const p of partitions) {
      if (p.offline) continue;
      try {
        work(p);
      } catch (e) {
        this.log.error(`${what} failed`, { topic: p.topic, partition: p.index, err: e });
        if (p.logDir !== null) this.dirs.reportFailure(p.logDir, e);
      }
    }
  }

  private *allPartitions(): Iterable<Partition> {
    for (const t of this.topics.values()) yield* t.partitions;
  }

  private persist(): void {
    const stored: StoredMetadata = {
      version: 1,
      generation: this.generation + 1,
      clusterId: this.clusterId,
      topics: [...this.topics.values()].map((t) => ({ name: t.name, id: t.id, partitions: t.partitions.length, configs: t.configs })),
    };
    this.dirs.writeEverywhere(METADATA_FILE, JSON.stringify(stored, null, 1));
    this.generation++;
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  getById(id: string): Topic | undefined {
    return this.byId.get(id);
  }

  all(): Topic[] {
    return [...this.topics.values()];
  }

  partitionCount(): number {
    let n = 0;
    for (const t of this.topics.values()) n += t.partitions.length;
    return n;
  }

  /** Returns a reason the topic cannot be created, or null. */
  createProblem(name: string): { code: 'INVALID_TOPIC_EXCEPTION' | 'TOPIC_ALREADY_EXISTS'; message: string } | null {
    const problem = topicNameProblem(name);
    if (problem !== null) return { code: 'INVALID_TOPIC_EXCEPTION', message: problem };
    if (this.topics.has(name)) return { code: 'TOPIC_ALREADY_EXISTS', message: `topic '${name}' already exists` };
    const key = collisionKey(name);
    for (const t of this.topics.values()) {
      if (collisionKey(t.name) === key) return { code: 'INVALID_TOPIC_EXCEPTION', message: `topic '${name}' collides with existing topic '${t.name}' ('.' and '_' are interchangeable)` };
    }
    return null;
  }

  /** Called after a topic is created or deleted or gains partitions (the group coordinator listens). */
  onTopicsChanged: () => void = () => {};

  create(name: string, partitions: number, configs: Record<string, string>): Topic {
    const problem = this.createProblem(name);
    if (problem !== null) throw new Error(problem.message);
    let id = newUuid();
    while (this.byId.has(id)) id = newUuid();
    const topic = this.materialise(name, id, partitions, configs);
    this.persist();
    this.log.info('topic created', { topic: name, topicId: id, partitions });
    this.onTopicsChanged();
    return topic;
  }

  addPartitions(name: string, total: number): void {
    const topic = this.topics.get(name)!;
    for (let i = topic.partitions.length; i < total; i++) topic.partitions.push(this.openPartition(topic, i));
    this.persist();
    this.log.info('partitions added', { topic: name, partitions: total });
    this.onTopicsChanged();
  }

  /** Replaces a topic's overrides and applies them to its open logs at once. Returns whether that
   *  turned tiered storage off for the topic (its remote copy is then the caller's to delete). */
  setConfigs(name: string, configs: Record<string, string>): { remoteStorageDisabled: boolean } {
    const topic = this.topics.get(name)!;
    const wasTiered = this.logs.configFor(topic.configs).remoteStorageEnable;
    const logConfig = this.logs.configFor(configs);
    topic.configs = configs;
    this.persist();
    for (const p of topic.partitions) if (!p.offline) p.log.updateConfig(logConfig);
    this.log.info('topic config changed', { topic: name, configs });
    return { remoteStorageDisabled: wasTiered && !logConfig.remoteStorageEnable };
  }

  /** Recomputes every log's settings (the broker defaults under them changed). */
  refreshLogConfigs(): void {
    for (const t of this.topics.values()) {
      const logConfig = this.logs.configFor(t.configs);
      for (const p of t.partitions) if (!p.offline) p.log.updateConfig(logConfig);
    }
    this.log.info('log configs refreshed from the broker defaults', { topics: this.topics.size });
  }

  delete(name: string): void {
    const topic = this.topics.get(name);
    if (topic === undefined) return;
    this.topics.delete(name);
    this.byId.delete(topic.id);
    this.persist();
    // Partitions in an offline directory keep their folders; a later start finds them stray.
    this.eachOnline('deleting a partition log', topic.partitions, (p) => p.log.delete());
    this.log.info('topic deleted', { topic: name, topicId: topic.id });
    this.onTopicsChanged();
  }

  flushAll(): void {
    this.eachOnline('flush', this.allPartitions(), (p) => p.log.flush());
  }

  /** Closes every log; those of offline directories write nothing. */
  closeAll(): void {
    this.eachOnline('close', this.allPartitions(), (p) => p.log.close());
    for (const p of this.allPartitions()) if (p.offline) p.log.close();
  }
}
