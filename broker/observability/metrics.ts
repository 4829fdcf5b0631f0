// The broker's Prometheus metrics, served by the HTTP endpoint at /metrics. One registry per broker
// (not prom-client's global one) so that tests can run several brokers in one process.
import client from 'prom-client';

/** The remote read cache's counters as the metrics read them (broker/tiered/chunk-cache.ts). */
interface RemoteCacheStats {
  memoryHits: number;
  diskHits: number;
  misses: number;
  coalesced: number;
  bucketBytes: number;
  prefetches: number;
  prefetchFailures: number;
  prefetchesSkipped: number;
  diskCorrupt: number;
  diskErrors: number;
}

/**
 * A counter whose totals are kept elsewhere and read at each scrape: `read` gives them by value of
 * `label` (the key '' when `label` is null), or undefined while there is nothing to report (the
 * series are then left out).
 */
function scrapedCounter(registry: client.Registry, name: string, help: string, label: string | null, read: () => Readonly<Record<string, number>> | undefined): client.Counter<string> {
  return new client.Counter({
    name,
    help,
    labelNames: label === null ? [] : [label],
    registers: [registry],
    collect() {
      const totals = read();
      if (totals === undefined) return;
      this.reset();
      for (const [value, n] of Object.entries(totals)) {
        if (label === null) this.inc(n);
        else this.inc({ [label]: value }, n);
      }
    },
  });
}

/** At most this many group/partition series per scrape, so a huge group count cannot blow up a scrape. */
export const GROUP_OFFSET_SERIES_MAX = 50_000;

/** What the group metrics read from the group coordinator. */
export interface GroupMetricsSource {
  committedOffsets(maxSeries: number): Iterable<{ group: string; topic: string; partition: number; offset: number; lag: number }>;
  groupCounts(): Iterable<{ type: string; state: string; count: number }>;
  rebalanceCounts(): { classic: number; consumer: number };
}

export class BrokerMetrics {
  readonly registry = new client.Registry();

  readonly requests = new client.Counter({
    name: 'strata_requests_total',
    help: 'Requests handled, by API and version.',
    labelNames: ['api', 'version'] as const,
    registers: [this.registry],
  });

  readonly requestErrors = new client.Counter({
    name: 'strata_request_failures_total',
    help: 'Requests that closed their connection (malformed, unsupported version, internal error), by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly requestLatency = new client.Histogram({
    name: 'strata_request_duration_seconds',
    help: 'Time from a request being read to its response being written, by API and version.',
    labelNames: ['api', 'version'] as const,
    // From 50 µs to 30 s: a produce to the page cache at the low end, a long-polling fetch at the top.
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly bytesIn = new client.Counter({
    name: 'strata_topic_bytes_in_total',
    help: 'Record batch bytes appended, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly bytesOut = new client.Counter({
    name: 'strata_topic_bytes_out_total',
    help: 'Record batch bytes sent to fetchers, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly cleanerBytesRead = new client.Counter({
    name: 'strata_log_cleaner_read_bytes_total',
    help: 'Bytes read by compaction passes.',
    registers: [this.registry],
  });

  readonly cleanerBytesRemoved = new client.Counter({
    name: 'strata_log_cleaner_removed_bytes_total',
    help: 'Bytes by which compaction passes shrank the segments they rewrote.',
    registers: [this.registry],
  });

  readonly cleanerRecordsRemoved = new client.Counter({
    name: 'strata_log_cleaner_removed_records_total',
    help: 'Records compaction removed: superseded by a later record with the same key, expired tombstones, and records without a key.',
    registers: [this.registry],
  });

  readonly cleanerLastPassSeconds = new client.Gauge({
    name: 'strata_log_cleaner_last_pass_seconds',
    help: 'How long the last compaction pass took, pauses included.',
    registers: [this.registry],
  });

  readonly connections = new client.Gauge({
    name: 'strata_connections',
    help: 'Open client connections.',
    registers: [this.registry],
  });

  readonly partitions = new client.Gauge({
    name: 'strata_partitions',
    help: 'Partitions hosted by this broker.',
    registers: [this.registry],
  });

  /** Set by the broker once its logs are open; read at scrape time, so sizes are never stale. */
  logSizes: () => Iterable<{ topic: string; partition: number; bytes: number }> = () => [];

  readonly logSize: client.Gauge<'topic' | 'partition'> = (() => {
    const metrics = this;
    return new client.Gauge({
      name: 'strata_log_size_bytes',
      help: 'Bytes on local disk, by topic and partition.',
      labelNames: ['topic', 'partition'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of metrics.logSizes()) this.set({ topic: s.topic, partition: String(s.partition) }, s.bytes);
      },
    });
  })();

  /** Set by the broker once its log directories are prepared; read at scrape time. */
  logDirs: () => Iterable<{ dir: string; online: boolean }> = () => [];

  // Kafka's LogManager gauges OfflineLogDirectoryCount and LogDirectoryOffline (per directory, 1
  // when offline), under Strata's prefix.
  readonly offlineLogDirs: client.Gauge = (() => {
    const metrics = this;
    return new client.Gauge({
      name: 'strata_log_manager_offline_log_directory_count',
      help: 'Log directories offline after an I/O failure (they stay offline until the broker restarts).',
      registers: [this.registry],
      collect() {
        let n = 0;
        for (const d of metrics.logDirs()) if (!d.online) n++;
        this.set(n);
      },
    });
  })();

  readonly logDirOffline: client.Gauge<'log_directory'> = (() => {
    const metrics = this;
    return new client.Gauge({
      name: 'strata_log_manager_log_directory_offline',
      help: '1 when the log directory is offline, 0 when online.',
      labelNames: ['log_directory'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const d of metrics.logDirs()) this.set({ log_directory: d.dir }, d.online ? 0 : 1);
      },
    });
  })();

  /** Set by the broker once the group coordinator exists; read at scrape time. */
  groups: GroupMetricsSource | undefined;

  // Consumer group offsets and lag under the names of the widely used Kafka lag exporter, so
  // existing dashboards and alerts work against the broker itself.
  readonly groupOffset: client.Gauge<'consumergroup' | 'topic' | 'partition'> = (() => {
    const metrics = this;
    return new client.Gauge({
      name: 'kafka_consumergroup_current_offset',
      help: 'Committed offset of a consumer group, by group, topic and partition.',
      labelNames: ['consumergroup', 'topic', 'partition'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        if (metrics.groups === undefined) return;
        for (const c of metrics.groups.committedOffsets(GROUP_OFFSET_SERIES_MAX)) {
          this.set({ consumergroup: c.group, topic: c.topic, partition: String(c.partition) }, c.offset);
        }
      },
    });
  })();

  readonly groupLag: client.Gauge<'consumergroup' | 'topic' | 'partition'> = (() => {
    const metrics = this;
    return new client.Gauge({
      name: 'kafka_consumergroup_lag',
      help: 'Records between the high watermark and the committed offset of a consumer group, by group, topic and partition.',
      labelNames: ['consumergroup', 'topic', 'partition'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        if (metrics.groups === undefined) return;
        for (const c of metrics.groups.committedOffsets(GROUP_OFFSET_SERIES_MAX)) {
          this.set({ consumergroup: c.group, topic: c.topic, partition: String(c.partition) }, c.lag);
        }
      },
    });
  })();

  readonly groupCount: client.Gauge<'type' | 'state'> = (() => {
    const metrics = this;
    return new client.Gauge({
      name: 'strata_groups',
      help: 'Consumer groups by protocol type (classic, consumer) and state.',
      labelNames: ['type', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const g of metrics.groups?.groupCounts() ?? []) this.set({ type: g.type, state: g.state }, g.count);
      },
    });
  })();

  readonly groupRebalances: client.Counter<'type'> = (() => {
    const metrics = this;
    return new client.Counter({
      name: 'strata_group_rebalances_total',
      help: 'Completed rebalances of classic groups, and group epoch bumps of consumer groups.',
      labelNames: ['type'] as const,
      registers: [this.registry],
      collect() {
        if (metrics.groups === undefined) return;
        const r = metrics.groups.rebalanceCounts();
        this.reset();
        this.inc({ type: 'classic' }, r.classic);
        this.inc({ type: 'consumer' }, r.consumer);
      },
    });
  })();

  // Tiered storage (broker/tiered/), after Kafka's RemoteCopy*/RemoteFetch*/RemoteDelete* metrics.
  readonly remoteCopyBytes = new client.Counter({
    name: 'strata_remote_copy_bytes_total',
    help: 'Segment bytes uploaded to the object store, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly remoteCopySegments = new client.Counter({
    name: 'strata_remote_copy_segments_total',
    help: 'Segments uploaded to the object store, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly remoteDeleteSegments = new client.Counter({
    name: 'strata_remote_delete_segments_total',
    help: 'Remote segments deleted by retention, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly remoteFetchBytes = new client.Counter({
    name: 'strata_remote_fetch_bytes_total',
    help: 'Record batch bytes read back from the object store for fetches, by topic.',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });

  readonly remoteFetchLatency = new client.Histogram({
    name: 'strata_remote_fetch_duration_seconds',
    help: 'Time to serve one partition of a fetch from the object store (cache hits included).',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly remoteErrors = new client.Counter({
    name: 'strata_remote_errors_total',
    help: 'Object store failures, by operation (copy, delete, fetch, load) and kind (throttled, unavailable, timeout, denied, no-bucket, not-found, precondition-failed, corrupt, fenced, other).',
    labelNames: ['operation', 'kind'] as const,
    registers: [this.registry],
  });

  /** Set by the broker when tiered storage is on; read at scrape time. */
  tiered: { backlog(): Iterable<{ topic: string; partition: number; segments: number; bytes: number }>; cache: { stats: Readonly<RemoteCacheStats>; bytes: number; diskBytes: number } } | undefined;

  readonly remoteCopyLagBytes: client.Gauge<'topic' | 'partition'> = (() => {
    const metrics = this;
    return new client.Gauge({
      name: 'strata_remote_copy_lag_bytes',
      help: 'Bytes of closed segments not yet in the object store (the upload backlog), by topic and partition.',
      labelNames: ['topic', 'partition'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const b of metrics.tiered?.backlog() ?? []) this.set({ topic: b.topic, partition: String(b.partition) }, b.bytes);
      },
    });
  })();

  readonly remoteCopyLagSegments: client.Gauge<'topic' | 'partition'> = (() => {
    const metrics = this;
    return new client.Gauge({
      name: 'strata_remote_copy_lag_segments',
      help: 'Closed segments not yet in the object store (the upload backlog), by topic and partition.',
      labelNames: ['topic', 'partition'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const b of metrics.tiered?.backlog() ?? []) this.set({ topic: b.topic, partition: String(b.partition) }, b.segments);
      },
    });
  })();

  readonly remoteCacheRequests = scrapedCounter(
    this.registry,
    'strata_remote_cache_requests_total',
    'Lookups in the remote read cache (indexes and data chunks), by result: memory and disk (hits in that tier), miss (read from the bucket), coalesced (joined a load in flight).',
    'result',
    () => {
      const s = this.tiered?.cache.stats;
      return s && { memory: s.memoryHits, disk: s.diskHits, miss: s.misses, coalesced: s.coalesced };
    },
  );

  readonly remoteCacheBytes: client.Gauge<'tier'> = (() => {
    const metrics = this;
    return new client.Gauge({
      name: 'strata_remote_cache_bytes',
      help: 'Bytes held by the remote read cache, by tier: memory (bounded by strata.tiered.cache.memory.bytes) and disk (strata.tiered.cache.disk.bytes, writes in flight included).',
      labelNames: ['tier'] as const,
      registers: [this.registry],
      collect() {
        this.set({ tier: 'memory' }, metrics.tiered?.cache.bytes ?? 0);
        this.set({ tier: 'disk' }, metrics.tiered?.cache.diskBytes ?? 0);
      },
    });
  })();

  readonly remoteCacheBucketBytes = scrapedCounter(
    this.registry,
    'strata_remote_cache_bucket_bytes_total',
    'Bytes the remote read cache read from the object store (misses and read-ahead).',
    null,
    () => {
      const s = this.tiered?.cache.stats;
      return s && { '': s.bucketBytes };
    },
  );

  readonly remotePrefetches = scrapedCounter(
    this.registry,
    'strata_remote_prefetches_total',
    'Read-ahead loads for sequential remote readers, by result: done, failed (counted only; the reader loads the chunk itself), skipped (the broker-wide bound of loads in flight was reached).',
    'result',
    () => {
      const s = this.tiered?.cache.stats;
      return s && { done: s.prefetches, failed: s.prefetchFailures, skipped: s.prefetchesSkipped };
    },
  );

  readonly remoteCacheDiskErrors = scrapedCounter(
    this.registry,
    'strata_remote_cache_disk_errors_total',
    'Disk tier failures of the remote read cache, by kind: corrupt (a file failed its length or CRC check; deleted and refetched), io (a read or write failed; the entry is fetched from the bucket).',
    'kind',
    () => {
      const s = this.tiered?.cache.stats;
      return s && { corrupt: s.diskCorrupt, io: s.diskErrors };
    },
  );

  readonly requestMemory = new client.Gauge({
    name: 'strata_request_memory_bytes',
    help: 'Bytes of requests read but not yet answered (bounded by strata.request.memory.max.bytes).',
    registers: [this.registry],
  });

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'strata_process_' });
  }
}
