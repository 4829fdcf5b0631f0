// The records of __consumer_offsets as Strata holds them in memory: one key type and one value type
// per record type, named after Kafka's coordinator record schemas (group-coordinator's
// `common/message/*Key.json` / `*Value.json`, Kafka 4.1). Field names follow Kafka's, except that
// times carry their unit (`commitTimestampMs`) and every group id is `groupId`.
//
// How values travel: int64 fields are `bigint`, as everywhere on the wire side of Strata; uuids are
// Kafka's 22-character base64url text (`Uuid.ZERO` when absent); bytes are Buffers (views into the
// decoded record, not copies).

import type { Uuid } from '../../protocol/primitives.js';

/**
 * The record type ids: the int16 that prefixes every key. Kafka 4.x calls it the key's "version"
 * on the wire but uses it as the record type (`CoordinatorRecordType`). Each value carries its own
 * int16 schema version after it.
 */
export const RecordType = {
  /** Offset commits written by Kafka before 2.1 (key version 0); read, never written. */
  LegacyOffsetCommit: 0,
  OffsetCommit: 1,
  GroupMetadata: 2,
  ConsumerGroupMetadata: 3,
  /** Replaced by ConsumerGroupMetadataValue.metadataHash in Kafka 4.1 (KIP-1101), which writes
   *  only tombstones for it; kept so older logs load and those tombstones apply. */
  ConsumerGroupPartitionMetadata: 4,
  ConsumerGroupMemberMetadata: 5,
  ConsumerGroupTargetAssignmentMetadata: 6,
  ConsumerGroupTargetAssignmentMember: 7,
  ConsumerGroupCurrentMemberAssignment: 8,
  ConsumerGroupRegularExpression: 16,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

// ---------------------------------------------------------------------------------------------------
// Keys

/** OffsetCommitKey (type 1; the legacy type 0 has the same layout). */
export interface OffsetCommitKey {
  groupId: string;
  topic: string;
  partition: number;
}

/** The key of the per-group records: GroupMetadata, ConsumerGroupMetadata,
 *  ConsumerGroupPartitionMetadata, ConsumerGroupTargetAssignmentMetadata. */
export interface GroupKey {
  groupId: string;
}

/** The key of the per-member records: ConsumerGroupMemberMetadata, ConsumerGroupTargetAssignmentMember,
 *  ConsumerGroupCurrentMemberAssignment. */
export interface MemberKey {
  groupId: string;
  memberId: string;
}

/** ConsumerGroupRegularExpressionKey. */
export interface RegularExpressionKey {
  groupId: string;
  regularExpression: string;
}

// ---------------------------------------------------------------------------------------------------
// Values

/** OffsetCommitValue, versions 0-4 (4 is flexible). */
export interface OffsetCommitValue {
  offset: bigint;
  /** v3+; -1 when unknown. */
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: bigint;
  /** v1 only; -1 when absent. Present only for commits that asked for their own retention. */
  expireTimestampMs: bigint;
  /** v4+, tagged; `Uuid.ZERO` when unknown. */
  topicId: Uuid;
}

/** GroupMetadataValue.MemberMetadata: one member of a classic group. */
export interface GroupMemberMetadata {
  memberId: string;
  /** v3+; null for dynamic members. */
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** v1+; -1 when absent. */
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  /** The member's protocol metadata for the chosen protocol. */
  subscription: Buffer;
  /** The assignment the leader gave this member. */
  assignment: Buffer;
}

/** GroupMetadataValue, versions 0-4 (4 is flexible): a classic group. */
export interface GroupMetadataValue {
  /** "" for a group that has none (an empty group). */
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  /** v2+; -1 when absent. */
  currentStateTimestampMs: bigint;
  members: GroupMemberMetadata[];
}

/** ConsumerGroupMetadataValue v0: the group epoch. */
export interface ConsumerGroupMetadataValue {
  epoch: number;
  /** Tag 0 (Kafka 4.1, KIP-1101): a hash of the subscribed topics' metadata; 0 when unknown. */
  metadataHash: bigint;
}

export interface ConsumerGroupPartitionRacks {
  partition: number;
  racks: string[];
}

export interface ConsumerGroupTopicMetadata {
  topicId: Uuid;
  topicName: string;
  numPartitions: number;
  /** Deprecated by Kafka after 4.0; an empty list when no rack is known. */
  partitionMetadata: ConsumerGroupPartitionRacks[];
}

/** ConsumerGroupPartitionMetadataValue v0: the subscribed topics' metadata (before Kafka 4.1). */
export interface ConsumerGroupPartitionMetadataValue {
  topics: ConsumerGroupTopicMetadata[];
}

export interface ClassicProtocol {
  name: string;
  metadata: Buffer;
}

/** Set for members of a consumer group that joined with the classic protocol (KIP-848 upgrade path). */
export interface ClassicMemberMetadata {
  sessionTimeoutMs: number;
  supportedProtocols: ClassicProtocol[];
}

/** ConsumerGroupMemberMetadataValue v0. */
export interface ConsumerGroupMemberMetadataValue {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
  /** Tag 0. Null for members speaking the consumer protocol. */
  classicMemberMetadata: ClassicMemberMetadata | null;
}

/** ConsumerGroupTargetAssignmentMetadataValue v0. */
export interface ConsumerGroupTargetAssignmentMetadataValue {
  assignmentEpoch: number;
}

/** Partitions of one topic, by topic id. */
export interface TopicPartitions {
  topicId: Uuid;
  partitions: number[];
}

/** ConsumerGroupTargetAssignmentMemberValue v0. */
export interface ConsumerGroupTargetAssignmentMemberValue {
  topicPartitions: TopicPartitions[];
}

/** Kafka's MemberState values, as ConsumerGroupCurrentMemberAssignmentValue.state stores them. */
export const MemberStateCode = {
  Stable: 0,
  UnrevokedPartitions: 1,
  UnreleasedPartitions: 2,
  Unknown: 127,
} as const;

/** ConsumerGroupCurrentMemberAssignmentValue v0. */
export interface ConsumerGroupCurrentMemberAssignmentValue {
  memberEpoch: number;
  previousMemberEpoch: number;
  /** An int8: see MemberStateCode. */
  state: number;
  assignedPartitions: TopicPartitions[];
  partitionsPendingRevocation: TopicPartitions[];
}

/** ConsumerGroupRegularExpressionValue v0: the topics a regex subscription resolved to. */
export interface ConsumerGroupRegularExpressionValue {
  topics: string[];
  /** The metadata version the regex was resolved against. */
  version: bigint;
  timestampMs: bigint;
}

// ---------------------------------------------------------------------------------------------------
// Records: a key and its value, or null for a tombstone (the key's state is deleted).

export type CoordinatorRecord =
  | { type: 'offset-commit'; key: OffsetCommitKey; value: OffsetCommitValue | null }
  | { type: 'group-metadata'; key: GroupKey; value: GroupMetadataValue | null }
  | { type: 'consumer-group-metadata'; key: GroupKey; value: ConsumerGroupMetadataValue | null }
  | { type: 'consumer-group-partition-metadata'; key: GroupKey; value: ConsumerGroupPartitionMetadataValue | null }
  | { type: 'consumer-group-member-metadata'; key: MemberKey; value: ConsumerGroupMemberMetadataValue | null }
  | { type: 'consumer-group-target-assignment-metadata'; key: GroupKey; value: ConsumerGroupTargetAssignmentMetadataValue | null }
  | { type: 'consumer-group-target-assignment-member'; key: MemberKey; value: ConsumerGroupTargetAssignmentMemberValue | null }
  | { type: 'consumer-group-current-member-assignment'; key: MemberKey; value: ConsumerGroupCurrentMemberAssignmentValue | null }
  | { type: 'consumer-group-regular-expression'; key: RegularExpressionKey; value: ConsumerGroupRegularExpressionValue | null };

export type CoordinatorRecordKind = CoordinatorRecord['type'];

/** A record of a type Strata does not hold (share and streams groups, or types newer than Kafka
 *  4.1). Kafka's loader logs and skips these too. */
export interface UnknownCoordinatorRecord {
  type: 'unknown';
  recordType: number;
}

export type DecodedCoordinatorRecord = CoordinatorRecord | UnknownCoordinatorRecord;

/** A record ready to append: the typed record (to replay after the append) and its bytes. */
export interface EncodedRecord {
  record: CoordinatorRecord;
  key: Buffer;
  /** Null for a tombstone. */
  value: Buffer | null;
}
