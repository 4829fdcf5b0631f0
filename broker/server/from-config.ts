// Turns the loaded broker configuration into what the broker's parts take: broker options, the
// topic config policy the handlers use, and each partition's log settings.
import { hostname } from 'node:os';
import {
  type BrokerConfig,
  type ConfigEntry,
  describeTopicConfigs,
  effectiveTopicConfig,
  topicKey,
  validateTopicConfigs,
} from '../config/index.js';
import type { FaultInjector, LogConfig } from '../log/types.js';
import type { DescribedConfig, TopicConfigPolicy } from '../handlers/context.js';
import type { Logger } from '../observability/logger.js';
import { BROKER_HANDLERS, CONSUMER_PROTOCOL_API_KEYS } from '../handlers/index.js';
import type { LogFactory } from '../cluster/topics.js';
import type { BrokerOptions } from './broker.js';
import type { DynamicBrokerConfig } from './dynamic-config.js';
import { LocalObjectStore } from '../tiered/local-store.js';
import { S3ObjectStore } from '../tiered/s3-store.js';

function described(e: ConfigEntry): DescribedConfig {
  return { ...e, synonyms: e.synonyms.map((s) => ({ name: s.name, value: s.value, source: s.source })) };
}

/** Topic configs checked and described against the broker defaults of the moment (they change
 *  when dynamic broker configs do). */
export function topicConfigPolicy(current: () => BrokerConfig): TopicConfigPolicy {
  return {
    problem: (entries, existing) => {
      const check = validateTopicConfigs(entries, current());
      if (!check.ok) return { key: check.key, message: check.message };
      return tieredTopicProblem(entries, current(), existing);
    },
    describe: (overrides) => describeTopicConfigs(current(), overrides).map(described),
    isList: (name) => topicKey(name)?.type === 'list',
  };
}

/**
 * Kafka's rules for tiered topics, checked where a topic's configs are set: the broker switch must be
 * on, compaction cannot be combined with it, the local retention may not exceed the whole log's, and
 * with uploads stopped (remote.log.copy.disable) it must be the whole log's. Turning tiering off for a
 * topic that has it (`existing`, the topic's overrides before the change) is allowed only together
 * with remote.log.delete.on.disable=true (KIP-950: the remote copy is deleted, never left behind).
 * Other topics are unaffected.
 */
export function tieredTopicProblem(
  entries: Readonly<Record<string, string | null>>,
  broker: BrokerConfig,
  existing?: Readonly<Record<string, string>>,
): { key: string; message: string } | null {
  const t = effectiveTopicConfig(broker, Object.fromEntries(Object.entries(entries).filter((e): e is [string, string] => e[1] !== null)));
  if (!t.remoteStorageEnable) {
    const wasTiered = existing !== undefined && effectiveTopicConfig(broker, existing).remoteStorageEnable;
    if (wasTiered && !t.remoteLogDeleteOnDisable) {
      return {
        key: 'remote.storage.enable',
        message:
          'remote.storage.enable cannot be turned off while the remote data is kept. To keep the remote data read-only, set remote.storage.enable=true with remote.log.copy.disable=true; ' +
          'to turn remote storage off and delete the remote data, set remote.storage.enable=false with remote.log.delete.on.disable=true.',
      };
    }
    return null;
  }
  if (!broker.remoteLogStorageSystemEnable) {
    return { key: 'remote.storage.enable', message: 'remote.storage.enable=true needs tiered storage on the broker (remote.log.storage.system.enable=true)' };
  }
  if (t.cleanupPolicy.includes('compact')) {
    return { key: 'cleanup.policy', message: 'a tiered topic (remote.storage.enable=true) cannot use cleanup.policy=compact' };
  }
  const pairs: [string, number, string, number][] = [
    ['local.retention.ms', t.localRetentionMs, 'retention.ms', t.retentionMs],
    ['local.retention.bytes', t.localRetentionBytes, 'retention.bytes', t.retentionBytes],
  ];
  for (const [localKey, local, wholeKey, whole] of pairs) {
    // -2 means "the whole log's"; -1 is unlimited on either side.
    if (local === -2) continue;
    if (whole !== -1 && (local === -1 || local > whole)) {
      return { key: localKey in entries ? localKey : wholeKey, message: `${localKey} (${local}) must not exceed ${wholeKey} (${whole}) on a tiered topic` };
    }
  }
  if (t.remoteLogCopyDisable) {
    // Nothing more is uploaded, so only the whole log's retention means anything locally.
    for (const [localKey, local, wholeKey, whole] of [pairs[1]!, pairs[0]!]) {
      if (local !== -2 && local !== whole) {
        return {
          key: localKey,
          message: `with remote.log.copy.disable=true, ${localKey} (${local}) must be -2 or equal to ${wholeKey} (${whole}): no more segments are uploaded, so local data goes by ${wholeKey}`,
        };
      }
    }
  }
  return null;
}

/** Most groups (classic and consumer together) the coordinator holds; one more is refused with
 *  GROUP_MAX_SIZE_REACHED. Kafka has no such bound; this keeps memory bounded. */
const GROUPS_MAX = 100_000;

/** A partition's log settings: the broker defaults under the topic's overrides. */
export function logConfigFor(config: BrokerConfig, overrides: Record<string, string>): LogConfig {
  const t = effectiveTopicConfig(config, overrides);
  return {
    segmentBytes: t.segmentBytes,
    segmentMs: t.segmentMs,
    segmentJitterMs: t.segmentJitterMs,
    indexIntervalBytes: t.indexIntervalBytes,
    segmentIndexBytes: t.segmentIndexBytes,
    flushMessages: t.flushMessages,
    flushMs: t.flushMs,
    maxMessageBytes: t.maxMessageBytes,
    messageTimestampType: t.messageTimestampType,
    messageTimestampBeforeMaxMs: t.messageTimestampBeforeMaxMs,
    messageTimestampAfterMaxMs: t.messageTimestampAfterMaxMs,
    retentionMs: t.retentionMs,
    retentionBytes: t.retentionBytes,
    cleanupPolicy: { delete: t.cleanupPolicy.includes('delete'), compact: t.cleanupPolicy.includes('compact') },
    deleteRetentionMs: t.deleteRetentionMs,
    minCleanableDirtyRatio: t.minCleanableDirtyRatio,
    minCompactionLagMs: t.minCompactionLagMs,
    maxCompactionLagMs: t.maxCompactionLagMs,
    compressionType: t.compressionType,
    compressionGzipLevel: t.compressionGzipLevel,
    compressionZstdLevel: t.compressionZstdLevel,
    fileDeleteDelayMs: t.fileDeleteDelayMs,
    minInsyncReplicas: t.minInsyncReplicas,
    // A topic keeps remote.storage.enable while the broker switch is off (as Kafka stores it), but
    // its log runs untiered: nothing uploads it or reads it back.
    remoteStorageEnable: t.remoteStorageEnable && config.remoteLogStorageSystemEnable,
    localRetentionMs: t.localRetentionMs,
    localRetentionBytes: t.localRetentionBytes,
    remoteLogCopyDisable: t.remoteLogCopyDisable,
  };
}

/** Attempts the S3 client makes per request before a failure reaches the retry logic above it. */
const S3_ATTEMPTS = 2;

/** The object store and the tiered manager's settings, or null when tiered storage is off. */
export function tieredOptions(config: BrokerConfig): BrokerOptions['tiered'] {
  if (!config.remoteLogStorageSystemEnable) return null;
  const local = config.strataTieredStore === 'local' ? new LocalObjectStore(config.strataTieredLocalDir ?? `${config.logDirs[0]!.replace(/\/+$/, '')}-tiered`) : null;
  const store =
    local ??
    new S3ObjectStore({
      ...(config.strataTieredS3Endpoint === null ? {} : { endpoint: config.strataTieredS3Endpoint }),
      region: config.strataTieredS3Region,
      bucket: config.strataTieredS3Bucket!,
      prefix: config.strataTieredS3Prefix,
      pathStyle: config.strataTieredS3PathStyle,
      requestTimeoutMs: config.strataTieredS3RequestTimeoutMs,
      maxAttempts: S3_ATTEMPTS,
    });
  return {
    store,
    ...(local === null ? {} : { init: () => local.init() }),
    fetchMaxWaitMs: config.remoteFetchMaxWaitMs,
    manager: {
      taskIntervalMs: config.remoteLogManagerTaskIntervalMs,
      retryBackoffMs: config.remoteLogManagerTaskRetryBackoffMs,
      retryBackoffMaxMs: config.remoteLogManagerTaskRetryBackoffMaxMs,
      copyConcurrency: config.remoteLogManagerCopierThreadPoolSize,
      copyBytesPerSecond: config.remoteLogManagerCopyMaxBytesPerSecond,
      partBytes: config.strataTieredUploadPartBytes,
      cacheBytes: config.strataTieredCacheMemoryBytes,
      cacheDisk: { dir: config.strataTieredCacheDir ?? `${config.logDirs[0]!.replace(/\/+$/, '')}-remote-cache`, maxBytes: config.strataTieredCacheDiskBytes },
      readAheadChunks: config.strataTieredCacheReadAheadChunks,
    },
  };
}

/** The broker's options from its configuration: static settings from the loaded config, and
 *  everything that dynamic broker configs may change read through `dynamic` when used. */
export function brokerOptions(
  dynamic: DynamicBrokerConfig,
  log: Logger,
  openLog: LogFactory['open'],
  process: { halt: (reason: string) => void; faultsFor?: (logDir: string) => FaultInjector },
): BrokerOptions {
  const config = dynamic.current;
  const consumerProtocol = config.groupCoordinatorRebalanceProtocols.includes('consumer');
  const first = config.listeners[0]!;
  const advertised = config.advertisedListeners.find((l) => l.name === first.name) ?? first;
  return {
    nodeId: config.nodeId,
    ...(config.strataClusterId === null ? {} : { clusterId: config.strataClusterId }),
    logDirs: config.logDirs,
    halt: process.halt,
    ...(process.faultsFor === undefined ? {} : { faultsFor: process.faultsFor }),
    onLogDirs: (dirs) => {
      dynamic.writer = (name, text) => dirs.writeEverywhere(name, text);
    },
    listeners: config.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port })),
    // An empty advertised host means this machine's name; port 0 the port actually bound.
    advertised: { host: advertised.host === '' ? hostname() : advertised.host, port: advertised.port },
    rack: config.brokerRack,
    http: config.strataHttpListener,
    requestMaxBytes: config.socketRequestMaxBytes,
    requestMemoryMaxBytes: config.requestMemoryMaxBytes,
    maxConnections: config.maxConnections,
    connectionsMaxIdleMs: config.connectionsMaxIdleMs,
    settings: {
      autoCreateTopics: config.autoCreateTopicsEnable,
      numPartitions: config.numPartitions,
      defaultReplicationFactor: config.defaultReplicationFactor,
      deleteTopicEnable: config.deleteTopicEnable,
    },
    logs: { open: openLog, configFor: (overrides) => logConfigFor(dynamic.current, overrides) },
    topicConfigs: topicConfigPolicy(() => dynamic.current),
    brokerConfig: dynamic,
    handlers: consumerProtocol ? BROKER_HANDLERS : BROKER_HANDLERS.filter((h) => !CONSUMER_PROTOCOL_API_KEYS.includes(h.apiKey)),
    groups: {
      settings: {
        initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
        maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
        maxGroupSize: config.groupMaxSize,
        consumerSessionTimeoutMs: config.groupConsumerSessionTimeoutMs,
        consumerHeartbeatIntervalMs: config.groupConsumerHeartbeatIntervalMs,
        consumerMaxGroupSize: config.groupConsumerMaxSize,
        consumerAssignors: config.groupConsumerAssignors,
        offsetsRetentionMs: config.offsetsRetentionMinutes * 60_000,
        offsetMetadataMaxBytes: config.offsetMetadataMaxBytes,
        maxGroups: GROUPS_MAX,
      },
      offsetsTopic: { numPartitions: config.offsetsTopicNumPartitions, segmentBytes: config.offsetsTopicSegmentBytes },
      offsetsRetentionCheckIntervalMs: config.offsetsRetentionCheckIntervalMs,
      consumerProtocolEnabled: consumerProtocol,
    },
    tiered: tieredOptions(config),
    retentionCheckIntervalMs: config.logRetentionCheckIntervalMs,
    flushSchedulerIntervalMs: config.logFlushSchedulerIntervalMs,
    cleaner: config.logCleanerEnable
      ? { backoffMs: config.logCleanerBackoffMs, dedupeBufferBytes: config.logCleanerDedupeBufferSize, ioMaxBytesPerSecond: config.logCleanerIoMaxBytesPerSecond }
      : null,
    log,
  };
}
