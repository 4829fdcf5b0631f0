// Encoding and decoding of the __consumer_offsets records, byte for byte as Kafka 4.1 writes them,
// so that Kafka's tools (DumpLogSegments --offsets-decoder, the console consumer's formatters) read
// what Strata writes and Strata loads what Kafka wrote.
//
// These are Kafka's coordinator record schemas (group-coordinator `common/message/*Key.json` and
// `*Value.json`) restated as code by hand: the protocol generator's input (the request and response
// definitions) does not include them. Each schema below names its fields and versions in a comment.
//
// Layout of a record:
//   key   = int16 record type (RecordType), then the key's fields at version 0, never flexible
//           (int16-length strings)
//   value = int16 schema version, then the value's fields at that version; flexible versions use
//           compact strings, arrays and bytes and end every struct with a tagged-field section
//   a tombstone is a key with a null value
//
// Which value version Strata writes is what Kafka 4.1 writes (GroupCoordinatorRecordHelpers):
// OffsetCommitValue v4, or v1 when the commit carries its own expire timestamp (OffsetCommit v2-v4
// with a retention time); GroupMetadataValue v3; every consumer group record v0 (its only version).
// Every valid version is read.
//
// Decoding trusts nothing: every length and count is checked against the bytes left (Reader), and a
// value must end exactly where its last field does. A value version outside the schema's range is
// an error, as in Kafka (whose loader fails on it); an unknown record type is reported as
// `{ type: 'unknown' }` so the loader can skip it, as Kafka's does.

import { ProtocolDecodeError, ProtocolEncodeError, Reader, Uuid, Writer } from '../../protocol/primitives.js';
import {
  RecordType,
  type ClassicMemberMetadata,
  type ConsumerGroupCurrentMemberAssignmentValue,
  type ConsumerGroupMemberMetadataValue,
  type ConsumerGroupMetadataValue,
  type ConsumerGroupPartitionMetadataValue,
  type ConsumerGroupRegularExpressionValue,
  type ConsumerGroupTargetAssignmentMemberValue,
  type ConsumerGroupTargetAssignmentMetadataValue,
  type CoordinatorRecord,
  type DecodedCoordinatorRecord,
  type EncodedRecord,
  type GroupMemberMetadata,
  type GroupMetadataValue,
  type OffsetCommitValue,
  type TopicPartitions,
} from './types.js';

/** A record that cannot be decoded (or a value that cannot be written at the asked version). Loading
 *  a partition stops on it, as Kafka's loader does. */
export class CoordinatorRecordError extends Error {
  override readonly name = 'CoordinatorRecordError';
  readonly code = 'INVALID_COORDINATOR_RECORD';
}

/** Value versions each type accepts. OffsetCommitValue and GroupMetadataValue are flexible from v4;
 *  the consumer group values are flexible from v0; the legacy offset commit value never is. */
const VALUE_VERSIONS = {
  [RecordType.LegacyOffsetCommit]: { min: 0, max: 0 },
  [RecordType.OffsetCommit]: { min: 0, max: 4 },
  [RecordType.GroupMetadata]: { min: 0, max: 4 },
  [RecordType.ConsumerGroupMetadata]: { min: 0, max: 0 },
  [RecordType.ConsumerGroupPartitionMetadata]: { min: 0, max: 0 },
  [RecordType.ConsumerGroupMemberMetadata]: { min: 0, max: 0 },
  [RecordType.ConsumerGroupTargetAssignmentMetadata]: { min: 0, max: 0 },
  [RecordType.ConsumerGroupTargetAssignmentMember]: { min: 0, max: 0 },
  [RecordType.ConsumerGroupCurrentMemberAssignment]: { min: 0, max: 0 },
  [RecordType.ConsumerGroupRegularExpression]: { min: 0, max: 0 },
} as const satisfies Record<RecordType, { min: number; max: number }>;

const TYPE_OF_KIND = {
  'offset-commit': RecordType.OffsetCommit,
  'group-metadata': RecordType.GroupMetadata,
  'consumer-group-metadata': RecordType.ConsumerGroupMetadata,
  'consumer-group-partition-metadata': RecordType.ConsumerGroupPartitionMetadata,
  'consumer-group-member-metadata': RecordType.ConsumerGroupMemberMetadata,
  'consumer-group-target-assignment-metadata': RecordType.ConsumerGroupTargetAssignmentMetadata,
  'consumer-group-target-assignment-member': RecordType.ConsumerGroupTargetAssignmentMember,
  'consumer-group-current-member-assignment': RecordType.ConsumerGroupCurrentMemberAssignment,
  'consumer-group-regular-expression': RecordType.ConsumerGroupRegularExpression,
} as const satisfies Record<CoordinatorRecord['type'], RecordType>;

/** The record type id a record's key starts with. */
export function recordTypeOf(record: CoordinatorRecord): RecordType {
  return TYPE_OF_KIND[record.type];
}

/** The value version Kafka 4.1 writes for this record (see the header). */
export function writtenValueVersion(record: CoordinatorRecord): number {
  switch (record.type) {
    case 'offset-commit':
      // Kafka 4.1: v1 keeps the per-commit expire timestamp (and loses leader epoch and topic id,
      // which v1 lacks), v4 otherwise.
      return record.value !== null && record.value.expireTimestampMs !== -1n ? 1 : 4;
    case 'group-metadata':
      // Kafka 4.1 still writes v3 (the newest non-flexible version) so older brokers can read it.
      return 3;
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------------
// Small version-aware helpers: flexible versions use compact encodings.

function writeStr(w: Writer, s: string, flex: boolean): void {
  if (flex) w.compactString(s);
  else w.string(s);
}
function writeNullableStr(w: Writer, s: string | null, flex: boolean): void {
  if (flex) w.compactNullableString(s);
  else w.nullableString(s);
}
function writeBytes(w: Writer, b: Buffer, flex: boolean): void {
  if (flex) w.compactBytes(b);
  else w.bytes(b);
}
function writeLen(w: Writer, a: readonly unknown[], flex: boolean): void {
  if (flex) w.compactArrayLength(a, false);
  else w.arrayLength(a, false);
}
/** An empty tagged-field section, or nothing below the flexible versions. */
function writeNoTags(w: Writer, flex: boolean): void {
  if (flex) w.uvarint(0);
}

function readStr(r: Reader, flex: boolean): string {
  return flex ? r.compactString() : r.string();
}
function readNullableStr(r: Reader, flex: boolean): string | null {
  return flex ? r.compactNullableString() : r.nullableString();
}
function readBytes(r: Reader, flex: boolean): Buffer {
  return flex ? r.compactBytes() : r.bytes();
}
function readLen(r: Reader, flex: boolean, elementMinBytes: number): number {
  return flex ? r.compactArrayLength(false, elementMinBytes) : r.arrayLength(false, elementMinBytes);
}

/** Reads a tagged-field section, handing known tags to `known` (which returns false for a tag it
 *  does not know; that field is skipped, as Kafka keeps but ignores unknown tags). */
function readTags(r: Reader, known: (tag: number, r: Reader) => boolean = () => false): void {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    const end = r.taggedFieldEnd();
    if (known(tag, r)) r.endTaggedField(end, tag);
    else r.pos = end;
  }
}
/** Below the flexible versions there is no tagged-field section. */
function readNoTags(r: Reader, flex: boolean): void {
  if (flex) readTags(r);
}

function writeStringArray(w: Writer, a: readonly string[]): void {
  w.compactArrayLength(a, false);
  for (const s of a) w.compactString(s);
}
function readStringArray(r: Reader): string[] {
  const n = r.compactArrayLength(false, 1);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.compactString());
  return out;
}
function writeInt32Array(w: Writer, a: readonly number[]): void {
  w.compactArrayLength(a, false);
  for (const v of a) w.int32(v);
}
function readInt32Array(r: Reader): number[] {
  const n = r.compactArrayLength(false, 4);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.int32());
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Keys: int16 type, then fields at version 0 (never flexible).

/** Encodes the key of a record. */
export function encodeKey(record: CoordinatorRecord): Buffer {
  const w = new Writer(64);
  w.int16(recordTypeOf(record));
  switch (record.type) {
    case 'offset-commit':
      // OffsetCommitKey: group string, topic string, partition int32.
      w.string(record.key.groupId);
      w.string(record.key.topic);
      w.int32(record.key.partition);
      break;
    case 'group-metadata':
    case 'consumer-group-metadata':
    case 'consumer-group-partition-metadata':
    case 'consumer-group-target-assignment-metadata':
      // GroupMetadataKey: group string. The ConsumerGroup*Key: GroupId string.
      w.string(record.key.groupId);
      break;
    case 'consumer-group-member-metadata':
    case 'consumer-group-target-assignment-member':
    case 'consumer-group-current-member-assignment':
      // GroupId string, MemberId string.
      w.string(record.key.groupId);
      w.string(record.key.memberId);
      break;
    case 'consumer-group-regular-expression':
      // GroupId string, RegularExpression string.
      w.string(record.key.groupId);
      w.string(record.key.regularExpression);
      break;
  }
  return w.toBuffer();
}

// ---------------------------------------------------------------------------------------------------
// Values

function checkVersion(type: RecordType, version: number): boolean {
  const v = VALUE_VERSIONS[type];
  return Number.isInteger(version) && version >= v.min && version <= v.max;
}

/**
 * OffsetCommitValue (type 1), versions 0-4, flexible from 4:
 *   offset int64; leaderEpoch int32 (3+, default -1); metadata string; commitTimestamp int64;
 *   expireTimestamp int64 (version 1 only, default -1); topicId uuid (4+, tagged 0).
 * LegacyOffsetCommitValue (type 0), version 0: offset int64; metadata string; commitTimestamp int64
 * (the same bytes as OffsetCommitValue v0).
 * Fields a version lacks are dropped, as Kafka does for these ignorable fields.
 */
function writeOffsetCommitValue(w: Writer, v: OffsetCommitValue, version: number): void {
  const flex = version >= 4;
  w.int64(v.offset);
  if (version >= 3) w.int32(v.leaderEpoch);
  writeStr(w, v.metadata, flex);
  w.int64(v.commitTimestampMs);
  if (version === 1) w.int64(v.expireTimestampMs);
  if (flex) {
    if (v.topicId !== Uuid.ZERO) {
      w.uvarint(1);
      w.uvarint(0);
      w.uvarint(16);
      w.uuid(v.topicId);
    } else w.uvarint(0);
  }
}
function readOffsetCommitValue(r: Reader, version: number): OffsetCommitValue {
  const flex = version >= 4;
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = readStr(r, flex);
  const commitTimestampMs = r.int64();
  const expireTimestampMs = version === 1 ? r.int64() : -1n;
  let topicId: Uuid = Uuid.ZERO;
  if (flex) {
    readTags(r, (tag, tr) => {
      if (tag !== 0) return false;
      topicId = tr.uuid();
      return true;
    });
  }
  return { offset, leaderEpoch, metadata, commitTimestampMs, expireTimestampMs, topicId };
}

/**
 * GroupMetadataValue (type 2), versions 0-4, flexible from 4:
 *   protocolType string; generation int32; protocol nullable string; leader nullable string;
 *   currentStateTimestamp int64 (2+, default -1); members []MemberMetadata:
 *     memberId string; groupInstanceId nullable string (3+, default null); clientId string;
 *     clientHost string; rebalanceTimeout int32 (1+, default -1); sessionTimeout int32;
 *     subscription bytes; assignment bytes.
 */
function writeGroupMetadataValue(w: Writer, v: GroupMetadataValue, version: number): void {
  const flex = version >= 4;
  writeStr(w, v.protocolType, flex);
  w.int32(v.generation);
  writeNullableStr(w, v.protocol, flex);
  writeNullableStr(w, v.leader, flex);
  if (version >= 2) w.int64(v.currentStateTimestampMs);
  writeLen(w, v.members, flex);
  for (const m of v.members) {
    writeStr(w, m.memberId, flex);
    if (version >= 3) writeNullableStr(w, m.groupInstanceId, flex);
    writeStr(w, m.clientId, flex);
    writeStr(w, m.clientHost, flex);
    if (version >= 1) w.int32(m.rebalanceTimeoutMs);
    w.int32(m.sessionTimeoutMs);
    writeBytes(w, m.subscription, flex);
    writeBytes(w, m.assignment, flex);
    writeNoTags(w, flex);
  }
  writeNoTags(w, flex);
}
function readGroupMetadataValue(r: Reader, version: number): GroupMetadataValue {
  const flex = version >= 4;
  const protocolType = readStr(r, flex);
  const generation = r.int32();
  const protocol = readNullableStr(r, flex);
  const leader = readNullableStr(r, flex);
  const currentStateTimestampMs = version >= 2 ? r.int64() : -1n;
  // Smallest member: four empty strings, two int32s, two empty bytes.
  const count = readLen(r, flex, flex ? 4 + 8 + 2 + 1 : 8 + 8 + 8);
  const members: GroupMemberMetadata[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = readStr(r, flex);
    const groupInstanceId = version >= 3 ? readNullableStr(r, flex) : null;
    const clientId = readStr(r, flex);
    const clientHost = readStr(r, flex);
    const rebalanceTimeoutMs = version >= 1 ? r.int32() : -1;
    const sessionTimeoutMs = r.int32();
    const subscription = readBytes(r, flex);
    const assignment = readBytes(r, flex);
    readNoTags(r, flex);
    members.push({ memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs, sessionTimeoutMs, subscription, assignment });
  }
  readNoTags(r, flex);
  return { protocolType, generation, protocol, leader, currentStateTimestampMs, members };
}

/** ConsumerGroupMetadataValue (type 3) v0, flexible: Epoch int32; MetadataHash int64 (tag 0,
 *  default 0, written only when set). */
function writeConsumerGroupMetadataValue(w: Writer, v: ConsumerGroupMetadataValue): void {
  w.int32(v.epoch);
  if (v.metadataHash !== 0n) {
    w.uvarint(1);
    w.uvarint(0);
    w.uvarint(8);
    w.int64(v.metadataHash);
  } else w.uvarint(0);
}
function readConsumerGroupMetadataValue(r: Reader): ConsumerGroupMetadataValue {
  const epoch = r.int32();
  let metadataHash = 0n;
  readTags(r, (tag, tr) => {
    if (tag !== 0) return false;
    metadataHash = tr.int64();
    return true;
  });
  return { epoch, metadataHash };
}

/**
 * ConsumerGroupPartitionMetadataValue (type 4) v0, flexible:
 *   Topics []{ TopicId uuid; TopicName string; NumPartitions int32;
 *              PartitionMetadata []{ Partition int32; Racks []string } }
 */
function writeConsumerGroupPartitionMetadataValue(w: Writer, v: ConsumerGroupPartitionMetadataValue): void {
  w.compactArrayLength(v.topics, false);
  for (const t of v.topics) {
    w.uuid(t.topicId);
    w.compactString(t.topicName);
    w.int32(t.numPartitions);
    w.compactArrayLength(t.partitionMetadata, false);
    for (const p of t.partitionMetadata) {
      w.int32(p.partition);
      writeStringArray(w, p.racks);
      w.uvarint(0);
    }
    w.uvarint(0);
  }
  w.uvarint(0);
}
function readConsumerGroupPartitionMetadataValue(r: Reader): ConsumerGroupPartitionMetadataValue {
  const topics: ConsumerGroupPartitionMetadataValue['topics'] = [];
  const n = r.compactArrayLength(false, 16 + 1 + 4 + 1 + 1);
  for (let i = 0; i < n; i++) {
    const topicId = r.uuid();
    const topicName = r.compactString();
    const numPartitions = r.int32();
    const partitionMetadata: { partition: number; racks: string[] }[] = [];
    const pn = r.compactArrayLength(false, 4 + 1 + 1);
    for (let j = 0; j < pn; j++) {
      const partition = r.int32();
      const racks = readStringArray(r);
      readTags(r);
      partitionMetadata.push({ partition, racks });
    }
    readTags(r);
    topics.push({ topicId, topicName, numPartitions, partitionMetadata });
  }
  readTags(r);
  return { topics };
}

/**
 * ConsumerGroupMemberMetadataValue (type 5) v0, flexible:
 *   InstanceId nullable string; RackId nullable string; ClientId string; ClientHost string;
 *   SubscribedTopicNames []string; SubscribedTopicRegex nullable string; RebalanceTimeoutMs int32;
 *   ServerAssignor nullable string;
 *   ClassicMemberMetadata (tag 0, nullable struct):
 *     SessionTimeoutMs int32; SupportedProtocols []{ Name string; Metadata bytes }
 *
 * Tag 0 as Kafka writes it: its data starts with a presence varint, 0 for null, 1 then the struct.
 * Kafka 4.1 sets the field to null for members of the consumer protocol, and its generated code
 * writes that null (tag 0 holding a single 0 byte) rather than leaving the tag out, since the
 * field's in-memory default is an empty struct. Strata writes the same. A record without the tag
 * (written before the field existed) reads as null here: those members all spoke the consumer
 * protocol.
 */
function writeConsumerGroupMemberMetadataValue(w: Writer, v: ConsumerGroupMemberMetadataValue): void {
  w.compactNullableString(v.instanceId);
  w.compactNullableString(v.rackId);
  w.compactString(v.clientId);
  w.compactString(v.clientHost);
  writeStringArray(w, v.subscribedTopicNames);
  w.compactNullableString(v.subscribedTopicRegex);
  w.int32(v.rebalanceTimeoutMs);
  w.compactNullableString(v.serverAssignor);
  w.uvarint(1);
  w.uvarint(0);
  const c = v.classicMemberMetadata;
  if (c === null) {
    w.uvarint(1);
    w.uvarint(0);
  } else {
    const body = new Writer(64);
    body.uvarint(1);
    writeClassicMemberMetadata(body, c);
    const bytes = body.toBuffer();
    w.uvarint(bytes.length);
    w.raw(bytes);
  }
}
function writeClassicMemberMetadata(w: Writer, c: ClassicMemberMetadata): void {
  w.int32(c.sessionTimeoutMs);
  w.compactArrayLength(c.supportedProtocols, false);
  for (const p of c.supportedProtocols) {
    w.compactString(p.name);
    w.compactBytes(p.metadata);
    w.uvarint(0);
  }
  w.uvarint(0);
}
function readConsumerGroupMemberMetadataValue(r: Reader): ConsumerGroupMemberMetadataValue {
  const instanceId = r.compactNullableString();
  const rackId = r.compactNullableString();
  const clientId = r.compactString();
  const clientHost = r.compactString();
  const subscribedTopicNames = readStringArray(r);
  const subscribedTopicRegex = r.compactNullableString();
  const rebalanceTimeoutMs = r.int32();
  const serverAssignor = r.compactNullableString();
  let classicMemberMetadata: ClassicMemberMetadata | null = null;
  readTags(r, (tag, tr) => {
    if (tag !== 0) return false;
    // Kafka reads any presence value above 0 as present.
    if (tr.uvarint() === 0) classicMemberMetadata = null;
    else {
      const sessionTimeoutMs = tr.int32();
      const n = tr.compactArrayLength(false, 1 + 1 + 1);
      const supportedProtocols: ClassicMemberMetadata['supportedProtocols'] = [];
      for (let i = 0; i < n; i++) {
        const name = tr.compactString();
        const metadata = tr.compactBytes();
        readTags(tr);
        supportedProtocols.push({ name, metadata });
      }
      readTags(tr);
      classicMemberMetadata = { sessionTimeoutMs, supportedProtocols };
    }
    return true;
  });
  return {
    instanceId,
    rackId,
    clientId,
    clientHost,
    subscribedTopicNames,
    subscribedTopicRegex,
    rebalanceTimeoutMs,
    serverAssignor,
    classicMemberMetadata,
  };
}

/** TopicPartitions (types 7 and 8), flexible: TopicId uuid; Partitions []int32. */
function writeTopicPartitionsArray(w: Writer, a: readonly TopicPartitions[]): void {
  w.compactArrayLength(a, false);
  for (const tp of a) {
    w.uuid(tp.topicId);
    writeInt32Array(w, tp.partitions);
    w.uvarint(0);
  }
}
function readTopicPartitionsArray(r: Reader): TopicPartitions[] {
  const n = r.compactArrayLength(false, 16 + 1 + 1);
  const out: TopicPartitions[] = [];
  for (let i = 0; i < n; i++) {
    const topicId = r.uuid();
    const partitions = readInt32Array(r);
    readTags(r);
    out.push({ topicId, partitions });
  }
  return out;
}

/** ConsumerGroupTargetAssignmentMetadataValue (type 6) v0, flexible: AssignmentEpoch int32. */
function writeTargetAssignmentMetadataValue(w: Writer, v: ConsumerGroupTargetAssignmentMetadataValue): void {
  w.int32(v.assignmentEpoch);
  w.uvarint(0);
}
function readTargetAssignmentMetadataValue(r: Reader): ConsumerGroupTargetAssignmentMetadataValue {
  const assignmentEpoch = r.int32();
  readTags(r);
  return { assignmentEpoch };
}

/** ConsumerGroupTargetAssignmentMemberValue (type 7) v0, flexible: TopicPartitions []TopicPartitions. */
function writeTargetAssignmentMemberValue(w: Writer, v: ConsumerGroupTargetAssignmentMemberValue): void {
  writeTopicPartitionsArray(w, v.topicPartitions);
  w.uvarint(0);
}
function readTargetAssignmentMemberValue(r: Reader): ConsumerGroupTargetAssignmentMemberValue {
  const topicPartitions = readTopicPartitionsArray(r);
  readTags(r);
  return { topicPartitions };
}

/**
 * ConsumerGroupCurrentMemberAssignmentValue (type 8) v0, flexible:
 *   MemberEpoch int32; PreviousMemberEpoch int32; State int8; AssignedPartitions []TopicPartitions;
 *   PartitionsPendingRevocation []TopicPartitions.
 */
function writeCurrentMemberAssignmentValue(w: Writer, v: ConsumerGroupCurrentMemberAssignmentValue): void {
  w.int32(v.memberEpoch);
  w.int32(v.previousMemberEpoch);
  w.int8(v.state);
  writeTopicPartitionsArray(w, v.assignedPartitions);
  writeTopicPartitionsArray(w, v.partitionsPendingRevocation);
  w.uvarint(0);
}
function readCurrentMemberAssignmentValue(r: Reader): ConsumerGroupCurrentMemberAssignmentValue {
  const memberEpoch = r.int32();
  const previousMemberEpoch = r.int32();
  const state = r.int8();
  const assignedPartitions = readTopicPartitionsArray(r);
  const partitionsPendingRevocation = readTopicPartitionsArray(r);
  readTags(r);
  return { memberEpoch, previousMemberEpoch, state, assignedPartitions, partitionsPendingRevocation };
}

/** ConsumerGroupRegularExpressionValue (type 16) v0, flexible: Topics []string; Version int64;
 *  Timestamp int64. */
function writeRegularExpressionValue(w: Writer, v: ConsumerGroupRegularExpressionValue): void {
  writeStringArray(w, v.topics);
  w.int64(v.version);
  w.int64(v.timestampMs);
  w.uvarint(0);
}
function readRegularExpressionValue(r: Reader): ConsumerGroupRegularExpressionValue {
  const topics = readStringArray(r);
  const version = r.int64();
  const timestampMs = r.int64();
  readTags(r);
  return { topics, version, timestampMs };
}

/**
 * Encodes the value of a record at `version` (default: what Kafka 4.1 writes), or returns null for
 * a tombstone. Throws ProtocolEncodeError for a version the schema does not have.
 */
export function encodeValue(record: CoordinatorRecord, version = writtenValueVersion(record)): Buffer | null {
  if (record.value === null) return null;
  const type = recordTypeOf(record);
  if (!checkVersion(type, version)) {
    throw new ProtocolEncodeError(`${record.type} has no value version ${version} (valid: ${VALUE_VERSIONS[type].min}-${VALUE_VERSIONS[type].max})`);
  }
  const w = new Writer(128);
  w.int16(version);
  switch (record.type) {
    case 'offset-commit':
      writeOffsetCommitValue(w, record.value, version);
      break;
    case 'group-metadata':
      writeGroupMetadataValue(w, record.value, version);
      break;
    case 'consumer-group-metadata':
      writeConsumerGroupMetadataValue(w, record.value);
      break;
    case 'consumer-group-partition-metadata':
      writeConsumerGroupPartitionMetadataValue(w, record.value);
      break;
    case 'consumer-group-member-metadata':
      writeConsumerGroupMemberMetadataValue(w, record.value);
      break;
    case 'consumer-group-target-assignment-metadata':
      writeTargetAssignmentMetadataValue(w, record.value);
      break;
    case 'consumer-group-target-assignment-member':
      writeTargetAssignmentMemberValue(w, record.value);
      break;
    case 'consumer-group-current-member-assignment':
      writeCurrentMemberAssignmentValue(w, record.value);
      break;
    case 'consumer-group-regular-expression':
      writeRegularExpressionValue(w, record.value);
      break;
  }
  return w.toBuffer();
}

/**
 * Encodes a record as Kafka 4.1 would write it: its key, and its value (null for a tombstone). The
 * returned `record` holds what the bytes hold: fields the written version lacks (an offset commit
 * with an expire timestamp is v1, without leader epoch and topic id) are set to their defaults, so
 * replaying it after the append gives the same state as loading the log later.
 */
export function encodeRecord(record: CoordinatorRecord): EncodedRecord {
  const version = writtenValueVersion(record);
  let written = record;
  if (record.type === 'offset-commit' && record.value !== null && version < 3) {
    written = { ...record, value: { ...record.value, leaderEpoch: -1, topicId: Uuid.ZERO } };
  }
  return { record: written, key: encodeKey(written), value: encodeValue(written, version) };
}

// ---------------------------------------------------------------------------------------------------
// Decoding

function isKnownType(t: number): t is RecordType {
  return Object.prototype.hasOwnProperty.call(VALUE_VERSIONS, t);
}

function expectEnd(r: Reader, what: string): void {
  if (r.remaining() !== 0) throw new ProtocolDecodeError(`${what} has ${r.remaining()} bytes after its last field`, r.pos);
}

/**
 * Decodes one record of __consumer_offsets from its key and value (null for a tombstone). Record
 * types Strata does not hold come back as `{ type: 'unknown' }`. Throws CoordinatorRecordError for
 * bytes that do not decode or a value version the type does not have.
 */
export function decodeRecord(key: Buffer, value: Buffer | null): DecodedCoordinatorRecord {
  try {
    return decode(key, value);
  } catch (e) {
    if (e instanceof ProtocolDecodeError) throw new CoordinatorRecordError(`undecodable __consumer_offsets record: ${e.message}`, { cause: e });
    throw e;
  }
}

function decode(keyBytes: Buffer, valueBytes: Buffer | null): DecodedCoordinatorRecord {
  const k = new Reader(keyBytes);
  const type = k.int16();
  if (!isKnownType(type)) return { type: 'unknown', recordType: type };
  let record: CoordinatorRecord;
  switch (type) {
    case RecordType.LegacyOffsetCommit:
    case RecordType.OffsetCommit:
      record = { type: 'offset-commit', key: { groupId: k.string(), topic: k.string(), partition: k.int32() }, value: null };
      break;
    case RecordType.GroupMetadata:
      record = { type: 'group-metadata', key: { groupId: k.string() }, value: null };
      break;
    case RecordType.ConsumerGroupMetadata:
      record = { type: 'consumer-group-metadata', key: { groupId: k.string() }, value: null };
      break;
    case RecordType.ConsumerGroupPartitionMetadata:
      record = { type: 'consumer-group-partition-metadata', key: { groupId: k.string() }, value: null };
      break;
    case RecordType.ConsumerGroupTargetAssignmentMetadata:
      record = { type: 'consumer-group-target-assignment-metadata', key: { groupId: k.string() }, value: null };
      break;
    case RecordType.ConsumerGroupMemberMetadata:
      record = { type: 'consumer-group-member-metadata', key: { groupId: k.string(), memberId: k.string() }, value: null };
      break;
    case RecordType.ConsumerGroupTargetAssignmentMember:
      record = { type: 'consumer-group-target-assignment-member', key: { groupId: k.string(), memberId: k.string() }, value: null };
      break;
    case RecordType.ConsumerGroupCurrentMemberAssignment:
      record = { type: 'consumer-group-current-member-assignment', key: { groupId: k.string(), memberId: k.string() }, value: null };
      break;
    case RecordType.ConsumerGroupRegularExpression:
      record = { type: 'consumer-group-regular-expression', key: { groupId: k.string(), regularExpression: k.string() }, value: null };
      break;
  }
  expectEnd(k, `key of record type ${type}`);
  if (valueBytes === null) return record;

  const r = new Reader(valueBytes);
  const version = r.int16();
  if (!checkVersion(type, version)) {
    const v = VALUE_VERSIONS[type];
    throw new CoordinatorRecordError(`record type ${type} (${record.type}) has value version ${version}; Kafka defines ${v.min}-${v.max}`);
  }
  switch (record.type) {
    case 'offset-commit':
      // The legacy type's value is the same bytes as OffsetCommitValue v0.
      record.value = readOffsetCommitValue(r, version);
      break;
    case 'group-metadata':
      record.value = readGroupMetadataValue(r, version);
      break;
    case 'consumer-group-metadata':
      record.value = readConsumerGroupMetadataValue(r);
      break;
    case 'consumer-group-partition-metadata':
      record.value = readConsumerGroupPartitionMetadataValue(r);
      break;
    case 'consumer-group-member-metadata':
      record.value = readConsumerGroupMemberMetadataValue(r);
      break;
    case 'consumer-group-target-assignment-metadata':
      record.value = readTargetAssignmentMetadataValue(r);
      break;
    case 'consumer-group-target-assignment-member':
      record.value = readTargetAssignmentMemberValue(r);
      break;
    case 'consumer-group-current-member-assignment':
      record.value = readCurrentMemberAssignmentValue(r);
      break;
    case 'consumer-group-regular-expression':
      record.value = readRegularExpressionValue(r);
      break;
  }
  expectEnd(r, `value of record type ${type} v${version}`);
  return record;
}
