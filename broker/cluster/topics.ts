// The topics a single-node Strata hosts: names, ids, partition counts, per-topic config overrides,
// and each partition's log. Topic metadata is kept in `strata-metadata.json` in the first log
// directory, written atomically (temporary file, fsync, rename), so a crash leaves the old or the
// new version, never half of one. Replication will move this into a replicated metadata log.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../observability/logger.js';
import type { AppendResult, EpochEndOffset, LogConfig, ReadResult, TimestampAndOffset } from '../log/types.js';
import type { CompactOptions, CompactionResult, TieredLogView } from '../log/partition-log.js';

/** The part of a partition log the rest of the broker uses (implemented by broker/log), tiered
 *  storage's view included. */
export interface PartitionLogLike extends TieredLogView {
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
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
}

export interface Partition {
  readonly topic: string;
  readonly index: number;
  readonly leaderEpoch: number;
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
  clusterId: string;
  topics: { name: string; id: string; partitions: number; configs: Record<string, string> }[];
}

/** How the registry makes partition logs: open one, and turn topic overrides into log settings. */
export interface LogFactory {
  open(dir: string, topic: string, partition: number, config: LogConfig): PartitionLogLike;
  configFor(overrides: Record<string, string>): LogConfig;
}

const METADATA_FILE = 'strata-metadata.json';
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

export class TopicRegistry {
  private readonly topics = new Map<string, Topic>();
  private readonly byId = new Map<string, Topic>();
  readonly clusterId: string;

  constructor(
    private readonly logDir: string,
    private readonly logs: LogFactory,
    private readonly log: Logger,
    clusterId?: string,
  ) {
    mkdirSync(logDir, { recursive: true });
    const file = path.join(logDir, METADATA_FILE);
    if (existsSync(file)) {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredMetadata;
      this.clusterId = stored.clusterId;
      for (const t of stored.topics) this.materialise(t.name, t.id, t.partitions, t.configs);
    } else {
      this.clusterId = clusterId ?? newUuid();
      this.persist();
    }
  }

  private materialise(name: string, id: string, partitionCount: number, configs: Record<string, string>): Topic {
    const topic: Topic = { name, id, partitions: [], configs };
    for (let i = 0; i < partitionCount; i++) topic.partitions.push(this.openPartition(topic, i));
    this.topics.set(name, topic);
    this.byId.set(id, topic);
    return topic;
  }

  private openPartition(topic: Topic, index: number): Partition {
    const dir = path.join(this.logDir, `${topic.name}-${index}`);
    const log = this.logs.open(dir, topic.name, index, this.logs.configFor(topic.configs));
    // This broker is the only replica, so the in-sync set is itself and everything in its log is
    // committed: the high watermark starts at the log end. Replication will replace this with the
    // checkpointed value, moved by followers' fetches.
    log.updateHighWatermark(log.logEndOffset);
    return { topic: topic.name, index, leaderEpoch: 0, log };
  }

  private persist(): void {
    const stored: StoredMetadata = {
      version: 1,
      clusterId: this.clusterId,
      topics: [...this.topics.values()].map((t) => ({ name: t.name, id: t.id, partitions: t.partitions.length, configs: t.configs })),
    };
    const file = path.join(this.logDir, METADATA_FILE);
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(stored, null, 1));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    const dirFd = openSync(this.logDir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
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

  /** Replaces a topic's overrides and applies them to its open logs at once. */
  setConfigs(name: string, configs: Record<string, string>): void {
    const topic = this.topics.get(name)!;
    const logConfig = this.logs.configFor(configs);
    topic.configs = configs;
    this.persist();
    for (const p of topic.partitions) p.log.updateConfig(logConfig);
    this.log.info('topic config changed', { topic: name, configs });
  }

  /** Recomputes every log's settings (the broker defaults under them changed). */
  refreshLogConfigs(): void {
    for (const t of this.topics.values()) {
      const logConfig = this.logs.configFor(t.configs);
      for (const p of t.partitions) p.log.updateConfig(logConfig);
    }
    this.log.info('log configs refreshed from the broker defaults', { topics: this.topics.size });
  }

  delete(name: string): void {
    const topic = this.topics.get(name);
    if (topic === undefined) return;
    this.topics.delete(name);
    this.byId.delete(topic.id);
    this.persist();
    for (const p of topic.partitions) p.log.delete();
    this.log.info('topic deleted', { topic: name, topicId: topic.id });
    this.onTopicsChanged();
  }

  flushAll(): void {
    for (const t of this.topics.values()) for (const p of t.partitions) p.log.flush();
  }

  closeAll(): void {
    for (const t of this.topics.values()) for (const p of t.partitions) p.log.close();
  }
}
