// One Strata broker: topic registry and partition logs, the Kafka listeners, the handler table and
// the HTTP endpoint, started and stopped in order.
//
// Start: the partition logs (recovery runs here), then the Kafka listeners, then the HTTP endpoint;
// /readyz turns ready last. Recovery is synchronous, so an HTTP endpoint started before it could not
// answer during it anyway, and starting the Kafka listeners first puts the first acknowledged produce
// ahead of loading the HTTP framework.
// Stop (SIGTERM): not ready, stop accepting, wake long-polling fetches, let every connection finish
// the requests it has read, then close every log cleanly (flush, indexes, producer snapshots, the
// clean-shutdown marker) so the next start needs no recovery.
import assert from 'node:assert/strict';
import { MemoryPool } from '../net/memory-pool.js';
import { ReadBufferPool } from '../net/read-buffers.js';
import { LogCleaner, type LogCleanerOptions } from './log-cleaner.js';
import { KafkaListener } from '../net/listener.js';
import type { Logger } from '../observability/logger.js';
import { BrokerMetrics } from '../observability/metrics.js';
import { type HttpEndpoint, startHttpEndpoint } from '../observability/http.js';
import { type LogFactory, METADATA_FILE, type Partition, TopicRegistry } from '../cluster/topics.js';
import { LogDirectories, readNewestCopy } from '../log/log-dirs.js';
import { decompressedBatchBytesMax, type FaultInjector } from '../log/types.js';
import { randomBytes } from 'node:crypto';
import { LONG_NEVER } from '../config/index.js';
import { ProducerIdManager } from '../cluster/producer-ids.js';
import type { ApiHandler, BrokerConfigControl, BrokerContext, BrokerSettings, TopicConfigPolicy } from '../handlers/context.js';
import { Router } from '../handlers/router.js';
import { PartitionWakeup } from '../handlers/fetch-wakeup.js';
import { GroupCoordinator, type GroupCoordinatorOptions } from '../coordinator/group-coordinator.js';
import type { ObjectStore } from '../tiered/object-store.js';
import { probeObjectStore } from '../tiered/probe.js';
import { RemoteLogManager, type RemoteLogManagerOptions, type TieredPartition } from '../tiered/remote-log-manager.js';

/** Read blocks (1 MiB each) kept for reuse between fetches; more can be in flight, and are freed. */
const READ_BUFFER_BLOCKS_RETAINED = 16;

export interface ListenerAddress {
  name: string;
  host: string;
  port: number;
}

export interface BrokerOptions {
  nodeId: number;
  /** strata.cluster.id: the cluster id for a first start (meta.properties keeps it after). */
  clusterId?: string;
  /** log.dirs, in order. */
  logDirs: readonly string[];
  /** Fault injection per log directory (tests, STRATA_FAULTS). */
  faultsFor?: (logDir: string) => FaultInjector;
  /** Called once no log directory is left online: the process must stop at once (Kafka halts). */
  halt: (reason: string) => void;
  /** Told the log directories once they are prepared (dynamic configs are written through them). */
  onLogDirs?: (dirs: LogDirectories) => void;
  listeners: ListenerAddress[];
  /** What clients are told to connect to; port 0 means "the port the first listener got". */
  advertised: { host: string; port: number };
  rack: string | null;
  http: { host: string; port: number } | null;
  requestMaxBytes: number;
  requestMemoryMaxBytes: number;
  maxConnections: number;
  connectionsMaxIdleMs: number;
  settings: BrokerSettings;
  logs: LogFactory;
  topicConfigs: TopicConfigPolicy;
  brokerConfig: BrokerConfigControl;
  handlers: readonly ApiHandler[];
  groups: Omit<GroupCoordinatorOptions, 'topics' | 'log' | 'onAppend'>;
  /** log.retention.check.interval.ms: how often expired segments are deleted. */
  retentionCheckIntervalMs: number;
  /** log.flush.scheduler.interval.ms: how often logs are checked against flush.ms (never by default). */
  flushSchedulerIntervalMs: number;
  /** Tiered storage (remote.log.storage.system.enable): the store and the manager's settings; null when off. */
  tiered: { store: ObjectStore & { checkBucket?: () => Promise<void> }; init?: () => Promise<void>; fetchMaxWaitMs: number; manager: Omit<RemoteLogManagerOptions, 'store' | 'clusterId' | 'logger' | 'metrics'> } | null;
  /** The log cleaner's settings (log.cleaner.*); null when log.cleaner.enable is false. */
  cleaner: Omit<LogCleanerOptions, 'topics' | 'log' | 'onCompacted'> | null;
  log: Logger;
  nowMs?: () => number;
}

export class Broker {
  readonly metrics = new BrokerMetrics();
  private readonly listeners: KafkaListener[] = [];
  private http: HttpEndpoint | undefined;
  private groups: GroupCoordinator | undefined;
  private topics: TopicRegistry | undefined;
  private logDirs: LogDirectories | undefined;
  private readonly wakeup = new PartitionWakeup();
  private readonly router: Router;
  private ready = false;
  private stopping: Promise<void> | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private cleaner: LogCleaner | undefined;
  private remoteLogs: RemoteLogManager | undefined;
  /** The ports the listeners bound (useful when configured with port 0). */
  readonly boundPorts: number[] = [];
  httpPort = -1;

  constructor(private readonly opts: BrokerOptions) {
    assert.ok(
      opts.requestMemoryMaxBytes >= opts.requestMaxBytes,
      'strata.request.memory.max.bytes must be at least socket.request.max.bytes, or the largest allowed request could never be read',
    );
    this.router = new Router(opts.handlers);
  }

  async start(): Promise<void> {
    const started = Date.now();
    const log = this.opts.log;
    const tiered = this.opts.tiered;
    if (tiered !== null) {
      // Before anything else: a broker that cannot reach its bucket must not start serving and
      // pile up segments it can never upload.
      await tiered.init?.();
      const report = await probeObjectStore(tiered.store);
      log.info('object store checked', { store: tiered.store.description, steps: report.steps });
    }
    const logDirs = new LogDirectories({
      paths: this.opts.logDirs,
      nodeId: this.opts.nodeId,
      // Data from before meta.properties keeps the cluster id its topic metadata holds.
      newClusterId: () => readNewestCopy<{ clusterId: string }>(this.opts.logDirs, METADATA_FILE, () => 0)?.clusterId ?? this.opts.clusterId ?? randomBytes(16).toString('base64url'),
      logger: log,
      ...(this.opts.faultsFor === undefined ? {} : { faultsFor: this.opts.faultsFor }),
    });
    this.logDirs = logDirs;
    logDirs.onAllOffline = (dirs) => this.opts.halt(`all log dirs in ${dirs.map((d) => d.path).join(', ')} have failed`);
    this.metrics.logDirs = () => logDirs.dirs.map((d) => ({ dir: d.path, online: d.online }));
    if (logDirs.online().length === 0) {
      this.opts.halt(`all log dirs in ${logDirs.dirs.map((d) => d.path).join(', ')} have failed`);
      throw new Error('no log directory is usable');
    }
    this.opts.onLogDirs?.(logDirs);
    this.topics = new TopicRegistry(logDirs, this.opts.logs, log);
    this.metrics.partitions.set(this.topics.partitionCount());
    const topics = this.topics;
    this.metrics.logSizes = function* () {
      for (const t of topics.all()) for (const p of t.partitions) if (!p.offline) yield { topic: t.name, partition: p.index, bytes: p.log.sizeBytes() };
    };
    const producerIds = new ProducerIdManager(logDirs);
    const groups = new GroupCoordinator({
      ...this.opts.groups,
      topics: this.topics,
      log,
      onAppend: (topic, partition) => this.wakeup.notify(`${topic}:${partition}`),
    });
    this.groups = groups;
    this.topics.onTopicsChanged = () => {
      this.metrics.partitions.set(topics.partitionCount());
      groups.onTopicsChanged();
    };
    this.metrics.groups = groups;
    // Loading runs in the background, one partition at a time; groups of a partition not loaded
    // yet answer COORDINATOR_LOAD_IN_PROGRESS meanwhile.
    void groups.start().catch((e) => log.error('group coordinator failed to load', { err: e }));
    const pool = new MemoryPool(this.opts.requestMemoryMaxBytes);
    const identity = { nodeId: this.opts.nodeId, clusterId: this.topics.clusterId, host: this.opts.advertised.host, port: this.opts.advertised.port, rack: this.opts.rack };
    if (tiered !== null) {
      const metrics = this.metrics;
      this.remoteLogs = new RemoteLogManager({
        ...tiered.manager,
        store: tiered.store,
        clusterId: this.topics.clusterId,
        logger: log.child({ component: 'tiered' }),
        metrics: {
          copied: (topic, bytes) => {
            metrics.remoteCopyBytes.inc({ topic }, bytes);
            metrics.remoteCopySegments.inc({ topic });
          },
          remoteDeleted: (topic, segments) => metrics.remoteDeleteSegments.inc({ topic }, segments),
          remoteFetched: (topic, bytes, seconds) => {
            metrics.remoteFetchBytes.inc({ topic }, bytes);
            metrics.remoteFetchLatency.observe(seconds);
          },
          error: (operation, kind) => metrics.remoteErrors.inc({ operation, kind }),
        },
      });
      this.metrics.tiered = this.remoteLogs;
      await this.remoteLogs.init();
    }
    const remoteLogs = this.remoteLogs;
    const ctx: BrokerContext = {
      identity,
      topics: this.topics,
      logDirs,
      metrics: this.metrics,
      log,
      nowMs: this.opts.nowMs ?? Date.now,
      settings: this.opts.settings,
      fetchWakeup: this.wakeup,
      producerIds: { next: () => producerIds.nextId() },
      topicConfigs: this.opts.topicConfigs,
      brokerConfig: this.opts.brokerConfig,
      groups,
      readBuffers: new ReadBufferPool(READ_BUFFER_BLOCKS_RETAINED),
      tiered:
        remoteLogs === undefined || tiered === null
          ? null
          : {
              fetchMaxWaitMs: tiered.fetchMaxWaitMs,
              read: (p, offset, maxBytes, upTo, minOne) => remoteLogs.read(p, offset, maxBytes, upTo, minOne),
              latestTieredOffset: (topicId, partition) => remoteLogs.latestTieredOffset(topicId, partition),
              // The same bound on a compressed batch's records as the local timestamp search uses.
              offsetForTimestamp: (p, targetMs, startingOffset) => remoteLogs.offsetForTimestamp(p, targetMs, startingOffset, decompressedBatchBytesMax(p.log.config)),
              maxTimestampOffset: (p) => remoteLogs.maxTimestampOffset(p, decompressedBatchBytesMax(p.log.config)),
              topicDeleted: (name, topicId) => void remoteLogs.deleteTopic(name, topicId),
              remoteStorageDisabled: (name, topicId) => void remoteLogs.disableTopic(name, topicId),
            },
    };
    for (const l of this.opts.listeners) {
      const listener = new KafkaListener({
        name: l.name,
        host: l.host,
        port: l.port,
        maxConnections: this.opts.maxConnections,
        limits: { requestMaxBytes: this.opts.requestMaxBytes, idleMs: this.opts.connectionsMaxIdleMs },
        pool,
        log,
        metrics: this.metrics,
        onFrame: (conn, frame) => this.router.dispatch(ctx, frame, conn.remoteAddress),
      });
      const port = await listener.start();
      this.listeners.push(listener);
      this.boundPorts.push(port);
      log.info('kafka listener started', { listener: l.name, host: l.host, port });
    }
    if (identity.port === 0) identity.port = this.boundPorts[0]!;
    if (this.opts.http !== null) {
      this.http = await startHttpEndpoint(this.opts.http.host, this.opts.http.port, this.metrics, () => this.ready);
      this.httpPort = this.http.port;
      log.info('http endpoint listening', { host: this.opts.http.host, port: this.http.port, paths: ['/metrics', '/healthz', '/readyz'] });
    }
    this.startMaintenance(this.topics);
    remoteLogs?.start(function* (): Iterable<TieredPartition> {
      for (const t of topics.all()) for (const p of t.partitions) yield { topic: t.name, topicId: t.id, partition: p.index, log: p.log };
    });
    this.ready = true;
    log.info('broker started', {
      nodeId: this.opts.nodeId,
      clusterId: this.topics.clusterId,
      topics: this.topics.all().length,
      partitions: this.topics.partitionCount(),
      startupMs: Date.now() - started,
    });
  }

  /** Periodic log work: retention and the flush.ms check. Each partition is handled on its own, so
   *  one failing log does not stop the others. */
  private startMaintenance(topics: TopicRegistry): void {
    const every = (ms: number, what: string, work: (p: Partition) => void) => {
      if (ms >= LONG_NEVER) return;
      const timer = setInterval(() => {
        for (const t of topics.all()) {
          for (const p of t.partitions) {
            if (p.offline) continue;
            try {
              work(p);
            } catch (e) {
              this.opts.log.error(`${what} failed`, { topic: t.name, partition: p.index, err: e });
            }
          }
        }
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.opts.retentionCheckIntervalMs, 'retention', (p) => {
      const deleted = p.log.deleteSegmentsByRetention();
      if (deleted > 0) this.opts.log.info('segments deleted by retention', { topic: p.topic, partition: p.index, segments: deleted });
    });
    every(this.opts.flushSchedulerIntervalMs, 'scheduled flush', (p) => void p.log.flushIfDue());
    if (this.opts.cleaner !== null) {
      this.cleaner = new LogCleaner({
        ...this.opts.cleaner,
        topics,
        log: this.opts.log,
        onCompacted: (topic, partition, r) => {
          this.metrics.cleanerBytesRead.inc(r.bytesRead);
          this.metrics.cleanerRecordsRemoved.inc(r.recordsRemoved);
          this.metrics.cleanerBytesRemoved.inc(Math.max(0, r.bytesBefore - r.bytesAfter));
          this.metrics.cleanerLastPassSeconds.set(r.durationMs / 1000);
          this.opts.log.debug('compaction pass done', { topic, partition, ...r });
        },
      });
      this.cleaner.start();
    }
  }

  /** Graceful stop; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const log = this.opts.log;
    this.ready = false;
    log.info('broker stopping');
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.listeners.map((l) => l.stopAccepting()));
    this.wakeup.wakeAll();
    // Parked JoinGroup and SyncGroup answers go out (NOT_COORDINATOR) before connections drain.
    // The cleaner stops before the logs close; a pass cut short leaves its log as it was.
    await this.cleaner?.stop();
    // Uploads in flight get a moment to finish; one cut short is cleaned up at the next start.
    await this.remoteLogs?.stop();
    this.groups?.close();
    await Promise.all(this.listeners.map((l) => l.drainConnections()));
    this.topics?.closeAll();
    await this.http?.close();
    log.info('broker stopped');
  }

  isReady(): boolean {
    return this.ready;
  }
}
