// The group coordinator: classic groups, consumer-protocol groups (KIP-848) and committed offsets,
// held in memory and made durable in the internal topic __consumer_offsets with Kafka's record
// schemas. This file wires the three pure parts (classic/, consumer/, offsets/) to the broker: it
// owns the __consumer_offsets partition logs, loads them at start-up one partition at a time
// (requests for a group whose partition is still loading get COORDINATOR_LOAD_IN_PROGRESS, the
// other partitions are served meanwhile), appends every state change before the answer goes out,
// expires offsets every offsets.retention.check.interval.ms, and exports lag metrics.
//
// One broker is the coordinator of every group (single node); a group's records go to partition
// partitionFor(groupId) of __consumer_offsets, as Kafka places them, so Kafka's tools read them.
import { isIP } from 'node:net';
import type { TopicRegistry, Topic } from '../cluster/topics.js';
import type { GroupCoordinatorApi, RequestInfo } from '../handlers/context.js';
import type { Logger } from '../observability/logger.js';
import * as G from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { ClassicGroups } from './classic/classic-groups.js';
import { appendErrorToResponseError } from './classic/errors.js';
import { ConsumerGroups } from './consumer/consumer-groups.js';
import type { ConsumerGroupRecord } from './consumer/records.js';
import { fromCoordinatorRecord, toCoordinatorRecord } from './consumer-records.js';
import { ExpiryConditions, classicGroupExpiry, type ExpiryCondition } from './offsets/expiry.js';
import { OffsetStore } from './offsets/offset-store.js';
import {
  type CoordinatorRecord,
  type EncodedRecord,
  buildCoordinatorBatch,
  encodeRecord,
  loadCoordinatorLog,
  partitionFor,
} from './records/index.js';
import type { CoordinatorSettings, Scheduler, TimerHandle, TopicView } from './types.js';

export const OFFSETS_TOPIC = '__consumer_offsets';
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Bytes read per step while loading a partition (Kafka's offsets.load.buffer.size default). */
const LOAD_CHUNK_BYTES = 5 * 1024 * 1024;
/** Largest decompressed batch the loader accepts. */
const LOAD_DECOMPRESSED_MAX_BYTES = 64 * 1024 * 1024;

export interface GroupCoordinatorOptions {
  topics: TopicRegistry;
  settings: CoordinatorSettings;
  offsetsTopic: { numPartitions: number; segmentBytes: number };
  offsetsRetentionCheckIntervalMs: number;
  consumerProtocolEnabled: boolean;
  log: Logger;
  scheduler?: Scheduler;
  /** Told after every append to __consumer_offsets, so fetches waiting on it wake. */
  onAppend?: (topic: string, partition: number) => void;
}

/** Real time and timers. Timers are unref'd: the coordinator never keeps the process alive. */
export const realScheduler: Scheduler = {
  nowMs: () => Date.now(),
  after(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** An append to __consumer_offsets that failed, with the Kafka code it failed with. */
class AppendFailure extends Error {
  constructor(
    readonly errorCode: number,
    cause: unknown,
  ) {
    super(`append to ${OFFSETS_TOPIC} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

function topicView(topics: TopicRegistry): TopicView {
  return {
    byName(name) {
      const t = topics.get(name);
      return t === undefined ? undefined : { id: t.id, partitionCount: t.partitions.length };
    },
    byId(id) {
      const t = topics.getById(id);
      return t === undefined ? undefined : { name: t.name, partitionCount: t.partitions.length };
    },
    names: () => topics.all().map((t) => t.name),
  };
}

export class GroupCoordinator implements GroupCoordinatorApi {
  readonly consumerProtocolEnabled: boolean;
  readonly classic: ClassicGroups;
  readonly consumer: ConsumerGroups;
  readonly offsets: OffsetStore;
  private readonly scheduler: Scheduler;
  private readonly topicsView: TopicView;
  private offsetsTopic: Topic | undefined;
  /** __consumer_offsets partitions not loaded yet. */
  private readonly loading = new Set<number>();
  private loaded: Promise<void> = Promise.resolve();
  private expiryTimer: TimerHandle | undefined;
  private expiring = false;
  private closed = false;
  private rebalances = { classic: 0 };

  constructor(private readonly opts: GroupCoordinatorOptions) {
    this.consumerProtocolEnabled = opts.consumerProtocolEnabled;
    this.scheduler = opts.scheduler ?? realScheduler;
    this.topicsView = topicView(opts.topics);
    this.offsets = new OffsetStore({ settings: opts.settings, topics: this.topicsView, clock: this.scheduler });
    this.classic = new ClassicGroups({
      scheduler: this.scheduler,
      settings: opts.settings,
      listener: {
        onGroupChanged: (snapshot) => this.write([encodeRecord({ type: 'group-metadata', key: { groupId: snapshot.groupId }, value: snapshot.metadata })]),
        onGroupDeleted: (groupId) => this.deleteGroupRecords(groupId, true),
        onRebalanceCompleted: () => {
          this.rebalances.classic++;
        },
      },
    });
    this.consumer = new ConsumerGroups({
      settings: opts.settings,
      scheduler: this.scheduler,
      topics: this.topicsView,
      onRecords: (records) => this.writeConsumerRecords(records),
      classicGroups: {
        classicGroupState: (groupId) => {
          if (!this.classic.has(groupId)) return undefined;
          return this.classic.isEmptyOrAbsent(groupId) ? 'empty' : 'nonEmpty';
        },
        deleteEmptyClassicGroup: (groupId) => {
          this.classic.removeGroup(groupId);
          void this.write([encodeRecord({ type: 'group-metadata', key: { groupId }, value: null })]).catch(() => {});
        },
      },
      otherGroupCount: () => this.classic.groupCount(),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Life cycle

  /**
   * Starts loading __consumer_offsets if it exists; resolves when all is loaded. A missing topic is
   * created on the first group request (FindCoordinator and the rest), as Kafka does, so a broker that
   * never sees a group does not pay for its 50 partitions at start-up.
   */
  start(): Promise<void> {
    const topic = this.opts.topics.get(OFFSETS_TOPIC);
    if (topic === undefined) {
      this.consumer.onLoaded();
      return this.loaded;
    }
    this.offsetsTopic = topic;
    for (const p of topic.partitions) this.loading.add(p.index);
    this.loaded = this.loadAll(topic);
    this.scheduleExpiry();
    return this.loaded;
  }

  /** The __consumer_offsets topic, created empty (so with nothing to load) when missing. */
  private ensureOffsetsTopic(): Topic | undefined {
    if (this.offsetsTopic !== undefined || this.closed) return this.offsetsTopic;
    const { topics, offsetsTopic } = this.opts;
    // Compaction keeps the latest record per key; nothing may be deleted by time or size, or
    // committed offsets would vanish after retention.ms.
    this.offsetsTopic = topics.create(OFFSETS_TOPIC, offsetsTopic.numPartitions, {
      'cleanup.policy': 'compact',
      'segment.bytes': String(offsetsTopic.segmentBytes),
      'compression.type': 'producer',
      'retention.ms': '-1',
      'retention.bytes': '-1',
    });
    this.opts.log.info('created internal topic', { topic: OFFSETS_TOPIC, partitions: offsetsTopic.numPartitions });
    this.scheduleExpiry();
    return this.offsetsTopic;
  }

  private async loadAll(topic: Topic): Promise<void> {
    const started = Date.now();
    let records = 0;
    for (const p of topic.partitions) {
      if (this.closed) return;
      // A partition in an offline log directory is not loaded; its groups answer
      // COORDINATOR_NOT_AVAILABLE (loadError) until a restart with the directory back.
      if (p.offline) continue;
      try {
        const summary = await loadCoordinatorLog(p.log, (r) => this.replay(r), {
          chunkBytes: LOAD_CHUNK_BYTES,
          maxDecompressedBytes: LOAD_DECOMPRESSED_MAX_BYTES,
        });
        records += summary.records;
        this.loading.delete(p.index);
      } catch (e) {
        // Its log directory failed while it loaded; the other partitions still load.
        this.opts.log.error('loading a __consumer_offsets partition failed', { partition: p.index, err: e });
      }
    }
    // Groups known only by their offsets (simple consumers) exist as Empty classic groups, as Kafka
    // loads them.
    for (const groupId of this.offsets.groupIds()) {
      if (!this.classic.has(groupId) && !this.consumer.has(groupId)) this.classic.getOrCreateSimpleGroup(groupId, true);
    }
    this.consumer.onLoaded();
    this.opts.log.info('group coordinator loaded', {
      partitions: topic.partitions.length,
      records,
      groups: this.classic.groupCount() + this.consumer.groupCount(),
      loadMs: Date.now() - started,
    });
  }

  /** One record read back from __consumer_offsets. */
  private replay(r: CoordinatorRecord): void {
    switch (r.type) {
      case 'offset-commit':
        this.offsets.replay(r);
        return;
      case 'group-metadata':
        if (r.value === null) this.classic.restoreTombstone(r.key.groupId);
        else this.classic.restore({ groupId: r.key.groupId, metadata: r.value });
        return;
      default: {
        const c = fromCoordinatorRecord(r);
        if (c !== null) this.consumer.replay(c);
      }
    }
  }

  /** Resolves once every __consumer_offsets partition is loaded. */
  whenLoaded(): Promise<void> {
    return this.loaded;
  }

  close(): void {
    this.closed = true;
    this.expiryTimer?.cancel();
    this.classic.close();
    this.consumer.close();
  }

  /** Topics were created, deleted or grew: consumer groups recompute their target assignments. */
  onTopicsChanged(): void {
    this.consumer.onTopicsChanged();
  }

  // -------------------------------------------------------------------------------------------
  // Writing to __consumer_offsets

  private partitionOf(groupId: string): number {
    return partitionFor(groupId, this.opts.offsetsTopic.numPartitions);
  }

  /**
   * Appends records (all of one group, or of several) to their __consumer_offsets partitions, one
   * batch per partition, and applies nothing: callers apply after a successful write. Rejects with
   * an AppendFailure carrying the Kafka code the append failed with.
   */
  private write(records: readonly EncodedRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const topic = this.ensureOffsetsTopic();
    if (topic === undefined) return Promise.reject(new AppendFailure(ErrorCode.COORDINATOR_NOT_AVAILABLE, new Error('coordinator closed')));
    const byPartition = new Map<number, EncodedRecord[]>();
    for (const r of records) {
      const p = this.partitionOf(r.record.key.groupId);
      let list = byPartition.get(p);
      if (list === undefined) byPartition.set(p, (list = []));
      list.push(r);
    }
    try {
      for (const [p, list] of byPartition) {
        const partition = topic.partitions[p]!;
        const batch = buildCoordinatorBatch(list, { timestampMs: this.scheduler.nowMs() });
        partition.log.appendAsLeader(batch, partition.leaderEpoch);
        partition.log.updateHighWatermark(partition.log.logEndOffset);
        this.opts.onAppend?.(OFFSETS_TOPIC, p);
      }
    } catch (e) {
      const code = (e as { errorCode?: number }).errorCode;
      this.opts.log.warn('append to __consumer_offsets failed', { error: (e as Error).message });
      return Promise.reject(new AppendFailure(typeof code === 'number' ? code : ErrorCode.KAFKA_STORAGE_ERROR, e));
    }
    return Promise.resolve();
  }

  private writeConsumerRecords(records: readonly ConsumerGroupRecord[]): void {
    // The consumer-group state already reflects these records; a failed write is logged and the
    // state is rebuilt from the log at the next start.
    void this.write(records.map((r) => encodeRecord(toCoordinatorRecord(r)))).catch(() => {});
  }

  /** Tombstones for a deleted group's metadata (classic) and its offsets. */
  private async deleteGroupRecords(groupId: string, classic: boolean): Promise<void> {
    const change = this.offsets.deleteGroup(groupId);
    const records = classic ? [encodeRecord({ type: 'group-metadata', key: { groupId }, value: null }), ...change.records] : change.records;
    await this.write(records);
    this.offsets.apply(change.records);
  }

  // -------------------------------------------------------------------------------------------
  // Load checks

  /** NONE, or COORDINATOR_LOAD_IN_PROGRESS while the group's partition loads. */
  private loadError(groupId: string): number {
    const topic = this.ensureOffsetsTopic();
    if (topic === undefined) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Kafka's coordinator resigns from partitions in a failed log directory.
    if (topic.partitions[this.partitionOf(groupId)]?.offline === true) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return this.loading.has(this.partitionOf(groupId)) ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
  }

  findGroupCoordinator(_groupId: string): number {
    return this.ensureOffsetsTopic() === undefined || this.closed ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.NONE;
  }

  // -------------------------------------------------------------------------------------------
  // Classic group membership

  async joinGroup(req: G.JoinGroupRequest, info: RequestInfo): Promise<G.JoinGroupResponse> {
    const error = this.loadError(req.groupId) || (this.consumer.has(req.groupId) ? ErrorCode.INCONSISTENT_GROUP_PROTOCOL : ErrorCode.NONE);
    if (error !== ErrorCode.NONE) return { ...G.defaultJoinGroupResponse(), errorCode: error, memberId: req.memberId, generationId: -1 };
    return this.classic.joinGroup(req, info.version, client(info));
  }

  async syncGroup(req: G.SyncGroupRequest, info: RequestInfo): Promise<G.SyncGroupResponse> {
    const error = this.loadError(req.groupId) || (this.consumer.has(req.groupId) ? ErrorCode.INCONSISTENT_GROUP_PROTOCOL : ErrorCode.NONE);
    if (error !== ErrorCode.NONE) return { ...G.defaultSyncGroupResponse(), errorCode: error };
    return this.classic.syncGroup(req, info.version);
  }

  heartbeat(req: G.HeartbeatRequest, info: RequestInfo): G.HeartbeatResponse {
    // While the group's partition loads, a heartbeat is answered NONE, as Kafka does: the member
    // keeps its assignment and learns of any rebalance on a later heartbeat.
    if (this.loadError(req.groupId) === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return G.defaultHeartbeatResponse();
    const error = this.loadError(req.groupId) || (this.consumer.has(req.groupId) ? ErrorCode.INCONSISTENT_GROUP_PROTOCOL : ErrorCode.NONE);
    if (error !== ErrorCode.NONE) return { ...G.defaultHeartbeatResponse(), errorCode: error };
    return this.classic.heartbeat(req, info.version);
  }

  async leaveGroup(req: G.LeaveGroupRequest, info: RequestInfo): Promise<G.LeaveGroupResponse> {
    const error = this.loadError(req.groupId) || (this.consumer.has(req.groupId) ? ErrorCode.INCONSISTENT_GROUP_PROTOCOL : ErrorCode.NONE);
    if (error !== ErrorCode.NONE) return { ...G.defaultLeaveGroupResponse(), errorCode: error };
    return this.classic.leaveGroup(req, info.version);
  }

  // -------------------------------------------------------------------------------------------
  // Offsets

  /** The membership check of a commit: NONE, or the error every partition gets. */
  private commitError(req: G.OffsetCommitRequest, version: number): number {
    const load = this.loadError(req.groupId);
    if (load !== ErrorCode.NONE) return load;
    if (this.consumer.has(req.groupId)) return this.consumer.validateOffsetCommit(req.groupId, req.memberId, req.generationIdOrMemberEpoch, version);
    const error = this.classic.validateOffsetCommit(req.groupId, req.memberId, req.generationIdOrMemberEpoch, version >= 7 ? req.groupInstanceId : null, version);
    if (error !== ErrorCode.NONE) return error;
    // A standalone commit makes the group exist (Empty, no protocol), as in Kafka.
    if (!this.classic.getOrCreateSimpleGroup(req.groupId)) return ErrorCode.GROUP_MAX_SIZE_REACHED;
    return ErrorCode.NONE;
  }

  async offsetCommit(req: G.OffsetCommitRequest, info: RequestInfo): Promise<G.OffsetCommitResponse> {
    const v = info.version;
    const byId = v >= 10;
    const respond = (topics: { name: string; topicId: string; partitions: { partitionIndex: number; errorCode: number }[] }[]): G.OffsetCommitResponse => ({
      ...G.defaultOffsetCommitResponse(),
      topics: topics.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions })),
    });
    const error = this.commitError(req, v);
    if (error !== ErrorCode.NONE) {
      return respond(req.topics.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: error })) })));
    }
    const change = this.offsets.commit({
      groupId: req.groupId,
      retentionTimeMs: v >= 2 && v <= 4 ? req.retentionTimeMs : -1n,
      topics: req.topics.map((t) => ({
        name: byId ? '' : t.name,
        topicId: byId ? t.topicId : undefined,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
          committedMetadata: p.committedMetadata,
        })),
      })),
    });
    try {
      await this.write(change.records);
    } catch (e) {
      const code = appendErrorToResponseError((e as AppendFailure).errorCode);
      return respond(change.result.map((t) => ({ ...t, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: p.errorCode || code })) })));
    }
    this.offsets.apply(change.records);
    return respond(change.result);
  }

  offsetFetch(req: G.OffsetFetchRequest, info: RequestInfo): G.OffsetFetchResponse {
    const v = info.version;
    const res = G.defaultOffsetFetchResponse();
    const fetchOne = (groupId: string, topics: readonly { name: string; topicId?: string; partitionIndexes: number[] }[] | null, memberId: string | null, memberEpoch: number) => {
      let error = this.loadError(groupId);
      if (error === ErrorCode.NONE && v >= 9 && memberId !== null && this.consumer.has(groupId)) {
        error = this.consumer.validateOffsetFetch(groupId, memberId, memberEpoch);
      }
      if (error !== ErrorCode.NONE) return { groupId, errorCode: error, topics: [] as ReturnType<OffsetStore['fetch']>['topics'] };
      return this.offsets.fetch({
        groupId,
        topics: topics === null ? null : topics.map((t) => ({ name: v >= 10 ? '' : t.name, topicId: v >= 10 ? t.topicId : undefined, partitionIndexes: t.partitionIndexes })),
      });
    };
    if (v < 8) {
      const r = fetchOne(req.groupId, req.topics, null, -1);
      if (r.errorCode !== ErrorCode.NONE && v < 2) {
        // v1 has no group-level error: every asked partition carries it.
        res.topics = (req.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: r.errorCode })),
        }));
        return res;
      }
      res.errorCode = r.errorCode;
      res.topics = r.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ ...p, metadata: p.metadata })) }));
      return res;
    }
    res.groups = req.groups.map((g) => {
      const r = fetchOne(g.groupId, g.topics, g.memberId, g.memberEpoch);
      return {
        groupId: g.groupId,
        errorCode: r.errorCode,
        topics: r.topics.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions.map((p) => ({ ...p, metadata: p.metadata })) })),
      };
    });
    return res;
  }

  async offsetDelete(req: G.OffsetDeleteRequest, _info: RequestInfo): Promise<G.OffsetDeleteResponse> {
    const res = G.defaultOffsetDeleteResponse();
    const groupId = req.groupId;
    let error = this.loadError(groupId);
    const isConsumer = this.consumer.has(groupId);
    if (error === ErrorCode.NONE) error = isConsumer ? ErrorCode.NONE : this.classic.validateOffsetDelete(groupId);
    if (error !== ErrorCode.NONE) {
      res.errorCode = error;
      return res;
    }
    const isSubscribed = (topic: string) => (isConsumer ? this.consumer.isSubscribedToTopic(groupId, topic) : this.classic.isSubscribedToTopic(groupId, topic));
    const change = this.offsets.delete({ groupId, topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions })) }, isSubscribed);
    try {
      await this.write(change.records);
    } catch (e) {
      res.errorCode = appendErrorToResponseError((e as AppendFailure).errorCode);
      return res;
    }
    this.offsets.apply(change.records);
    res.topics = change.result.map((t) => ({ name: t.name, partitions: t.partitions }));
    return res;
  }

  // -------------------------------------------------------------------------------------------
  // Group administration

  describeGroups(req: G.DescribeGroupsRequest, info: RequestInfo): G.DescribeGroupsResponse {
    const v = info.version;
    const res = G.defaultDescribeGroupsResponse();
    res.groups = req.groups.map((groupId) => {
      const load = this.loadError(groupId);
      const described = this.classic.describeGroup(groupId, v);
      if (load !== ErrorCode.NONE) return { ...described, errorCode: load, errorMessage: null, groupState: '' };
      if (this.consumer.has(groupId)) {
        // As Kafka: DescribeGroups describes classic groups; a consumer group is found with
        // ConsumerGroupDescribe.
        return v >= 6 ? { ...described, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a classic group.` } : described;
      }
      return described;
    });
    return res;
  }

  listGroups(req: G.ListGroupsRequest, info: RequestInfo): G.ListGroupsResponse {
    const v = info.version;
    const res = G.defaultListGroupsResponse();
    if (this.loading.size > 0) {
      res.errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      return res;
    }
    const states = v >= 4 ? new Set(req.statesFilter.map((s) => s.trim().toLowerCase())) : new Set<string>();
    const types = v >= 5 ? new Set(req.typesFilter.map((t) => t.trim().toLowerCase())) : new Set<string>();
    const consumerGroups = types.size > 0 && !types.has('consumer') ? [] : this.consumer.list().filter((g) => states.size === 0 || states.has(g.groupState.toLowerCase()));
    res.groups = [...this.classic.listGroups(req, v), ...consumerGroups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.groupState, groupType: g.groupType }))];
    return res;
  }

  async deleteGroups(req: G.DeleteGroupsRequest, _info: RequestInfo): Promise<G.DeleteGroupsResponse> {
    const res = G.defaultDeleteGroupsResponse();
    const classicIds: string[] = [];
    const answered = new Map<string, number>();
    for (const groupId of new Set(req.groupsNames)) {
      const load = this.loadError(groupId);
      if (load !== ErrorCode.NONE) answered.set(groupId, load);
      else if (this.consumer.has(groupId)) {
        const error = this.consumer.deleteGroup(groupId);
        if (error === ErrorCode.NONE) {
          try {
            await this.deleteGroupRecords(groupId, false);
          } catch (e) {
            answered.set(groupId, appendErrorToResponseError((e as AppendFailure).errorCode));
            continue;
          }
        }
        answered.set(groupId, error);
      } else classicIds.push(groupId);
    }
    const classicResults = await this.classic.deleteGroups(classicIds);
    for (const r of classicResults) answered.set(r.groupId, r.errorCode);
    res.results = [...answered].map(([groupId, errorCode]) => ({ groupId, errorCode }));
    return res;
  }

  // -------------------------------------------------------------------------------------------
  // Consumer groups (KIP-848)

  async consumerGroupHeartbeat(req: G.ConsumerGroupHeartbeatRequest, info: RequestInfo): Promise<G.ConsumerGroupHeartbeatResponse> {
    const load = this.loadError(req.groupId);
    if (load !== ErrorCode.NONE) return { ...G.defaultConsumerGroupHeartbeatResponse(), errorCode: load, heartbeatIntervalMs: this.opts.settings.consumerHeartbeatIntervalMs };
    return this.consumer.heartbeat(req, info.version, client(info));
  }

  consumerGroupDescribe(req: G.ConsumerGroupDescribeRequest, _info: RequestInfo): G.ConsumerGroupDescribeResponse {
    const res = G.defaultConsumerGroupDescribeResponse();
    res.groups = req.groupIds.flatMap((groupId) => {
      const load = this.loadError(groupId);
      if (load !== ErrorCode.NONE) {
        return [{ ...this.consumer.describe([groupId], false)[0]!, errorCode: load, errorMessage: null }];
      }
      if (!this.consumer.has(groupId) && this.classic.has(groupId)) {
        const d = this.consumer.describe([groupId], req.includeAuthorizedOperations)[0]!;
        return [{ ...d, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a consumer group.` }];
      }
      return this.consumer.describe([groupId], req.includeAuthorizedOperations);
    });
    return res;
  }

  // -------------------------------------------------------------------------------------------
  // Offset expiry

  private scheduleExpiry(): void {
    if (this.closed) return;
    // A fixed cadence: the next check is scheduled when this one starts; a check still writing
    // when the next falls due makes that one a no-op.
    this.expiryTimer = this.scheduler.after(this.opts.offsetsRetentionCheckIntervalMs, () => {
      this.scheduleExpiry();
      if (this.expiring) return;
      this.expiring = true;
      void this.expireOffsets().finally(() => (this.expiring = false));
    });
  }

  private expiryCondition(groupId: string): ExpiryCondition | null {
    if (this.consumer.has(groupId)) {
      // As ExpiryConditions.consumerGroup, asking the group instead of copying its subscriptions.
      return { baseTimestampMs: (o) => o.commitTimestampMs, isSubscribed: (topic) => this.consumer.isSubscribedToTopic(groupId, topic) };
    }
    const facts = this.classic.groupFacts(groupId);
    if (facts === undefined) return ExpiryConditions.standalone();
    return classicGroupExpiry(facts);
  }

  /** Expires offsets past offsets.retention.minutes, and deletes Empty classic groups left with none. */
  async expireOffsets(): Promise<number> {
    if (this.loading.size > 0) return 0;
    let expired = 0;
    for (;;) {
      const r = this.offsets.expire((groupId) => this.expiryCondition(groupId));
      const groupTombstones: EncodedRecord[] = [];
      for (const groupId of r.groupsLeftWithoutOffsets) {
        if (this.classic.has(groupId) && this.classic.stateOf(groupId) === 'Empty') {
          groupTombstones.push(encodeRecord({ type: 'group-metadata', key: { groupId }, value: null }));
        }
      }
      try {
        await this.write([...r.records, ...groupTombstones]);
      } catch {
        return expired;
      }
      this.offsets.apply(r.records);
      for (const t of groupTombstones) this.classic.removeGroup(t.record.key.groupId);
      expired += r.records.length;
      if (r.complete) break;
    }
    if (expired > 0) this.opts.log.info('expired committed offsets', { offsets: expired });
    return expired;
  }

  // -------------------------------------------------------------------------------------------
  // Metrics

  /** Committed offset and lag (high watermark minus committed, never negative) per group and partition. */
  *committedOffsets(maxSeries: number): Generator<{ group: string; topic: string; partition: number; offset: number; lag: number }> {
    let n = 0;
    for (const groupId of this.offsets.groupIds()) {
      for (const topic of this.offsets.topicsOf(groupId)) {
        const t = this.opts.topics.get(topic);
        if (t === undefined) continue;
        for (const p of t.partitions) {
          const c = this.offsets.committed(groupId, topic, p.index);
          if (c === undefined) continue;
          if (n++ >= maxSeries) return;
          const offset = Number(c.offset);
          yield { group: groupId, topic, partition: p.index, offset, lag: Math.max(0, p.log.highWatermark - offset) };
        }
      }
    }
  }

  groupCounts(): { type: 'classic' | 'consumer'; state: string; count: number }[] {
    const out: { type: 'classic' | 'consumer'; state: string; count: number }[] = [];
    for (const [state, count] of Object.entries(this.classic.countByState())) out.push({ type: 'classic', state, count });
    for (const [state, count] of Object.entries(this.consumer.groupCountByState())) out.push({ type: 'consumer', state, count });
    return out;
  }

  rebalanceCounts(): { classic: number; consumer: number } {
    return { classic: this.rebalances.classic, consumer: this.consumer.rebalanceCount() };
  }
}

function client(info: RequestInfo): { clientId: string; clientHost: string } {
  return { clientId: info.header.clientId ?? '', clientHost: `/${hostOf(info.clientAddress)}` };
}

/**
 * The peer's address without the port the connection's address carries ("127.0.0.1:51234"): Kafka
 * reports a member's host as Java's InetAddress.toString(), "/127.0.0.1", which tools such as
 * ConsumerGroupCommand print as HOST. An IPv4-mapped IPv6 address is shown as the IPv4 one, as Java does.
 */
function hostOf(address: string): string {
  const m = /^(.*):(\d+)$/.exec(address);
  const host = m !== null && isIP(m[1]!) !== 0 ? m[1]! : address;
  return host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
}

export { ZERO_UUID };
