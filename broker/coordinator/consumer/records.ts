// What a consumer group writes to __consumer_offsets, as plain objects shaped after Kafka's
// coordinator record schemas (group-coordinator's ConsumerGroup*Key/Value, Kafka 4.1). `type`
// names the record (Kafka's key/value name without the suffix); the key fields sit beside it;
// `value` is the record value, or null for a tombstone. The codecs that turn these into Kafka's
// bytes live in `broker/coordinator/records/`.
//
// Every change to a consumer group's state is made by applying one of these records (see
// `ConsumerGroups.replay`), both when a request changes the group and when the log is read back at
// start-up, so what is restored is exactly what was live.

import type { TopicPartitionsList } from './assignment.js';

/** Kafka's MemberState byte (ConsumerGroupCurrentMemberAssignmentValue.State). */
export const MemberState = {
  STABLE: 0,
  UNREVOKED_PARTITIONS: 1,
  UNRELEASED_PARTITIONS: 2,
  /** A state byte this version does not know (written by a newer broker). */
  UNKNOWN: 127,
} as const;
export type MemberState = (typeof MemberState)[keyof typeof MemberState];

export function memberStateFromByte(b: number): MemberState {
  return b === 0 || b === 1 || b === 2 ? b : MemberState.UNKNOWN;
}

/** ConsumerGroupMetadataKey (record type 3) / ConsumerGroupMetadataValue. */
export interface ConsumerGroupMetadataRecord {
  type: 'ConsumerGroupMetadata';
  groupId: string;
  value: {
    epoch: number;
    /**
     * Tagged field 0 (KIP-1101): a hash of the subscribed topics' metadata, compared only with
     * itself to notice topic changes. Strata's hash function is its own (FNV-1a 64), not Kafka's
     * xxh3, so a Kafka broker reading this log would see one spurious change and rebalance once.
     */
    metadataHash: bigint;
  } | null;
}

/**
 * ConsumerGroupPartitionMetadataKey (record type 4). Kafka 4.1 no longer writes values of this
 * record (the metadata hash replaced it); Strata only writes its tombstone when deleting a group,
 * as Kafka does, and ignores values it reads.
 */
export interface ConsumerGroupPartitionMetadataRecord {
  type: 'ConsumerGroupPartitionMetadata';
  groupId: string;
  value: null;
}

/** ConsumerGroupMemberMetadataKey (record type 5) / ConsumerGroupMemberMetadataValue. */
export interface ConsumerGroupMemberMetadataRecord {
  type: 'ConsumerGroupMemberMetadata';
  groupId: string;
  memberId: string;
  value: {
    instanceId: string | null;
    rackId: string | null;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    rebalanceTimeoutMs: number;
    serverAssignor: string | null;
    // ClassicMemberMetadata (tagged field 0) is always null: members here speak the consumer
    // protocol only.
  } | null;
}

/** ConsumerGroupTargetAssignmentMetadataKey (record type 6) / …Value. */
export interface ConsumerGroupTargetAssignmentMetadataRecord {
  type: 'ConsumerGroupTargetAssignmentMetadata';
  groupId: string;
  value: { assignmentEpoch: number } | null;
}

/** ConsumerGroupTargetAssignmentMemberKey (record type 7) / …Value. */
export interface ConsumerGroupTargetAssignmentMemberRecord {
  type: 'ConsumerGroupTargetAssignmentMember';
  groupId: string;
  memberId: string;
  value: { topicPartitions: TopicPartitionsList[] } | null;
}

/** ConsumerGroupCurrentMemberAssignmentKey (record type 8) / …Value. */
export interface ConsumerGroupCurrentMemberAssignmentRecord {
  type: 'ConsumerGroupCurrentMemberAssignment';
  groupId: string;
  memberId: string;
  value: {
    memberEpoch: number;
    previousMemberEpoch: number;
    /** Kafka's MemberState byte; unknown bytes are kept as UNKNOWN (127). */
    state: number;
    assignedPartitions: TopicPartitionsList[];
    partitionsPendingRevocation: TopicPartitionsList[];
  } | null;
}

/** ConsumerGroupRegularExpressionKey (record type 16) / …Value. */
export interface ConsumerGroupRegularExpressionRecord {
  type: 'ConsumerGroupRegularExpression';
  groupId: string;
  regularExpression: string;
  value: {
    /** The topic names the expression matched. */
    topics: string[];
    /** Which topic view the resolution saw: a counter of `onTopicsChanged` calls, not Kafka's metadata offset. */
    version: bigint;
    /** When it was resolved, wall-clock ms. */
    timestamp: bigint;
  } | null;
}

export type ConsumerGroupRecord =
  | ConsumerGroupMetadataRecord
  | ConsumerGroupPartitionMetadataRecord
  | ConsumerGroupMemberMetadataRecord
  | ConsumerGroupTargetAssignmentMetadataRecord
  | ConsumerGroupTargetAssignmentMemberRecord
  | ConsumerGroupCurrentMemberAssignmentRecord
  | ConsumerGroupRegularExpressionRecord;
