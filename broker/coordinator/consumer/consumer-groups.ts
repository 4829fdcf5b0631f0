// The consumer group protocol (KIP-848) as Kafka 4.x's group coordinator runs it: groups driven
// by ConsumerGroupHeartbeat, target assignments computed on the broker by a server-side assignor,
// and each member reconciled towards its target one heartbeat at a time.
//
// Pure logic: no sockets, no disk. Time comes from the injected `Scheduler`, topics from the
// injected `TopicView`. Every state change is a record (records.ts): an operation first checks
// the request against the current state, then emits records, each applied at once through the
// same `replay` that loads the log at start-up, and finally hands the batch to `onRecords` for
// writing to __consumer_offsets. A refused request therefore changes nothing.
//
// Limits: `maxGroups` consumer groups (plus the groups `otherGroupCount` reports); creating one
// more is refused with GROUP_MAX_SIZE_REACHED. `consumerMaxGroupSize` members per group; one more
// is refused with GROUP_MAX_SIZE_REACHED, as in Kafka. What one member holds is bounded by the
// request that carried it (the request size limit) and by the cluster's topics.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type * as G from '../../protocol/generated/index.js';
import { defaultConsumerGroupHeartbeatResponse } from '../../protocol/generated/68-consumer-group-heartbeat.js';
import {
  defaultConsumerGroupDescribeResponseDescribedGroup,
  defaultConsumerGroupDescribeResponseMember,
} from '../../protocol/generated/69-consumer-group-describe.js';
import type { CoordinatorSettings, Scheduler, TimerHandle, TopicView } from '../types.js';
import {
  type Assignment,
  EMPTY_ASSIGNMENT,
  type TopicPartitionsList,
  assignmentEquals,
  assignmentFromList,
  assignmentToList,
} from './assignment.js';
import { type AssignorMember, SERVER_ASSIGNORS } from './assignors.js';
import { GroupError, GroupErrorCode } from './errors.js';
import { type MemberAssignmentState, isReconciledTo, memberAssignmentEquals, reconcile } from './reconcile.js';
import { type ConsumerGroupRecord, MemberState, memberStateFromByte } from './records.js';
import { type TopicRegex, compileTopicRegex } from './regex.js';

/** Consumer group states, as Kafka names them in ListGroups, DescribeGroups and ConsumerGroupDescribe. */
export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable' | 'Dead';
export const CONSUMER_GROUP_STATES: readonly ConsumerGroupState[] = ['Empty', 'Assigning', 'Reconciling', 'Stable', 'Dead'];

/** Member epochs with a meaning of their own in ConsumerGroupHeartbeat. */
export const JOIN_GROUP_MEMBER_EPOCH = 0;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/** From ConsumerGroupHeartbeat v1 the client generates its member id (KIP-1082). */
const CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION = 1;

/**
 * The ACL operations a group supports (READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS),
 * as a bitfield of Kafka's AclOperation codes. Strata has no authorizer yet, so a describe that
 * asks for authorized operations gets all of them.
 */
export const ALL_GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11);
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export interface ClientInfo {
  clientId: string;
  clientHost: string;
}

/** What this part needs to know about the classic groups held by the same coordinator. */
export interface ClassicGroupsView {
  /** 'empty' or 'nonEmpty' when a classic group has this id; undefined when none does. */
  classicGroupState(groupId: string): 'empty' | 'nonEmpty' | undefined;
  /** Deletes an empty classic group because a consumer group takes its id (as Kafka does). */
  deleteEmptyClassicGroup(groupId: string): void;
}

export interface ConsumerGroupsOptions {
  settings: CoordinatorSettings;
  scheduler: Scheduler;
  topics: TopicView;
  /**
   * Receives every batch of records to append to __consumer_offsets, in order, synchronously at
   * the end of the operation that made them (a request or a timer). The state already reflects
   * them; it must not throw (a failed write is the owner's operational failure to handle).
   */
  onRecords?: (records: readonly ConsumerGroupRecord[]) => void;
  classicGroups?: ClassicGroupsView;
  /** Groups of other types the coordinator holds, counted with these against `maxGroups`. */
  otherGroupCount?: () => number;
  /** Member ids the coordinator generates (ConsumerGroupHeartbeat v0); default: random uuids. */
  newMemberId?: () => string;
}

/** A group as ListGroups reports it. */
export interface ConsumerGroupListing {
  groupId: string;
  groupState: ConsumerGroupState;
  groupType: 'consumer';
  protocolType: 'consumer';
}

/** A read-only picture of one group, for tests, debugging and the admin views. */
export interface ConsumerGroupSnapshot {
  groupId: string;
  groupState: ConsumerGroupState;
  groupEpoch: number;
  assignmentEpoch: number;
  metadataHash: bigint;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    serverAssignor: string | null;
    rebalanceTimeoutMs: number;
    memberEpoch: number;
    previousMemberEpoch: number;
    state: MemberState;
    assigned: TopicPartitionsList[];
    pendingRevocation: TopicPartitionsList[];
    target: TopicPartitionsList[];
  }[];
  resolvedRegularExpressions: { regularExpression: string; topics: string[] }[];
}

interface Member extends MemberAssignmentState {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  /** Sorted, without duplicates: a reordered list is not a subscription change. */
  subscribedTopicNames: readonly string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
}

interface ResolvedRegex {
  topics: ReadonlySet<string>;
  version: bigint;
  timestamp: bigint;
}

interface PartitionOwner {
  memberId: string;
  epoch: number;
}

class Group {
  groupEpoch = 0;
  metadataHash = 0n;
  assignmentEpoch = 0;
  readonly members = new Map<string, Member>();
  /** instance id → member id */
  readonly staticMembers = new Map<string, string>();
  readonly targetAssignment = new Map<string, Assignment>();
  /** Who owns each partition now (assigned or pending revocation), at which member epoch. */
  readonly owners = new Map<string, Map<number, PartitionOwner>>();
  readonly resolvedRegexes = new Map<string, ResolvedRegex>();
  private cachedState: ConsumerGroupState | null = null;

  constructor(readonly groupId: string) {}

  changed(): void {
    this.cachedState = null;
  }

  get state(): ConsumerGroupState {
    if (this.cachedState === null) this.cachedState = this.computeState();
    return this.cachedState;
  }

  private computeState(): ConsumerGroupState {
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) if (!isReconciledTo(m, this.assignmentEpoch)) return 'Reconciling';
    return 'Stable';
  }
}

function newMember(memberId: string): Member {
  return {
    memberId,
    instanceId: null,
    rackId: null,
    clientId: '',
    clientHost: '',
    subscribedTopicNames: [],
    subscribedTopicRegex: null,
    rebalanceTimeoutMs: -1,
    serverAssignor: null,
    memberEpoch: 0,
    previousMemberEpoch: 0,
    state: MemberState.STABLE,
    assigned: EMPTY_ASSIGNMENT,
    pendingRevocation: EMPTY_ASSIGNMENT,
  };
}

function sortedUnique(names: readonly string[]): string[] {
  return [...new Set(names)].sort();
}

function arraysEqual(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function setsEqual<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Java's `String.trim().isEmpty()`, which is what Kafka checks: only chars <= U+0020 count as blank. */
function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x20) return false;
  return true;
}

function notEmpty(s: string | null): s is string {
  return s !== null && s !== '';
}

function memberMetadataEquals(a: Member, b: Member): boolean {
  return (
    a.instanceId === b.instanceId &&
    a.rackId === b.rackId &&
    a.clientId === b.clientId &&
    a.clientHost === b.clientHost &&
    arraysEqual(a.subscribedTopicNames, b.subscribedTopicNames) &&
    a.subscribedTopicRegex === b.subscribedTopicRegex &&
    a.rebalanceTimeoutMs === b.rebalanceTimeoutMs &&
    a.serverAssignor === b.serverAssignor
  );
}

/** A random id in Kafka's Uuid text form, never starting with '-' (as Kafka's Uuid.randomUuid). */
export function randomMemberId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-') && id !== 'AAAAAAAAAAAAAAAAAAAAAA') return id;
  }
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

/** FNV-1a 64 over a string's UTF-16 units, continuing from `h`. */
function fnv(h: bigint, s: string): bigint {
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * FNV_PRIME) & MASK_64;
  }
  return h;
}

/** Compiled regexes, by source. Bounded: the oldest entry goes when full (recompiling is cheap). */
const COMPILED_REGEX_CACHE_MAX = 1024;
/** Per-topic metadata hashes (name, id, partition count). Bounded: cleared when full. */
const TOPIC_HASH_CACHE_MAX = 100_000;

export class ConsumerGroups {
  private readonly groups = new Map<string, Group>();
  private readonly settings: CoordinatorSettings;
  private readonly scheduler: Scheduler;
  private readonly topics: TopicView;
  private readonly onRecords: (records: readonly ConsumerGroupRecord[]) => void;
  private readonly classicGroups: ClassicGroupsView | undefined;
  private readonly otherGroupCount: () => number;
  private readonly newMemberId: () => string;
  private readonly sessionTimers = new Map<string, TimerHandle>();
  private readonly rebalanceTimers = new Map<string, TimerHandle>();
  private readonly compiledRegexes = new Map<string, TopicRegex | null>();
  private readonly topicHashes = new Map<string, bigint>();
  private pending: ConsumerGroupRecord[] = [];
  /** Topic names as of the last `onTopicsChanged`, to resolve regexes against new names only. */
  private knownTopicNames = new Set<string>();
  private topicsVersion = 0n;
  private rebalances = 0;

  constructor(options: ConsumerGroupsOptions) {
    const s = options.settings;
    assert.ok(s.consumerAssignors.length > 0, 'group.consumer.assignors is empty');
    for (const name of s.consumerAssignors) assert.ok(SERVER_ASSIGNORS.has(name), `unknown consumer group assignor ${name}`);
    assert.ok(s.consumerHeartbeatIntervalMs > 0 && s.consumerHeartbeatIntervalMs < s.consumerSessionTimeoutMs,
      'group.consumer.heartbeat.interval.ms must be positive and below group.consumer.session.timeout.ms');
    assert.ok(s.consumerMaxGroupSize >= 1 && s.maxGroups >= 1);
    this.settings = s;
    this.scheduler = options.scheduler;
    this.topics = options.topics;
    this.onRecords = options.onRecords ?? (() => {});
    this.classicGroups = options.classicGroups;
    this.otherGroupCount = options.otherGroupCount ?? (() => 0);
    this.newMemberId = options.newMemberId ?? randomMemberId;
  }

  // -------------------------------------------------------------------------------------------
  // ConsumerGroupHeartbeat

  /**
   * Answers one ConsumerGroupHeartbeat (v0 or v1). Errors come back in the response's
   * `errorCode`/`errorMessage`, with the codes and messages Kafka uses.
   */
  heartbeat(req: G.ConsumerGroupHeartbeatRequest, version: number, client: ClientInfo): G.ConsumerGroupHeartbeatResponse {
    assert.equal(this.pending.length, 0);
    let response: G.ConsumerGroupHeartbeatResponse;
    try {
      this.checkRequest(req, version);
      response =
        req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH
          ? this.leave(req)
          : this.join(req, client);
    } catch (e) {
      if (!(e instanceof GroupError)) throw e;
      assert.equal(this.pending.length, 0, 'a refused heartbeat had already changed the group');
      return { ...defaultConsumerGroupHeartbeatResponse(), errorCode: e.code, errorMessage: e.message };
    }
    this.flush();
    return response;
  }

  /** The checks Kafka makes before the request reaches the group (GroupCoordinatorService). */
  private checkRequest(req: G.ConsumerGroupHeartbeatRequest, version: number): void {
    const invalid = (message: string): GroupError => new GroupError(GroupErrorCode.INVALID_REQUEST, message);
    if (
      version >= CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION ||
      req.memberEpoch > 0 ||
      req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH
    ) {
      if (isBlank(req.memberId)) throw invalid("MemberId can't be empty.");
    }
    if (isBlank(req.groupId)) throw invalid("GroupId can't be empty.");
    if (req.instanceId !== null && isBlank(req.instanceId)) throw invalid("InstanceId can't be empty.");
    if (req.rackId !== null && isBlank(req.rackId)) throw invalid("RackId can't be empty.");
    if (req.memberEpoch === JOIN_GROUP_MEMBER_EPOCH) {
      if (req.rebalanceTimeoutMs === -1) throw invalid('RebalanceTimeoutMs must be provided in first request.');
      if (req.topicPartitions === null || req.topicPartitions.length > 0) throw invalid('TopicPartitions must be empty when (re-)joining.');
      // An empty list or an empty regex is accepted: the member belongs to the group with no topics.
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) {
        throw invalid('Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.');
      }
    } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (req.instanceId === null) throw invalid("InstanceId can't be null.");
    } else if (req.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      throw invalid('MemberEpoch is invalid.');
    }
    if (req.serverAssignor !== null && !this.settings.consumerAssignors.includes(req.serverAssignor)) {
      throw new GroupError(
        GroupErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${this.settings.consumerAssignors.join(', ')}.`,
      );
    }
  }

  private join(req: G.ConsumerGroupHeartbeatRequest, client: ClientInfo): G.ConsumerGroupHeartbeatResponse {
    const { groupId, memberEpoch, instanceId } = req;
    const joining = memberEpoch === JOIN_GROUP_MEMBER_EPOCH;
    const owned = req.topicPartitions === null ? null : assignmentFromList(req.topicPartitions);

    // --- Checks: nothing changes until all of them pass. ---
    const existingGroup = this.groups.get(groupId);
    let replacesEmptyClassicGroup = false;
    if (existingGroup === undefined) {
      const classic = this.classicGroups?.classicGroupState(groupId);
      if (classic === 'nonEmpty' || (classic === 'empty' && !joining)) {
        // Kafka can convert a live classic group online; Strata does not (yet).
        throw new GroupError(GroupErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
      }
      if (!joining) throw new GroupError(GroupErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${groupId} not found.`);
      replacesEmptyClassicGroup = classic === 'empty';
      const held = this.groups.size + this.otherGroupCount() - (replacesEmptyClassicGroup ? 1 : 0);
      if (held >= this.settings.maxGroups) {
        throw new GroupError(
          GroupErrorCode.GROUP_MAX_SIZE_REACHED,
          `The coordinator already holds its maximum of ${this.settings.maxGroups} groups.`,
        );
      }
    }
    const memberCount = existingGroup?.members.size ?? 0;
    if (
      memberCount >= this.settings.consumerMaxGroupSize &&
      (req.memberId === '' || existingGroup?.members.has(req.memberId) !== true)
    ) {
      throw new GroupError(
        GroupErrorCode.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${this.settings.consumerMaxGroupSize} members.`,
      );
    }
    const memberId = req.memberId === '' ? this.newMemberId() : req.memberId;

    let existing: Member | undefined;
    let replaced: Member | undefined;
    if (instanceId === null) {
      existing = existingGroup?.members.get(memberId);
      if (existing === undefined && !joining) {
        throw new GroupError(GroupErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${groupId}.`);
      }
      if (existing !== undefined) this.checkMemberEpoch(existing, memberEpoch, owned);
    } else {
      const staticMemberId = existingGroup?.staticMembers.get(instanceId);
      const staticMember = staticMemberId === undefined ? undefined : existingGroup!.members.get(staticMemberId);
      if (joining) {
        if (staticMember === undefined) {
          existing = existingGroup?.members.get(memberId);
        } else if (staticMember.memberId === memberId) {
          // The same member rejoining (a v1 client keeps its id after being fenced): accepted like
          // a dynamic member's rejoin. Kafka answers UNRELEASED_INSTANCE_ID here unless the member
          // had left with epoch -2, which leaves such a client unable to rejoin until its session
          // expires.
          existing = staticMember;
        } else if (staticMember.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          throw new GroupError(
            GroupErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${instanceId} cannot join the group because the instance id is owned by ${staticMember.memberId} member.`,
          );
        } else {
          replaced = staticMember;
        }
      } else {
        if (staticMember === undefined) {
          throw new GroupError(GroupErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${instanceId} is unknown.`);
        }
        if (staticMember.memberId !== memberId) {
          throw new GroupError(
            GroupErrorCode.FENCED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${instanceId} was fenced by member ${staticMember.memberId}.`,
          );
        }
        this.checkMemberEpoch(staticMember, memberEpoch, owned);
        existing = staticMember;
      }
    }
    const base = replaced ?? existing;
    if (base !== undefined && base.state === MemberState.UNKNOWN && (owned === null || owned.size > 0)) {
      throw new GroupError(
        GroupErrorCode.FENCED_MEMBER_EPOCH,
        'The consumer group member is in a unknown state. The member must abandon all its partitions and rejoin.',
      );
    }
    const oldRegex = base?.subscribedTopicRegex ?? null;
    const newRegex = req.subscribedTopicRegex ?? oldRegex;
    const regexChanged = newRegex !== oldRegex;
    const newRegexIsNew = regexChanged && notEmpty(newRegex) && existingGroup?.resolvedRegexes.has(newRegex) !== true;
    if (newRegexIsNew) {
      const compiled = compileTopicRegex(newRegex);
      if (!compiled.ok) {
        throw new GroupError(
          GroupErrorCode.INVALID_REGULAR_EXPRESSION,
          `SubscribedTopicRegex \`${newRegex}\` is not a valid regular expression: ${compiled.message}.`,
        );
      }
      this.rememberRegex(newRegex, compiled.regex);
    }

    // --- Changes. ---
    if (replacesEmptyClassicGroup) this.classicGroups!.deleteEmptyClassicGroup(groupId);

    let before: Member;
    if (replaced !== undefined) {
      // A static member comes back under a new member id: it takes over the departed member's
      // assignment and target, so nothing moves (no rebalance).
      this.cancelTimers(groupId, replaced.memberId);
      const target = existingGroup!.targetAssignment.get(replaced.memberId) ?? EMPTY_ASSIGNMENT;
      before = { ...replaced, memberId, memberEpoch: 0, previousMemberEpoch: 0 };
      this.emitMemberRemoval(groupId, replaced.memberId);
      this.emit(this.memberMetadataRecord(groupId, before));
      this.emit({ type: 'ConsumerGroupTargetAssignmentMember', groupId, memberId, value: { topicPartitions: assignmentToList(target) } });
      this.emit(this.currentAssignmentRecord(groupId, before));
    } else {
      before = existing ?? newMember(memberId);
    }

    const updated: Member = {
      ...before,
      instanceId: instanceId ?? before.instanceId,
      rackId: req.rackId ?? before.rackId,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs !== -1 ? req.rebalanceTimeoutMs : before.rebalanceTimeoutMs,
      serverAssignor: req.serverAssignor ?? before.serverAssignor,
      subscribedTopicNames: req.subscribedTopicNames !== null ? sortedUnique(req.subscribedTopicNames) : before.subscribedTopicNames,
      subscribedTopicRegex: newRegex,
      clientId: client.clientId,
      clientHost: client.clientHost,
    };
    const namesChanged = !arraysEqual(before.subscribedTopicNames, updated.subscribedTopicNames);
    // Count the regexes' subscribers before this member's new subscription is applied.
    const oldRegexOrphaned =
      regexChanged && notEmpty(oldRegex) && existingGroup !== undefined && this.regexSubscribers(existingGroup, oldRegex) === 1;
    const isNewMember = this.groups.get(groupId)?.members.has(memberId) !== true;
    if (isNewMember || !memberMetadataEquals(before, updated)) this.emit(this.memberMetadataRecord(groupId, updated));

    const group = this.groups.get(groupId)!;
    let bump = group.groupEpoch === 0 || namesChanged;
    if (oldRegexOrphaned) this.emit({ type: 'ConsumerGroupRegularExpression', groupId, regularExpression: oldRegex!, value: null });
    if (newRegexIsNew) {
      const topics = this.resolveRegex(newRegex!);
      this.emitResolvedRegex(groupId, newRegex!, topics);
      if (topics.size > 0) bump = true;
    } else if (regexChanged && notEmpty(newRegex)) {
      bump = true; // already resolved for other members: its topics may be new to this one
    }
    if (bump || namesChanged || regexChanged) {
      const hash = this.metadataHash(group);
      if (bump || hash !== group.metadataHash) this.bumpGroupEpoch(group, hash);
    }

    // Target assignment: computed when the group epoch moved past it.
    if (group.groupEpoch > group.assignmentEpoch) this.computeTargetAssignment(group);
    const targetEpoch = group.assignmentEpoch;
    const target = group.targetAssignment.get(memberId) ?? EMPTY_ASSIGNMENT;

    // Reconciliation: one step towards the target.
    const current = group.members.get(memberId)!;
    if (!isReconciledTo(current, targetEpoch)) {
      const next = reconcile({
        memberId,
        current,
        targetEpoch,
        target,
        ownerOf: (topicId, partition) => group.owners.get(topicId)?.get(partition)?.memberId,
        owned,
      });
      if (!memberAssignmentEquals(next, current)) {
        this.emit(this.currentAssignmentRecord(groupId, { ...current, ...next }));
        if (next.state === MemberState.UNREVOKED_PARTITIONS) {
          this.scheduleRebalanceTimeout(groupId, memberId, next.memberEpoch, current.rebalanceTimeoutMs);
        } else {
          this.cancelRebalanceTimeout(groupId, memberId);
        }
      }
    }
    this.scheduleSessionTimeout(groupId, memberId);

    const after = group.members.get(memberId)!;
    const response: G.ConsumerGroupHeartbeatResponse = {
      ...defaultConsumerGroupHeartbeatResponse(),
      memberId,
      memberEpoch: after.memberEpoch,
      heartbeatIntervalMs: this.settings.consumerHeartbeatIntervalMs,
    };
    // The assignment is sent on a join, on a full request (every field set: a client sends one
    // after an error), and whenever it changed.
    const fullRequest =
      req.rebalanceTimeoutMs !== -1 &&
      (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) &&
      req.topicPartitions !== null;
    if (joining || fullRequest || !assignmentEquals(before.assigned, after.assigned)) {
      response.assignment = {
        topicPartitions: assignmentToList(after.assigned).map((tp) => ({ topicId: tp.topicId, partitions: tp.partitions })),
      };
    }
    return response;
  }

  /**
   * Kafka's epoch check. Epoch 0 (rejoin) is always accepted, as KIP-848 specifies: a fenced
   * member rejoins with its id and epoch 0 (Kafka 4.1 refuses that unless the previous epoch was
   * 0, fixed later in Kafka). An older epoch is accepted only when it is the previous one and
   * the member reports a subset of its partitions: the response that moved it on was lost.
   */
  private checkMemberEpoch(member: Member, received: number, owned: Assignment | null): void {
    if (received === JOIN_GROUP_MEMBER_EPOCH) return;
    if (received > member.memberEpoch) {
      throw new GroupError(
        GroupErrorCode.FENCED_MEMBER_EPOCH,
        `The consumer group member has a greater member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
      );
    }
    if (received < member.memberEpoch && (received !== member.previousMemberEpoch || !isSubset(owned, member.assigned))) {
      throw new GroupError(
        GroupErrorCode.FENCED_MEMBER_EPOCH,
        `The consumer group member has a smaller member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
      );
    }
  }

  private leave(req: G.ConsumerGroupHeartbeatRequest): G.ConsumerGroupHeartbeatResponse {
    const { groupId, memberId, instanceId, memberEpoch } = req;
    const group = this.requireGroup(groupId);
    const response: G.ConsumerGroupHeartbeatResponse = { ...defaultConsumerGroupHeartbeatResponse(), memberId, memberEpoch };
    if (instanceId === null) {
      const member = group.members.get(memberId);
      if (member === undefined) {
        throw new GroupError(GroupErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${groupId}.`);
      }
      this.fenceMembers(group, [member]);
      return response;
    }
    const staticMemberId = group.staticMembers.get(instanceId);
    const member = staticMemberId === undefined ? undefined : group.members.get(staticMemberId);
    if (member === undefined) throw new GroupError(GroupErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${instanceId} is unknown.`);
    if (member.memberId !== memberId) {
      throw new GroupError(
        GroupErrorCode.FENCED_INSTANCE_ID,
        `Static member ${memberId} with instance id ${instanceId} was fenced by member ${member.memberId}.`,
      );
    }
    if (memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // A static member leaving for a while: it stays in the group with epoch -2, keeping its
      // partitions, until it comes back or its session expires. Nothing is rebalanced.
      this.emit(
        this.currentAssignmentRecord(groupId, { ...member, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH, pendingRevocation: EMPTY_ASSIGNMENT }),
      );
      return { ...response, memberId: member.memberId, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH };
    }
    this.fenceMembers(group, [member]);
    return response;
  }

  // -------------------------------------------------------------------------------------------
  // Group changes shared by requests and timers

  /** Removes members and bumps the group epoch; the next heartbeat computes the new target. */
  private fenceMembers(group: Group, members: readonly Member[]): void {
    if (members.length === 0) return;
    for (const m of members) {
      this.cancelTimers(group.groupId, m.memberId);
      this.emitMemberRemoval(group.groupId, m.memberId);
    }
    for (const regex of [...group.resolvedRegexes.keys()]) {
      if (this.regexSubscribers(group, regex) === 0) {
        this.emit({ type: 'ConsumerGroupRegularExpression', groupId: group.groupId, regularExpression: regex, value: null });
      }
    }
    this.bumpGroupEpoch(group, this.metadataHash(group));
  }

  private emitMemberRemoval(groupId: string, memberId: string): void {
    this.emit({ type: 'ConsumerGroupCurrentMemberAssignment', groupId, memberId, value: null });
    this.emit({ type: 'ConsumerGroupTargetAssignmentMember', groupId, memberId, value: null });
    this.emit({ type: 'ConsumerGroupMemberMetadata', groupId, memberId, value: null });
  }

  private bumpGroupEpoch(group: Group, metadataHash: bigint): void {
    this.emit({ type: 'ConsumerGroupMetadata', groupId: group.groupId, value: { epoch: group.groupEpoch + 1, metadataHash } });
    this.rebalances++;
  }

  private computeTargetAssignment(group: Group): void {
    const assignor = SERVER_ASSIGNORS.get(this.preferredAssignor(group))!;
    const partitionCounts = new Map<string, number>();
    const members: AssignorMember[] = [];
    for (const m of group.members.values()) {
      const topicIds = new Set<string>();
      for (const name of this.subscribedTopicNames(group, m)) {
        const topic = this.topics.byName(name);
        if (topic === undefined) continue;
        topicIds.add(topic.id);
        partitionCounts.set(topic.id, topic.partitionCount);
      }
      members.push({
        memberId: m.memberId,
        instanceId: m.instanceId,
        subscribedTopicIds: topicIds,
        previous: group.targetAssignment.get(m.memberId) ?? EMPTY_ASSIGNMENT,
      });
    }
    const result = assignor.assign({ members, partitionCounts });
    for (const memberId of [...result.keys()].sort()) {
      const next = result.get(memberId)!;
      const prev = group.targetAssignment.get(memberId);
      if (prev === undefined || !assignmentEquals(prev, next)) {
        this.emit({
          type: 'ConsumerGroupTargetAssignmentMember',
          groupId: group.groupId,
          memberId,
          value: { topicPartitions: assignmentToList(next) },
        });
      }
    }
    this.emit({ type: 'ConsumerGroupTargetAssignmentMetadata', groupId: group.groupId, value: { assignmentEpoch: group.groupEpoch } });
  }

  /** The assignor most members ask for (ties: the configured order), else the configured default. */
  private preferredAssignor(group: Group): string {
    const counts = new Map<string, number>();
    for (const m of group.members.values()) {
      if (m.serverAssignor !== null && SERVER_ASSIGNORS.has(m.serverAssignor)) {
        counts.set(m.serverAssignor, (counts.get(m.serverAssignor) ?? 0) + 1);
      }
    }
    let best = this.settings.consumerAssignors[0]!;
    let bestCount = 0;
    const rank = (name: string): number => {
      const i = this.settings.consumerAssignors.indexOf(name);
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    for (const [name, n] of counts) {
      if (n > bestCount || (n === bestCount && rank(name) < rank(best))) {
        best = name;
        bestCount = n;
      }
    }
    return best;
  }

  /** A member's topics: its names plus what its regex resolved to. */
  private subscribedTopicNames(group: Group, m: Member): Set<string> {
    const names = new Set(m.subscribedTopicNames);
    if (notEmpty(m.subscribedTopicRegex)) {
      const resolved = group.resolvedRegexes.get(m.subscribedTopicRegex);
      if (resolved !== undefined) for (const t of resolved.topics) names.add(t);
    }
    return names;
  }

  /**
   * A hash of the metadata of every topic the group subscribes to (name, id, partition count), so
   * a topic created, deleted, recreated or grown shows up as a change (KIP-1101's idea; the hash
   * function is Strata's own). 0 when the group subscribes to no existing topic, as in Kafka.
   */
  private metadataHash(group: Group): bigint {
    const names = new Set<string>();
    for (const m of group.members.values()) for (const t of this.subscribedTopicNames(group, m)) names.add(t);
    let h = FNV_OFFSET;
    let any = false;
    for (const name of [...names].sort()) {
      const topic = this.topics.byName(name);
      if (topic === undefined) continue;
      any = true;
      h = ((h ^ this.topicHash(name, topic.id, topic.partitionCount)) * FNV_PRIME) & MASK_64;
    }
    return any ? BigInt.asIntN(64, h) : 0n;
  }

  /** One topic's part of the metadata hash, cached: every group subscribed to it needs the same. */
  private topicHash(name: string, id: string, partitionCount: number): bigint {
    const key = `${name}\u0000${id}\u0000${partitionCount}`;
    let h = this.topicHashes.get(key);
    if (h === undefined) {
      if (this.topicHashes.size >= TOPIC_HASH_CACHE_MAX) this.topicHashes.clear();
      this.topicHashes.set(key, (h = fnv(FNV_OFFSET, key)));
    }
    return h;
  }

  private regexSubscribers(group: Group, regex: string): number {
    let n = 0;
    for (const m of group.members.values()) if (m.subscribedTopicRegex === regex) n++;
    return n;
  }

  private compiledRegex(source: string): TopicRegex | null {
    let compiled = this.compiledRegexes.get(source);
    if (compiled === undefined) {
      const result = compileTopicRegex(source);
      compiled = result.ok ? result.regex : null;
      this.rememberRegex(source, compiled);
    }
    return compiled;
  }

  private rememberRegex(source: string, compiled: TopicRegex | null): void {
    if (this.compiledRegexes.size >= COMPILED_REGEX_CACHE_MAX) {
      this.compiledRegexes.delete(this.compiledRegexes.keys().next().value!);
    }
    this.compiledRegexes.set(source, compiled);
  }

  /** The topic names a regex matches now. An expression Strata cannot compile (read from a log written elsewhere) matches nothing. */
  private resolveRegex(source: string): Set<string> {
    const regex = this.compiledRegex(source);
    const out = new Set<string>();
    if (regex === null) return out;
    for (const name of this.topics.names()) if (regex.matches(name)) out.add(name);
    return out;
  }

  private emitResolvedRegex(groupId: string, regex: string, topics: ReadonlySet<string>): void {
    this.emit({
      type: 'ConsumerGroupRegularExpression',
      groupId,
      regularExpression: regex,
      value: { topics: [...topics].sort(), version: this.topicsVersion, timestamp: BigInt(this.scheduler.nowMs()) },
    });
  }

  private memberMetadataRecord(groupId: string, m: Member): ConsumerGroupRecord {
    return {
      type: 'ConsumerGroupMemberMetadata',
      groupId,
      memberId: m.memberId,
      value: {
        instanceId: m.instanceId,
        rackId: m.rackId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        subscribedTopicRegex: m.subscribedTopicRegex,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        serverAssignor: m.serverAssignor,
      },
    };
  }

  private currentAssignmentRecord(groupId: string, m: Member): ConsumerGroupRecord {
    return {
      type: 'ConsumerGroupCurrentMemberAssignment',
      groupId,
      memberId: m.memberId,
      value: {
        memberEpoch: m.memberEpoch,
        previousMemberEpoch: m.previousMemberEpoch,
        state: m.state,
        assignedPartitions: assignmentToList(m.assigned),
        partitionsPendingRevocation: assignmentToList(m.pendingRevocation),
      },
    };
  }

  private requireGroup(groupId: string): Group {
    const group = this.groups.get(groupId);
    if (group !== undefined) return group;
    if (this.classicGroups?.classicGroupState(groupId) !== undefined) {
      throw new GroupError(GroupErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} is not a consumer group.`);
    }
    throw new GroupError(GroupErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} not found.`);
  }

  // -------------------------------------------------------------------------------------------
  // Timers

  /** Unambiguous for any two strings (the group id's length goes first). */
  private timerKey(groupId: string, memberId: string): string {
    return `${groupId.length}:${groupId}${memberId}`;
  }

  /** group.consumer.session.timeout.ms from the last heartbeat; expiry fences the member. */
  private scheduleSessionTimeout(groupId: string, memberId: string): void {
    const key = this.timerKey(groupId, memberId);
    this.sessionTimers.get(key)?.cancel();
    this.sessionTimers.set(
      key,
      this.scheduler.after(this.settings.consumerSessionTimeoutMs, () => {
        this.sessionTimers.delete(key);
        const group = this.groups.get(groupId);
        const member = group?.members.get(memberId);
        if (group === undefined || member === undefined) return;
        this.fenceMembers(group, [member]);
        this.flush();
      }),
    );
  }

  /**
   * The member's rebalance timeout from the moment it is asked to revoke: if it is still at that
   * epoch when the timer fires (it has not revoked), it is fenced.
   */
  private scheduleRebalanceTimeout(groupId: string, memberId: string, memberEpoch: number, rebalanceTimeoutMs: number): void {
    const key = this.timerKey(groupId, memberId);
    this.rebalanceTimers.get(key)?.cancel();
    this.rebalanceTimers.set(
      key,
      this.scheduler.after(Math.max(0, rebalanceTimeoutMs), () => {
        this.rebalanceTimers.delete(key);
        const group = this.groups.get(groupId);
        const member = group?.members.get(memberId);
        if (group === undefined || member === undefined || member.memberEpoch !== memberEpoch) return;
        this.fenceMembers(group, [member]);
        this.flush();
      }),
    );
  }

  private cancelRebalanceTimeout(groupId: string, memberId: string): void {
    const key = this.timerKey(groupId, memberId);
    this.rebalanceTimers.get(key)?.cancel();
    this.rebalanceTimers.delete(key);
  }

  private cancelTimers(groupId: string, memberId: string): void {
    const key = this.timerKey(groupId, memberId);
    this.sessionTimers.get(key)?.cancel();
    this.sessionTimers.delete(key);
    this.cancelRebalanceTimeout(groupId, memberId);
  }

  /** Cancels every timer (the coordinator is unloading this state). */
  close(): void {
    for (const t of this.sessionTimers.values()) t.cancel();
    for (const t of this.rebalanceTimers.values()) t.cancel();
    this.sessionTimers.clear();
    this.rebalanceTimers.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Topic changes

  /**
   * The owner calls this when topics are created, deleted or gain partitions. Regexes are
   * re-resolved against new and deleted names; every group whose subscribed topics changed gets a
   * new group epoch, and its members' next heartbeats compute and reconcile the new target.
   */
  onTopicsChanged(): void {
    assert.equal(this.pending.length, 0);
    this.refreshTopics(false);
    this.flush();
  }

  private refreshTopics(fullRescan: boolean): void {
    const names = new Set(this.topics.names());
    const added = fullRescan ? [...names] : [...names].filter((n) => !this.knownTopicNames.has(n));
    const removed = fullRescan ? [] : [...this.knownTopicNames].filter((n) => !names.has(n));
    this.knownTopicNames = names;
    this.topicsVersion++;
    for (const group of this.groups.values()) {
      let bump = false;
      for (const [regex, resolved] of [...group.resolvedRegexes]) {
        const compiled = this.compiledRegex(regex);
        const next = new Set(fullRescan ? [] : resolved.topics);
        for (const n of removed) next.delete(n);
        if (compiled !== null) for (const n of added) if (compiled.matches(n)) next.add(n);
        if (!setsEqual(next, resolved.topics)) {
          this.emitResolvedRegex(group.groupId, regex, next);
          bump = true;
        }
      }
      const hash = this.metadataHash(group);
      if (bump || hash !== group.metadataHash) this.bumpGroupEpoch(group, hash);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Records: the only way state changes

  private emit(record: ConsumerGroupRecord): void {
    this.replay(record);
    this.pending.push(record);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    this.onRecords(records);
  }

  /**
   * Applies one record, as read back from __consumer_offsets at start-up (or just emitted). Call
   * `onLoaded()` once the log has been read. Tombstones for unknown groups or members are
   * ignored; a tombstone that would break the group's invariants (a member removed while it still
   * holds partitions, a group deleted with members) is an assertion failure, as in Kafka.
   */
  replay(record: ConsumerGroupRecord): void {
    const { groupId } = record;
    switch (record.type) {
      case 'ConsumerGroupMetadata': {
        if (record.value !== null) {
          const group = this.groupForWrite(groupId);
          group.groupEpoch = record.value.epoch;
          group.metadataHash = record.value.metadataHash;
          group.changed();
        } else {
          const group = this.groups.get(groupId);
          if (group === undefined) return;
          assert.equal(group.members.size, 0, `group ${groupId} deleted with members`);
          assert.equal(group.targetAssignment.size, 0, `group ${groupId} deleted with a target assignment`);
          assert.equal(group.assignmentEpoch, -1, `group ${groupId} deleted before its target assignment epoch`);
          this.groups.delete(groupId);
        }
        return;
      }
      case 'ConsumerGroupPartitionMetadata':
        return; // replaced by the metadata hash in Kafka 4.1; nothing to keep
      case 'ConsumerGroupMemberMetadata': {
        if (record.value !== null) {
          const group = this.groupForWrite(groupId);
          const v = record.value;
          const old = group.members.get(record.memberId);
          this.setMember(group, old, {
            ...(old ?? newMember(record.memberId)),
            instanceId: v.instanceId,
            rackId: v.rackId,
            clientId: v.clientId,
            clientHost: v.clientHost,
            subscribedTopicNames: sortedUnique(v.subscribedTopicNames),
            subscribedTopicRegex: v.subscribedTopicRegex,
            rebalanceTimeoutMs: v.rebalanceTimeoutMs,
            serverAssignor: v.serverAssignor,
          });
        } else {
          const group = this.groups.get(groupId);
          const member = group?.members.get(record.memberId);
          if (group === undefined || member === undefined) return;
          assert.equal(member.memberEpoch, LEAVE_GROUP_MEMBER_EPOCH, `member ${record.memberId} removed before its assignment`);
          assert.ok(!group.targetAssignment.has(record.memberId), `member ${record.memberId} removed before its target assignment`);
          this.removeMember(group, member);
        }
        return;
      }
      case 'ConsumerGroupTargetAssignmentMetadata': {
        if (record.value !== null) {
          const group = this.groupForWrite(groupId);
          group.assignmentEpoch = record.value.assignmentEpoch;
          group.changed();
        } else {
          const group = this.groups.get(groupId);
          if (group === undefined) return;
          assert.equal(group.targetAssignment.size, 0, `target assignment of ${groupId} deleted with members`);
          group.assignmentEpoch = -1;
          group.changed();
        }
        return;
      }
      case 'ConsumerGroupTargetAssignmentMember': {
        if (record.value !== null) {
          const group = this.groupForWrite(groupId);
          group.targetAssignment.set(record.memberId, assignmentFromList(record.value.topicPartitions));
        } else {
          this.groups.get(groupId)?.targetAssignment.delete(record.memberId);
        }
        return;
      }
      case 'ConsumerGroupCurrentMemberAssignment': {
        if (record.value !== null) {
          const group = this.groupForWrite(groupId);
          const v = record.value;
          const old = group.members.get(record.memberId);
          this.setMember(group, old, {
            ...(old ?? newMember(record.memberId)),
            memberEpoch: v.memberEpoch,
            previousMemberEpoch: v.previousMemberEpoch,
            state: memberStateFromByte(v.state),
            assigned: assignmentFromList(v.assignedPartitions),
            pendingRevocation: assignmentFromList(v.partitionsPendingRevocation),
          });
        } else {
          const group = this.groups.get(groupId);
          const old = group?.members.get(record.memberId);
          if (group === undefined || old === undefined) return;
          this.setMember(group, old, {
            ...old,
            memberEpoch: LEAVE_GROUP_MEMBER_EPOCH,
            previousMemberEpoch: LEAVE_GROUP_MEMBER_EPOCH,
            assigned: EMPTY_ASSIGNMENT,
            pendingRevocation: EMPTY_ASSIGNMENT,
          });
        }
        return;
      }
      case 'ConsumerGroupRegularExpression': {
        if (record.value !== null) {
          const group = this.groupForWrite(groupId);
          group.resolvedRegexes.set(record.regularExpression, {
            topics: new Set(record.value.topics),
            version: record.value.version,
            timestamp: record.value.timestamp,
          });
        } else {
          this.groups.get(groupId)?.resolvedRegexes.delete(record.regularExpression);
        }
        return;
      }
    }
  }

  /**
   * The log has been read: start every member's session timer (and the rebalance timer of those
   * asked to revoke), and check the topics, which may have changed while the state was not loaded.
   */
  onLoaded(): void {
    assert.equal(this.pending.length, 0);
    for (const group of this.groups.values()) {
      for (const m of group.members.values()) {
        this.scheduleSessionTimeout(group.groupId, m.memberId);
        if (m.state === MemberState.UNREVOKED_PARTITIONS) {
          this.scheduleRebalanceTimeout(group.groupId, m.memberId, m.memberEpoch, m.rebalanceTimeoutMs);
        }
      }
    }
    this.refreshTopics(true);
    this.flush();
  }

  /** Replays a whole log, then `onLoaded()`. */
  restore(records: Iterable<ConsumerGroupRecord>): void {
    for (const r of records) this.replay(r);
    this.onLoaded();
  }

  private groupForWrite(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (group === undefined) this.groups.set(groupId, (group = new Group(groupId)));
    return group;
  }

  private setMember(group: Group, old: Member | undefined, next: Member): void {
    if (old !== undefined) this.releasePartitions(group, old);
    this.claimPartitions(group, next);
    if (old?.instanceId != null && old.instanceId !== next.instanceId && group.staticMembers.get(old.instanceId) === old.memberId) {
      group.staticMembers.delete(old.instanceId);
    }
    if (next.instanceId !== null) group.staticMembers.set(next.instanceId, next.memberId);
    group.members.set(next.memberId, next);
    group.changed();
  }

  private removeMember(group: Group, member: Member): void {
    this.releasePartitions(group, member);
    if (member.instanceId !== null && group.staticMembers.get(member.instanceId) === member.memberId) {
      group.staticMembers.delete(member.instanceId);
    }
    group.members.delete(member.memberId);
    group.changed();
  }

  /** The invariant: a partition has at most one owner, at the owner's current epoch. */
  private claimPartitions(group: Group, m: Member): void {
    for (const a of [m.assigned, m.pendingRevocation]) {
      for (const [topicId, parts] of a) {
        let owners = group.owners.get(topicId);
        if (owners === undefined) group.owners.set(topicId, (owners = new Map()));
        for (const p of parts) {
          const prev = owners.get(p);
          assert.ok(
            prev === undefined,
            `partition ${topicId}-${p} given to ${m.memberId} at epoch ${m.memberEpoch} while ${prev?.memberId} owns it at epoch ${prev?.epoch}`,
          );
          owners.set(p, { memberId: m.memberId, epoch: m.memberEpoch });
        }
      }
    }
  }

  private releasePartitions(group: Group, m: Member): void {
    for (const a of [m.assigned, m.pendingRevocation]) {
      for (const [topicId, parts] of a) {
        const owners = group.owners.get(topicId);
        assert.ok(owners !== undefined, `partitions of ${topicId} released by ${m.memberId} but not owned`);
        for (const p of parts) {
          const prev = owners.get(p);
          assert.ok(prev?.memberId === m.memberId && prev.epoch === m.memberEpoch, `partition ${topicId}-${p} released by ${m.memberId} but owned by ${prev?.memberId}`);
          owners.delete(p);
        }
        if (owners.size === 0) group.owners.delete(topicId);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Describe, list, and what the other coordinator parts ask

  /** ConsumerGroupDescribe v0: one entry per requested id, GROUP_ID_NOT_FOUND for unknown ones. */
  describe(groupIds: readonly string[], includeAuthorizedOperations: boolean): G.ConsumerGroupDescribeResponseDescribedGroup[] {
    return groupIds.map((groupId) => {
      const out = defaultConsumerGroupDescribeResponseDescribedGroup();
      out.groupId = groupId;
      if (groupId === '') {
        out.errorCode = GroupErrorCode.INVALID_GROUP_ID;
        return out;
      }
      const group = this.groups.get(groupId);
      if (group === undefined) {
        out.errorCode = GroupErrorCode.GROUP_ID_NOT_FOUND;
        out.errorMessage =
          this.classicGroups?.classicGroupState(groupId) !== undefined
            ? `Group ${groupId} is not a consumer group.`
            : `Group ${groupId} not found.`;
        return out;
      }
      out.groupState = group.state;
      out.groupEpoch = group.groupEpoch;
      out.assignmentEpoch = group.assignmentEpoch;
      out.assignorName = this.preferredAssignor(group);
      out.authorizedOperations = includeAuthorizedOperations ? ALL_GROUP_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;
      out.members = [...group.members.values()]
        .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
        .map((m) => ({
          ...defaultConsumerGroupDescribeResponseMember(),
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: [...m.subscribedTopicNames],
          subscribedTopicRegex: m.subscribedTopicRegex,
          assignment: { topicPartitions: this.describeAssignment(m.assigned) },
          targetAssignment: { topicPartitions: this.describeAssignment(group.targetAssignment.get(m.memberId) ?? EMPTY_ASSIGNMENT) },
        }));
      return out;
    });
  }

  /** Topics that no longer exist are left out, as Kafka does. */
  private describeAssignment(a: Assignment): G.ConsumerGroupDescribeResponseTopicPartitions[] {
    const out: G.ConsumerGroupDescribeResponseTopicPartitions[] = [];
    for (const tp of assignmentToList(a)) {
      const topic = this.topics.byId(tp.topicId);
      if (topic !== undefined) out.push({ topicId: tp.topicId, topicName: topic.name, partitions: tp.partitions });
    }
    return out;
  }

  /** Every consumer group, for ListGroups. */
  list(): ConsumerGroupListing[] {
    return [...this.groups.values()].map((g) => ({ groupId: g.groupId, groupState: g.state, groupType: 'consumer', protocolType: 'consumer' }));
  }

  has(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  stateOf(groupId: string): ConsumerGroupState | undefined {
    return this.groups.get(groupId)?.state;
  }

  /** True when the group does not exist or has no members (its offsets may expire, it may be deleted). */
  isEmptyOrAbsent(groupId: string): boolean {
    const group = this.groups.get(groupId);
    return group === undefined || group.state === 'Empty';
  }

  /**
   * Whether any member subscribes to the topic, by name or through its regex. For a consumer
   * group Kafka lets the offsets of a topic the group does not subscribe to expire (by commit
   * time) even while the group has members, and OffsetDelete answers GROUP_SUBSCRIBED_TO_TOPIC for
   * one it does subscribe to.
   */
  isSubscribedToTopic(groupId: string, topicName: string): boolean {
    const group = this.groups.get(groupId);
    if (group === undefined) return false;
    for (const m of group.members.values()) if (this.subscribedTopicNames(group, m).has(topicName)) return true;
    return false;
  }

  /**
   * OffsetCommit from a consumer group (the caller has handled a group that does not exist).
   * Epoch -1 with no members is a commit from outside the group (admin tools): accepted.
   */
  validateOffsetCommit(groupId: string, memberId: string, memberEpoch: number, apiVersion = 9): GroupErrorCode {
    const group = this.groups.get(groupId);
    if (group === undefined) return GroupErrorCode.GROUP_ID_NOT_FOUND;
    if (memberEpoch < 0 && group.members.size === 0) return GroupErrorCode.NONE;
    const member = group.members.get(memberId);
    if (member === undefined) return GroupErrorCode.UNKNOWN_MEMBER_ID;
    // Members of a consumer group commit with OffsetCommit v9+, which carries the member epoch.
    if (apiVersion < 9) return GroupErrorCode.UNSUPPORTED_VERSION;
    return memberEpoch === member.memberEpoch ? GroupErrorCode.NONE : GroupErrorCode.STALE_MEMBER_EPOCH;
  }

  /**
   * TxnOffsetCommit: as OffsetCommit, but a wrong epoch is ILLEGAL_GENERATION, as in Kafka (so is
   * an unknown group; a negative generation for an unknown group is the caller's simple group).
   */
  validateTxnOffsetCommit(groupId: string, memberId: string, instanceId: string | null, generationId: number): GroupErrorCode {
    const group = this.groups.get(groupId);
    if (group === undefined) return GroupErrorCode.ILLEGAL_GENERATION;
    if (generationId < 0 && group.members.size === 0) return GroupErrorCode.NONE;
    // A transactional commit need not name a member; only what it names is checked.
    if (generationId === -1 && memberId === '' && instanceId === null) return GroupErrorCode.NONE;
    const member = group.members.get(memberId);
    if (member === undefined) return GroupErrorCode.UNKNOWN_MEMBER_ID;
    return generationId === member.memberEpoch ? GroupErrorCode.NONE : GroupErrorCode.ILLEGAL_GENERATION;
  }

  /** OffsetFetch v9+: a member fetching must be at its current epoch; no member id (admin) is accepted. */
  validateOffsetFetch(groupId: string, memberId: string | null, memberEpoch: number): GroupErrorCode {
    const group = this.groups.get(groupId);
    if (group === undefined) return GroupErrorCode.GROUP_ID_NOT_FOUND;
    if (memberId === null && memberEpoch < 0) return GroupErrorCode.NONE;
    const member = memberId === null ? undefined : group.members.get(memberId);
    if (member === undefined) return GroupErrorCode.UNKNOWN_MEMBER_ID;
    return memberEpoch === member.memberEpoch ? GroupErrorCode.NONE : GroupErrorCode.STALE_MEMBER_EPOCH;
  }

  /**
   * DeleteGroups (and the offsets part's cleanup of an expired empty group): only an empty group
   * may go. Writes the group's tombstones; its offsets are the caller's to tombstone.
   */
  deleteGroup(groupId: string): GroupErrorCode {
    assert.equal(this.pending.length, 0);
    const group = this.groups.get(groupId);
    if (group === undefined) return GroupErrorCode.GROUP_ID_NOT_FOUND;
    if (group.state !== 'Empty') return GroupErrorCode.NON_EMPTY_GROUP;
    for (const memberId of [...group.targetAssignment.keys()]) {
      this.emit({ type: 'ConsumerGroupTargetAssignmentMember', groupId, memberId, value: null });
    }
    this.emit({ type: 'ConsumerGroupTargetAssignmentMetadata', groupId, value: null });
    for (const regex of [...group.resolvedRegexes.keys()]) {
      this.emit({ type: 'ConsumerGroupRegularExpression', groupId, regularExpression: regex, value: null });
    }
    this.emit({ type: 'ConsumerGroupPartitionMetadata', groupId, value: null });
    this.emit({ type: 'ConsumerGroupMetadata', groupId, value: null });
    this.flush();
    return GroupErrorCode.NONE;
  }

  // -------------------------------------------------------------------------------------------
  // Metrics

  /** Consumer groups per state ('Dead' is always 0: a deleted group is gone). */
  groupCountByState(): Record<ConsumerGroupState, number> {
    const out: Record<ConsumerGroupState, number> = { Empty: 0, Assigning: 0, Reconciling: 0, Stable: 0, Dead: 0 };
    for (const g of this.groups.values()) out[g.state]++;
    return out;
  }

  /** Group epoch bumps (rebalances) since this instance started; restored records do not count. */
  rebalanceCount(): number {
    return this.rebalances;
  }

  groupCount(): number {
    return this.groups.size;
  }

  /** A copy of one group's state, or undefined. */
  snapshot(groupId: string): ConsumerGroupSnapshot | undefined {
    const group = this.groups.get(groupId);
    if (group === undefined) return undefined;
    return {
      groupId,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      metadataHash: group.metadataHash,
      assignorName: this.preferredAssignor(group),
      members: [...group.members.values()]
        .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
        .map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: [...m.subscribedTopicNames],
          subscribedTopicRegex: m.subscribedTopicRegex,
          serverAssignor: m.serverAssignor,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          memberEpoch: m.memberEpoch,
          previousMemberEpoch: m.previousMemberEpoch,
          state: m.state,
          assigned: assignmentToList(m.assigned),
          pendingRevocation: assignmentToList(m.pendingRevocation),
          target: assignmentToList(group.targetAssignment.get(m.memberId) ?? EMPTY_ASSIGNMENT),
        })),
      resolvedRegularExpressions: [...group.resolvedRegexes]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([regularExpression, r]) => ({ regularExpression, topics: [...r.topics].sort() })),
    };
  }
}

/** True when every partition in `owned` is in `assigned` (null: unknown, so no). */
function isSubset(owned: Assignment | null, assigned: Assignment): boolean {
  if (owned === null) return false;
  for (const [topicId, parts] of owned) {
    const mine = assigned.get(topicId);
    for (const p of parts) if (mine === undefined || !mine.has(p)) return false;
  }
  return true;
}
