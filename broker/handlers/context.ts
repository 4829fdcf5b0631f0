// What a handler may use: the broker's state, seen through narrow interfaces so handlers can be
// tested without sockets.
import type { RequestHeader } from '../protocol/generated/index.js';
import type { Logger } from '../observability/logger.js';
import type { BrokerMetrics } from '../observability/metrics.js';
import type { TopicRegistry } from '../cluster/topics.js';
import type { ReadBufferPool } from '../net/read-buffers.js';
import type * as G from '../protocol/generated/index.js';

export interface BrokerIdentity {
  nodeId: number;
  clusterId: string;
  /** The address clients are told to connect to (advertised.listeners). */
  host: string;
  port: number;
  rack: string | null;
}

export interface BrokerContext {
  readonly identity: BrokerIdentity;
  readonly topics: TopicRegistry;
  /** The log directories (log.dirs), online or not. */
  readonly logDirs: LogDirsView;
  readonly metrics: BrokerMetrics;
  readonly log: Logger;
  readonly nowMs: () => number;
  readonly settings: BrokerSettings;
  /** Wakes fetches waiting on a partition when records arrive or the high watermark moves. */
  readonly fetchWakeup: FetchWakeup;
  readonly producerIds: { next(): bigint };
  readonly topicConfigs: TopicConfigPolicy;
  readonly brokerConfig: BrokerConfigControl;
  /** Consumer groups and committed offsets (broker/coordinator/). */
  readonly groups: GroupCoordinatorApi;
  /** Pooled buffers that Fetch reads record data into (see net/read-buffers.ts). */
  readonly readBuffers: ReadBufferPool;
  /** Reads below the local log start of tiered topics; null when tiered storage is off. */
  readonly tiered: TieredReads | null;
}

/** Tiered storage as Fetch and ListOffsets see it (broker/tiered/remote-log-manager.ts). */
export interface TieredReads {
  /** remote.fetch.max.wait.ms: the longest a Fetch waits for its remote reads. */
  readonly fetchMaxWaitMs: number;
  /** Whole batches from the bucket; rejects with an error carrying a Kafka `errorCode`. */
  read(
    p: { topic: string; topicId: string; partition: number; log: import('../log/partition-log.js').TieredLogView },
    fetchOffset: number,
    maxBytes: number,
    maxOffsetExclusive: number,
    minOneBatch: boolean,
  ): Promise<{ records: Buffer; bytes: number; firstOffset: number }>;
  /** ListOffsets LATEST_TIERED (-5): the last offset in the bucket, -1 when none. */
  latestTieredOffset(topicId: string, partition: number): number;
  /** ListOffsets by timestamp in the bucket: the first record at or after `startingOffset` with a
   *  timestamp at least `targetMs`, or null; rejects with an error carrying a Kafka `errorCode`. */
  offsetForTimestamp(p: TieredPartitionRef, targetMs: number, startingOffset: number): Promise<{ offset: number; timestamp: number; leaderEpoch: number } | null>;
  /** ListOffsets MAX_TIMESTAMP (-3) in the bucket: the first record with the largest remote timestamp, or null. */
  maxTimestampOffset(p: TieredPartitionRef): Promise<{ offset: number; timestamp: number; leaderEpoch: number } | null>;
  /** A topic was deleted: its remote objects are deleted in the background (never waited on). */
  topicDeleted(name: string, topicId: string): void;
  /** A topic's tiered storage was turned off (remote.log.delete.on.disable=true): its remote objects
   *  are deleted in the background, as for a deleted topic (never waited on). */
  remoteStorageDisabled(name: string, topicId: string): void;
}

type TieredPartitionRef = { topic: string; topicId: string; partition: number; log: import('../log/partition-log.js').TieredLogView };

/** The log directories as DescribeLogDirs sees them. */
export interface LogDirsView {
  readonly dirs: readonly { readonly path: string; readonly online: boolean }[];
  /** statfs of an online directory; throws on an I/O failure. */
  spaceOf(logDir: string): { totalBytes: number; usableBytes: number };
}

/** The group coordinator as the group and offset APIs see it. Version differences live behind it,
 *  so each handler is the contract header plus one call. */
export interface GroupCoordinatorApi {
  /** Whether this broker coordinates the group: NONE, or the Kafka error code to answer. */
  findGroupCoordinator(groupId: string): number;
  joinGroup(req: G.JoinGroupRequest, info: RequestInfo): Promise<G.JoinGroupResponse>;
  syncGroup(req: G.SyncGroupRequest, info: RequestInfo): Promise<G.SyncGroupResponse>;
  heartbeat(req: G.HeartbeatRequest, info: RequestInfo): G.HeartbeatResponse;
  leaveGroup(req: G.LeaveGroupRequest, info: RequestInfo): Promise<G.LeaveGroupResponse>;
  offsetCommit(req: G.OffsetCommitRequest, info: RequestInfo): Promise<G.OffsetCommitResponse>;
  offsetFetch(req: G.OffsetFetchRequest, info: RequestInfo): G.OffsetFetchResponse;
  describeGroups(req: G.DescribeGroupsRequest, info: RequestInfo): G.DescribeGroupsResponse;
  listGroups(req: G.ListGroupsRequest, info: RequestInfo): G.ListGroupsResponse;
  deleteGroups(req: G.DeleteGroupsRequest, info: RequestInfo): Promise<G.DeleteGroupsResponse>;
  offsetDelete(req: G.OffsetDeleteRequest, info: RequestInfo): Promise<G.OffsetDeleteResponse>;
  consumerGroupHeartbeat(req: G.ConsumerGroupHeartbeatRequest, info: RequestInfo): Promise<G.ConsumerGroupHeartbeatResponse>;
  consumerGroupDescribe(req: G.ConsumerGroupDescribeRequest, info: RequestInfo): G.ConsumerGroupDescribeResponse;
  /** Whether the consumer protocol (KIP-848) is on (group.coordinator.rebalance.protocols). */
  readonly consumerProtocolEnabled: boolean;
}

/** The broker's own configs as the config APIs see them: a cluster-wide default layer (resource
 *  name "") and this broker's layer (its node id) over the static configuration. */
export interface BrokerConfigControl {
  describe(): DescribedConfig[];
  layer(scope: 'cluster-default' | 'broker'): Readonly<Record<string, string>>;
  /** Replaces a layer; a Kafka error code and message when refused, else null. */
  replace(scope: 'cluster-default' | 'broker', next: Record<string, string>, validateOnly: boolean): { errorCode: number; message: string } | null;
}

/** One config as DescribeConfigs and CreateTopics (v5+) report it. */
export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  isDefault: boolean;
  sensitive: boolean;
  configType: number;
  documentation: string;
  synonyms: readonly { name: string; value: string | null; source: number }[];
}

/** Topic-level configuration as CreateTopics and the config APIs need it. */
export interface TopicConfigPolicy {
  /** null when every entry is a known topic key with a valid value and the set is allowed (given
   *  the topic's overrides before the change, `existing`, when it exists); else the first bad key. */
  problem(entries: Record<string, string | null>, existing?: Readonly<Record<string, string>>): { key: string; message: string } | null;
  /** Every topic key with its effective value for a topic with these overrides. */
  describe(overrides: Record<string, string>): DescribedConfig[];
  /** Which topic keys hold lists (APPEND and SUBTRACT apply only to them). */
  isList(name: string): boolean;
}

/** The broker-level settings handlers read. */
export interface BrokerSettings {
  autoCreateTopics: boolean;
  numPartitions: number;
  defaultReplicationFactor: number;
  deleteTopicEnable: boolean;
}

export interface FetchWakeup {
  /** Resolves on the next append to any of the keys, or after `ms`; false once the broker is stopping. */
  wait(keys: string[], ms: number): Promise<boolean>;
  notify(key: string): void;
}

export interface RequestInfo {
  header: RequestHeader;
  version: number;
  clientAddress: string;
  /**
   * Runs `release` once the response no longer needs memory it borrows (pooled read buffers): after
   * it is written to the socket, or at once when there is no response to write.
   */
  onResponseReleased(release: () => void): void;
}

export type Handler<Req = any, Res = any> = (ctx: BrokerContext, req: Req, info: RequestInfo) => Res | Promise<Res> | undefined;

/** One API as the broker serves it. `minVersion` is the lowest advertised; `minUsableVersion` the
 *  lowest accepted (Kafka 4.x advertises some removed versions for librdkafka's feature checks but
 *  refuses them on use). */
export interface ApiHandler {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
  handle: Handler;
}
