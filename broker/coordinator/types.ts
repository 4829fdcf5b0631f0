// What the group coordinator's parts share: the clock and timers they are driven by, the view of
// topics they need, and the store that makes their state durable in __consumer_offsets. Each part
// (classic groups, consumer groups, offsets) is pure logic over these interfaces, so tests drive
// it with a manual clock and an in-memory store.

/** A timer the coordinator can cancel. */
export interface TimerHandle {
  cancel(): void;
}

/** Time and timers, injected so tests control them. `nowMs` is wall-clock milliseconds. */
export interface Scheduler {
  nowMs(): number;
  /** Runs `fn` once after `delayMs` unless cancelled first. */
  after(delayMs: number, fn: () => void): TimerHandle;
}

/** The topics the coordinator may read about (ids are Kafka's base64url UUID strings). */
export interface TopicView {
  /** Partition count and id of a topic, or undefined when it does not exist. */
  byName(name: string): { id: string; partitionCount: number } | undefined;
  byId(id: string): { name: string; partitionCount: number } | undefined;
  /** Every topic name (for regex subscriptions). */
  names(): Iterable<string>;
}

/** Which protocol a group speaks, as ListGroups (v5+) and DescribeGroups report it. */
export type GroupType = 'classic' | 'consumer';

/** The coordinator's settings, named after Kafka's broker keys. */
export interface CoordinatorSettings {
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms */
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** group.max.size (classic groups) */
  maxGroupSize: number;
  /** group.consumer.session.timeout.ms, group.consumer.heartbeat.interval.ms, group.consumer.max.size */
  consumerSessionTimeoutMs: number;
  consumerHeartbeatIntervalMs: number;
  consumerMaxGroupSize: number;
  /** group.consumer.assignors: server-side assignor names, the first is the default. */
  consumerAssignors: readonly string[];
  /** offsets.retention.minutes, in ms */
  offsetsRetentionMs: number;
  /** offset.metadata.max.bytes */
  offsetMetadataMaxBytes: number;
  /** Upper bound on groups held in memory; creating one more is refused with an error code. */
  maxGroups: number;
}
