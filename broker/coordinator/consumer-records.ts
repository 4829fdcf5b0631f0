// Translates between the consumer-group part's records (plain objects named after Kafka's record
// schemas, `consumer/records.ts`) and the codec's records (`records/types.ts`), field for field. The
// two were written side by side; this is the one place that knows both shapes.
import type { ConsumerGroupRecord } from './consumer/records.js';
import type { CoordinatorRecord } from './records/index.js';

export function toCoordinatorRecord(r: ConsumerGroupRecord): CoordinatorRecord {
  switch (r.type) {
    case 'ConsumerGroupMetadata':
      return { type: 'consumer-group-metadata', key: { groupId: r.groupId }, value: r.value };
    case 'ConsumerGroupPartitionMetadata':
      return { type: 'consumer-group-partition-metadata', key: { groupId: r.groupId }, value: null };
    case 'ConsumerGroupMemberMetadata':
      return {
        type: 'consumer-group-member-metadata',
        key: { groupId: r.groupId, memberId: r.memberId },
        value: r.value === null ? null : { ...r.value, classicMemberMetadata: null },
      };
    case 'ConsumerGroupTargetAssignmentMetadata':
      return { type: 'consumer-group-target-assignment-metadata', key: { groupId: r.groupId }, value: r.value };
    case 'ConsumerGroupTargetAssignmentMember':
      return { type: 'consumer-group-target-assignment-member', key: { groupId: r.groupId, memberId: r.memberId }, value: r.value };
    case 'ConsumerGroupCurrentMemberAssignment':
      return { type: 'consumer-group-current-member-assignment', key: { groupId: r.groupId, memberId: r.memberId }, value: r.value };
    case 'ConsumerGroupRegularExpression':
      return {
        type: 'consumer-group-regular-expression',
        key: { groupId: r.groupId, regularExpression: r.regularExpression },
        value: r.value === null ? null : { topics: r.value.topics, version: r.value.version, timestampMs: r.value.timestamp },
      };
  }
}

/** The consumer-group record a decoded record holds, or null for records of other kinds. */
export function fromCoordinatorRecord(r: CoordinatorRecord): ConsumerGroupRecord | null {
  switch (r.type) {
    case 'consumer-group-metadata':
      return { type: 'ConsumerGroupMetadata', groupId: r.key.groupId, value: r.value };
    case 'consumer-group-partition-metadata':
      // Kafka 4.1 writes only tombstones of this record; its content is derived from topic metadata.
      return { type: 'ConsumerGroupPartitionMetadata', groupId: r.key.groupId, value: null };
    case 'consumer-group-member-metadata': {
      if (r.value === null) return { type: 'ConsumerGroupMemberMetadata', groupId: r.key.groupId, memberId: r.key.memberId, value: null };
      const { classicMemberMetadata: _classic, ...value } = r.value;
      return { type: 'ConsumerGroupMemberMetadata', groupId: r.key.groupId, memberId: r.key.memberId, value };
    }
    case 'consumer-group-target-assignment-metadata':
      return { type: 'ConsumerGroupTargetAssignmentMetadata', groupId: r.key.groupId, value: r.value };
    case 'consumer-group-target-assignment-member':
      return { type: 'ConsumerGroupTargetAssignmentMember', groupId: r.key.groupId, memberId: r.key.memberId, value: r.value };
    case 'consumer-group-current-member-assignment':
      return { type: 'ConsumerGroupCurrentMemberAssignment', groupId: r.key.groupId, memberId: r.key.memberId, value: r.value };
    case 'consumer-group-regular-expression':
      return {
        type: 'ConsumerGroupRegularExpression',
        groupId: r.key.groupId,
        regularExpression: r.key.regularExpression,
        value: r.value === null ? null : { topics: r.value.topics, version: r.value.version, timestamp: r.value.timestampMs },
      };
    default:
      return null;
  }
}
