// The classic group membership protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, and the
// classic side of DescribeGroups, ListGroups, DeleteGroups), as Kafka's group coordinator runs it,
// as pure logic over an injected Scheduler: no sockets, no disk.
//
// Requests go in as the generated request bodies with their version, answers come out as the
// generated response bodies fitted to that version. JoinGroup and SyncGroup are parked until the
// rebalance step they wait for completes (or times out); the others answer at once.
//
// Timers, each as Kafka has them:
//   - heartbeat (per member): the session timeout, reset by every Heartbeat and every answered
//     JoinGroup/SyncGroup. A member that expires is removed and the group rebalances. A member
//     whose JoinGroup or SyncGroup is parked is alive, unless it joined in this very phase; new
//     members get `newMemberJoinTimeoutMs` (Kafka's 5 minutes) instead of their session timeout.
//   - pending member: a member id handed out with MEMBER_ID_REQUIRED is dropped if not used within
//     the session timeout.
//   - join (per group): the rebalance timeout (the largest of the members'); members that have not
//     rejoined by then are removed (static members are kept until their session expires). The first
//     rebalance of an empty group waits group.initial.rebalance.delay.ms instead, extended by that
//     delay while new members keep arriving, never beyond the rebalance timeout.
//   - sync (per group): after the join phase, members that send no SyncGroup within the rebalance
//     timeout are removed and the group rebalances.
//
// Persistence. The owner writes the group's GroupMetadata record to __consumer_offsets through
// `listener.onGroupChanged(snapshot)`: when the leader's assignment arrives (the SyncGroup answers
// wait for the write), when a static member is replaced without a rebalance (the JoinGroup answer
// waits), and when a generation ends with no member (nobody waits). A write that fails fails the
// waiting answers with the code Kafka maps append errors to, and the group rebalances again.
//
// Bounds (each refusal is a Kafka error code, never an exception):
//   - groups: `maxGroups`; a JoinGroup or offset commit that would create one more group is
//     answered COORDINATOR_NOT_AVAILABLE, which clients retry after a back-off;
//   - members per group: group.max.size, answered GROUP_MAX_SIZE_REACHED as Kafka does;
//   - members in all classic groups, pending member ids included: `membersMax`; a JoinGroup that
//     would add one more is answered COORDINATOR_NOT_AVAILABLE (retried). With each member's
//     metadata bounded by the request size, this bounds the memory groups hold.
//   Loading (`restore`) never refuses: the log is the truth, so a log written under higher limits
//   loads whole, and new groups or members are refused until the counts are back under the limits.
//
// Where Strata differs from Kafka on purpose (each is a corner where Kafka leaves a request
// unanswered or fails it with an internal error):
//   - a parked JoinGroup or SyncGroup replaced by a newer one from the same member is answered
//     REBALANCE_IN_PROGRESS instead of being left without an answer;
//   - a member removed while it has a parked request gets UNKNOWN_MEMBER_ID for it;
//   - a static member whose JoinGroup names a pending (MEMBER_ID_REQUIRED) member id gets
//     UNKNOWN_MEMBER_ID, where Kafka fails the request with an internal error;
//   - a replaced static member inherits its predecessor's place in the list of members whose
//     SyncGroup is awaited, so its own SyncGroup counts (Kafka keeps waiting for the old id and
//     rebalances when that times out).
//   - ties in the protocol vote go to the protocol voted first in join order, not hash order.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type * as G from '../../protocol/generated/index.js';
import type { GroupMetadataValue } from '../records/types.js';
import type { CoordinatorSettings, Scheduler, TimerHandle } from '../types.js';
import { ClassicErrorCode, appendErrorToResponseError, errorCodeOf } from './errors.js';
import {
  CLASSIC_GROUP_STATES,
  ClassicGroup,
  type ClassicGroupState,
  ClassicMember,
  EMPTY_ASSIGNMENT,
  type JoinCallback,
  type MemberProtocol,
  distinctProtocols,
} from './group.js';
import { fitDescribed, fitJoin, fitLeave, fitListed, fitSync, joinError, syncError } from './responses.js';
import { CONSUMER_PROTOCOL_TYPE } from './subscription.js';

/** Kafka's timeout for the JoinGroup of a member new to the group (it cannot heartbeat yet). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;
/** Default for `membersMax`: members and pending member ids in all classic groups together. */
export const CLASSIC_MEMBERS_MAX_DEFAULT = 100_000;
/** The group type ListGroups (v5+) and DescribeGroups report for these groups. */
export const CLASSIC_GROUP_TYPE = 'classic';
/** OffsetCommit from this version on answers GROUP_ID_NOT_FOUND for an unknown group (KIP-848). */
const OFFSET_COMMIT_GROUP_ID_NOT_FOUND_VERSION = 9;

/** The GroupMetadata record value of one group, as the owner writes it to __consumer_offsets. */
export interface ClassicGroupSnapshot {
  groupId: string;
  metadata: GroupMetadataValue;
}

export interface ClassicGroupsListener {
  /**
   * Persist this group metadata. Called in the order the changes happen; the owner must append in
   * call order. A returned promise is awaited before the answers that depend on the write go out;
   * a rejection fails them: give the error an `errorCode` number (the Kafka code the append
   * failed with) to have it mapped as Kafka maps append errors, else COORDINATOR_NOT_AVAILABLE.
   */
  onGroupChanged?(snapshot: ClassicGroupSnapshot): void | Promise<void>;
  /** A group was deleted by `deleteGroups`: persist its tombstone (and its offsets' tombstones). */
  onGroupDeleted?(groupId: string): void | Promise<void>;
  /** A rebalance completed: the group reached Stable in a new generation (Kafka's completed-rebalance count). */
  onRebalanceCompleted?(groupId: string, generationId: number): void;
}

export interface ClassicGroupsOptions {
  scheduler: Scheduler;
  settings: Pick<
    CoordinatorSettings,
    'initialRebalanceDelayMs' | 'minSessionTimeoutMs' | 'maxSessionTimeoutMs' | 'maxGroupSize' | 'maxGroups'
  >;
  /** Members and pending member ids in all classic groups together. */
  membersMax?: number;
  newMemberJoinTimeoutMs?: number;
  /** Source of the UUID in generated member ids (injected by tests). */
  randomUuid?: () => string;
  listener?: ClassicGroupsListener;
}

/** Who sent a JoinGroup: the request header's client id, and the peer address (Kafka shows "/1.2.3.4"). */
export interface ClientInfo {
  clientId: string;
  clientHost: string;
}

/** What the offsets part needs to know about a classic group to expire its offsets. */
export interface ClassicGroupFacts {
  /** Null when the group has none (standalone consumers that only commit offsets). */
  protocolType: string | null;
  state: ClassicGroupState;
  currentStateTimestampMs: number | null;
  subscribedTopics: ReadonlySet<string> | null;
}

/** The fields of a JoinGroup a member is created or updated from. */
interface JoinArgs {
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: MemberProtocol[];
  protocolNames: ReadonlySet<string>;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  version: number;
  client: ClientInfo;
}

type Answer = (errorCode: number) => void;

export class ClassicGroups {
  private readonly scheduler: Scheduler;
  private readonly settings: ClassicGroupsOptions['settings'];
  private readonly membersMax: number;
  private readonly newMemberJoinTimeoutMs: number;
  private readonly randomUuid: () => string;
  private readonly listener: ClassicGroupsListener;
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly stateCounts = new Map<ClassicGroupState, number>(CLASSIC_GROUP_STATES.map((s) => [s, 0]));
  private readonly tally = { members: 0 };

  constructor(options: ClassicGroupsOptions) {
    this.scheduler = options.scheduler;
    this.settings = options.settings;
    this.membersMax = options.membersMax ?? CLASSIC_MEMBERS_MAX_DEFAULT;
    this.newMemberJoinTimeoutMs = options.newMemberJoinTimeoutMs ?? NEW_MEMBER_JOIN_TIMEOUT_MS;
    this.randomUuid = options.randomUuid ?? randomUUID;
    this.listener = options.listener ?? {};
    const s = this.settings;
    assert.ok(s.minSessionTimeoutMs >= 0 && s.minSessionTimeoutMs <= s.maxSessionTimeoutMs, 'group.min.session.timeout.ms <= group.max.session.timeout.ms');
    assert.ok(s.initialRebalanceDelayMs >= 0, 'group.initial.rebalance.delay.ms >= 0');
    assert.ok(s.maxGroupSize >= 1 && s.maxGroups >= 1 && this.membersMax >= 1, 'group limits are positive');
  }

  // ---------------------------------------------------------------------------------------------
  // JoinGroup

  /** JoinGroup v0-9. Resolves when the join phase completes, or at once for an error. */
  joinGroup(req: G.JoinGroupRequest, version: number, client: ClientInfo): Promise<G.JoinGroupResponse> {
    return new Promise((resolve) => {
      this.join(req, version, client, (r) => resolve(fitJoin(r, version)));
    });
  }

  private join(req: G.JoinGroupRequest, version: number, client: ClientInfo, deliver: JoinCallback): void {
    if (req.groupId === '') return deliver(joinError(ClassicErrorCode.INVALID_GROUP_ID, req.memberId));
    if (req.sessionTimeoutMs < this.settings.minSessionTimeoutMs || req.sessionTimeoutMs > this.settings.maxSessionTimeoutMs) {
      return deliver(joinError(ClassicErrorCode.INVALID_SESSION_TIMEOUT, req.memberId));
    }
    // The member's metadata is copied: the request's bytes are views into a frame buffer that must
    // not be pinned for as long as the member lives.
    const protocols = distinctProtocols(req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })));
    const args: JoinArgs = {
      memberId: req.memberId,
      groupInstanceId: version >= 5 ? req.groupInstanceId : null,
      protocolType: req.protocolType,
      protocols,
      protocolNames: new Set(protocols.map((p) => p.name)),
      sessionTimeoutMs: req.sessionTimeoutMs,
      // v0 has no rebalance timeout: the session timeout serves as both, as in Kafka.
      rebalanceTimeoutMs: version === 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
      version,
      client,
    };
    const isUnknownMember = req.memberId === '';
    let group = this.groups.get(req.groupId);
    if (group === undefined) {
      // Only a member without an id creates a group; a member id for a group that does not exist
      // belongs to a group that was deleted or expired.
      if (!isUnknownMember) return deliver(joinError(ClassicErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      if (this.groups.size >= this.settings.maxGroups) return deliver(joinError(ClassicErrorCode.COORDINATOR_NOT_AVAILABLE, ''));
      group = this.createGroup(req.groupId);
    }
    if (!this.acceptJoiningMember(group, req.memberId)) {
      // A member refused in a rebalance is dropped from the group, as Kafka drops it.
      this.removeMember(group, req.memberId);
      return deliver(joinError(ClassicErrorCode.GROUP_MAX_SIZE_REACHED, ''));
    }
    if (isUnknownMember) this.joinNewMember(group, args, deliver);
    else this.joinExistingMember(group, args, deliver);
  }

  /** group.max.size: in a rebalance, counted as members that have rejoined, so late rejoiners are the ones refused. */
  private acceptJoiningMember(group: ClassicGroup, memberId: string): boolean {
    const max = this.settings.maxGroupSize;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (group.members.get(memberId)?.awaitingJoin ?? null) !== null || group.numAwaitingJoin() < max;
      case 'CompletingRebalance':
      case 'Stable':
        return group.members.has(memberId) || group.members.size < max;
    }
  }

  private joinNewMember(group: ClassicGroup, a: JoinArgs, deliver: JoinCallback): void {
    if (group.is('Dead')) return deliver(joinError(ClassicErrorCode.COORDINATOR_NOT_AVAILABLE, ''));
    if (!group.supportsProtocols(a.protocolType, a.protocolNames)) return deliver(joinError(ClassicErrorCode.INCONSISTENT_GROUP_PROTOCOL, ''));
    const existingStaticId = a.groupInstanceId === null ? undefined : group.staticMembers.get(a.groupInstanceId);
    if (existingStaticId === undefined && this.tally.members >= this.membersMax) {
      return deliver(joinError(ClassicErrorCode.COORDINATOR_NOT_AVAILABLE, ''));
    }
    const newMemberId = `${a.groupInstanceId ?? a.client.clientId}-${this.randomUuid()}`;
    if (a.groupInstanceId !== null) {
      if (existingStaticId !== undefined) this.replaceStaticMember(group, a, existingStaticId, newMemberId, deliver);
      else this.addMemberAndRebalance(group, a, newMemberId, deliver);
    } else if (a.version >= 4) {
      // KIP-394: the member must come back with this id, so a client that retries a timed-out
      // JoinGroup does not leave a trail of members behind.
      const gid = group;
      const timer = this.scheduler.after(a.sessionTimeoutMs, () => this.expirePendingMember(gid, newMemberId));
      group.addPendingMember(newMemberId, timer);
      this.tally.members++;
      deliver(joinError(ClassicErrorCode.MEMBER_ID_REQUIRED, newMemberId));
    } else {
      this.addMemberAndRebalance(group, a, newMemberId, deliver);
    }
  }

  private joinExistingMember(group: ClassicGroup, a: JoinArgs, deliver: JoinCallback): void {
    if (group.is('Dead')) return deliver(joinError(ClassicErrorCode.COORDINATOR_NOT_AVAILABLE, a.memberId));
    if (!group.supportsProtocols(a.protocolType, a.protocolNames)) {
      return deliver(joinError(ClassicErrorCode.INCONSISTENT_GROUP_PROTOCOL, a.memberId));
    }
    if (group.isPendingMember(a.memberId)) {
      // Pending ids are only handed to dynamic members; a static member naming one is confused.
      if (a.groupInstanceId !== null) return deliver(joinError(ClassicErrorCode.UNKNOWN_MEMBER_ID, a.memberId));
      return this.addMemberAndRebalance(group, a, a.memberId, deliver);
    }
    const error = group.validateMember(a.memberId, a.groupInstanceId);
    if (error !== ClassicErrorCode.NONE) return deliver(joinError(error, a.memberId));
    const member = group.members.get(a.memberId);
    assert.ok(member !== undefined);
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, a, deliver);
      case 'CompletingRebalance':
        // Same metadata: the member probably lost the JoinGroup answer; send it again.
        if (member.matches(a.protocols)) {
          return deliver(group.joinResponse(a.memberId, group.isLeader(a.memberId) ? group.joinResponseMembers() : []));
        }
        return this.updateMemberAndRebalance(group, member, a, deliver);
      case 'Stable':
        // The leader rejoining asks for a rebalance (its view of the topics may have changed);
        // a follower with unchanged metadata just gets the current generation back.
        if (group.isLeader(a.memberId) || !member.matches(a.protocols)) return this.updateMemberAndRebalance(group, member, a, deliver);
        return deliver(group.joinResponse(a.memberId, []));
      case 'Empty':
      case 'Dead':
        return deliver(joinError(ClassicErrorCode.UNKNOWN_MEMBER_ID, a.memberId));
    }
  }

  private addMemberAndRebalance(group: ClassicGroup, a: JoinArgs, memberId: string, deliver: JoinCallback): void {
    const member = new ClassicMember(
      memberId,
      a.groupInstanceId,
      a.client.clientId,
      a.client.clientHost,
      a.rebalanceTimeoutMs,
      a.sessionTimeoutMs,
      a.protocolType,
      a.protocols,
    );
    member.isNew = true;
    if (group.is('PreparingRebalance') && group.previousState === 'Empty') group.newMemberAdded = true;
    const wasPending = group.isPendingMember(memberId);
    group.add(member, deliver);
    if (!wasPending) this.tally.members++;
    // A new member cannot heartbeat before its JoinGroup is answered, and a client whose parked
    // request timed out may simply retry: bound the wait so abandoned joins do not pile up.
    this.rescheduleHeartbeat(group, member, this.newMemberJoinTimeoutMs);
    this.maybePrepareRebalanceOrCompleteJoin(group);
  }

  private updateMemberAndRebalance(group: ClassicGroup, member: ClassicMember, a: JoinArgs, deliver: JoinCallback): void {
    group.updateMember(member, a.protocols, a.rebalanceTimeoutMs, a.sessionTimeoutMs, deliver);
    this.maybePrepareRebalanceOrCompleteJoin(group);
  }

  /** A static member rejoined without its member id: it takes over from its previous incarnation. */
  private replaceStaticMember(group: ClassicGroup, a: JoinArgs, oldMemberId: string, newMemberId: string, deliver: JoinCallback): void {
    const instanceId = a.groupInstanceId;
    assert.ok(instanceId !== null);
    const leaderBefore = group.leaderId;
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
    const before = { protocols: member.protocols, rebalanceTimeoutMs: member.rebalanceTimeoutMs, sessionTimeoutMs: member.sessionTimeoutMs };
    group.updateMember(member, a.protocols, a.rebalanceTimeoutMs, a.sessionTimeoutMs, deliver);

    if (group.is('Stable')) {
      // If the protocol the group would select is unchanged, the assignment stays valid: persist
      // the new member id and answer without a rebalance (KIP-345).
      if (group.protocolName !== group.selectProtocol()) return this.maybePrepareRebalanceOrCompleteJoin(group);
      const assignment = new Map([...group.members.values()].map((m) => [m.memberId, m.assignment] as const));
      this.persist(this.snapshot(group, assignment), (errorCode) => {
        const current = this.isCurrent(group) && group.is('Stable') && group.staticMembers.get(instanceId) === newMemberId && group.members.get(newMemberId) === member;
        if (errorCode !== ClassicErrorCode.NONE) {
          if (current && member.awaitingJoin === deliver) {
            // The log still names the old member id: go back to it, as Kafka does.
            group.updateMember(member, before.protocols, before.rebalanceTimeoutMs, before.sessionTimeoutMs, null);
            const restored = group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
            this.rescheduleHeartbeat(group, restored, restored.sessionTimeoutMs);
            deliver({ ...group.joinResponse('', [], leaderBefore), errorCode });
          } else if (member.awaitingJoin === deliver) {
            group.completeJoin(member, joinError(errorCode, newMemberId));
          }
          return;
        }
        // Answered only while the group is still Stable; if a rebalance began meanwhile the member
        // counts as joined and is answered when the join phase completes.
        if (!current || member.awaitingJoin !== deliver) return;
        if (a.version >= 9) {
          // KIP-814: the leader learns the members but keeps the current assignment.
          const isLeader = group.isLeader(newMemberId);
          group.completeJoin(member, { ...group.joinResponse(newMemberId, isLeader ? group.joinResponseMembers() : []), skipAssignment: isLeader });
        } else {
          // Older clients would run the assignor if named leader; name the previous leader instead,
          // so the member acts as a follower and fetches its assignment with SyncGroup.
          group.completeJoin(member, group.joinResponse(newMemberId, [], leaderBefore));
        }
      });
      return;
    }
    if (group.is('CompletingRebalance')) {
      // The leader may have been handed the old member id already; its assignment would miss the
      // new one, so start over.
      return this.prepareRebalance(group);
    }
    this.maybeCompleteJoinPhase(group);
  }

  // ---------------------------------------------------------------------------------------------
  // Rebalance steps

  private maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup): void {
    if (group.canRebalance()) this.prepareRebalance(group);
    else this.maybeCompleteJoinPhase(group);
  }

  /** Completes the join phase when every member has rejoined, except during the initial delay. */
  private maybeCompleteJoinPhase(group: ClassicGroup): void {
    if (!group.is('PreparingRebalance')) return;
    if (group.previousState === 'Empty') return;
    if (!group.hasAllMembersJoined()) return;
    this.completeJoinPhase(group);
  }

  private prepareRebalance(group: ClassicGroup): void {
    // Members waiting for an assignment must rejoin instead.
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignment(group, ClassicErrorCode.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    const isInitialRebalance = group.is('Empty');
    if (isInitialRebalance) {
      const delayMs = this.settings.initialRebalanceDelayMs;
      const remainingMs = Math.max(group.rebalanceTimeoutMs() - delayMs, 0);
      this.setJoinTimer(group, delayMs, () => this.tryCompleteInitialRebalance(group, delayMs, remainingMs));
    }
    group.transitionTo('PreparingRebalance', this.scheduler.nowMs());
    if (!isInitialRebalance) {
      if (group.hasAllMembersJoined()) this.completeJoinPhase(group);
      else this.setJoinTimer(group, group.rebalanceTimeoutMs(), () => this.completeJoinPhase(group));
    }
  }

  /** group.initial.rebalance.delay.ms: wait again while members keep joining, within the rebalance timeout. */
  private tryCompleteInitialRebalance(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const nextDelayMs = Math.min(this.settings.initialRebalanceDelayMs, remainingMs);
      const nextRemainingMs = Math.max(remainingMs - delayMs, 0);
      this.setJoinTimer(group, nextDelayMs, () => this.tryCompleteInitialRebalance(group, nextDelayMs, nextRemainingMs));
    } else {
      this.completeJoinPhase(group);
    }
  }

  /**
   * Ends the join phase: dynamic members that did not rejoin are removed, and the group moves to
   * the next generation: CompletingRebalance (every joined member gets its answer, the leader with
   * the members' metadata) or, with nobody left, Empty.
   */
  private completeJoinPhase(group: ClassicGroup): void {
    assert.ok(group.is('PreparingRebalance'), `group ${group.groupId} completes a join phase in state ${group.state}`);
    this.cancelJoinTimer(group);
    for (const m of group.notYetRejoinedMembers()) {
      if (m.groupInstanceId === null) this.removeMember(group, m.memberId);
    }
    if (!group.maybeElectNewJoinedLeader() && group.members.size > 0) {
      // Only static members that have not rejoined are left: wait another rebalance timeout,
      // until they rejoin or their sessions expire.
      this.setJoinTimer(group, group.rebalanceTimeoutMs(), () => this.completeJoinPhase(group));
      return;
    }
    group.initNextGeneration(this.scheduler.nowMs());
    if (group.is('Empty')) {
      this.persist(this.snapshot(group, new Map()), () => {
        // Nobody waits: if the write fails, the previous generation stays in the log and its
        // members, long gone, expire after a load.
      });
      return;
    }
    const members = group.joinResponseMembers();
    for (const m of group.members.values()) {
      group.completeJoin(m, group.joinResponse(m.memberId, group.isLeader(m.memberId) ? members : []));
      this.rescheduleHeartbeat(group, m, m.sessionTimeoutMs);
      m.isNew = false;
      group.pendingSyncMembers.add(m.memberId);
    }
    const generationId = group.generationId;
    this.cancelSyncTimer(group);
    group.syncTimer = this.after(group, group.rebalanceTimeoutMs(), () => this.expirePendingSync(group, generationId));
  }

  /** Members that sent no SyncGroup within the rebalance timeout are removed, and the group rebalances. */
  private expirePendingSync(group: ClassicGroup, generationId: number): void {
    group.syncTimer = null;
    if (generationId !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.pendingSyncMembers.size === 0) return;
    for (const id of [...group.pendingSyncMembers]) this.removeMember(group, id);
    this.prepareRebalance(group);
  }

  private resetAndPropagateAssignment(group: ClassicGroup, errorCode: number): void {
    assert.ok(group.is('CompletingRebalance'));
    for (const m of group.members.values()) m.assignment = EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, errorCode);
  }

  private setAndPropagateAssignment(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): void {
    assert.ok(group.is('CompletingRebalance'));
    for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, ClassicErrorCode.NONE);
  }

  /** Answers every parked SyncGroup; their sessions restart from here. */
  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ClassicErrorCode.NONE;
    for (const m of group.members.values()) {
      const answered = group.completeSync(m, {
        throttleTimeMs: 0,
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: m.assignment,
      });
      if (answered) this.rescheduleHeartbeat(group, m, m.sessionTimeoutMs);
    }
  }

  private removeSyncExpiration(group: ClassicGroup): void {
    group.pendingSyncMembers.clear();
    this.cancelSyncTimer(group);
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    if (group.pendingSyncMembers.size === 0 || !(group.is('CompletingRebalance') || group.is('Stable'))) this.cancelSyncTimer(group);
  }

  // ---------------------------------------------------------------------------------------------
  // Member expiry

  private rescheduleHeartbeat(group: ClassicGroup, member: ClassicMember, timeoutMs: number): void {
    member.heartbeatTimer?.cancel();
    member.heartbeatTimer = this.after(group, timeoutMs, () => {
      member.heartbeatTimer = null;
      this.expireMember(group, member);
    });
  }

  private expireMember(group: ClassicGroup, member: ClassicMember): void {
    if (group.members.get(member.memberId) !== member) return;
    if (member.hasSatisfiedHeartbeat()) return;
    this.removeMember(group, member.memberId);
    if (group.is('Stable') || group.is('CompletingRebalance')) this.maybePrepareRebalanceOrCompleteJoin(group);
    else if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) this.completeJoinPhase(group);
  }

  private expirePendingMember(group: ClassicGroup, memberId: string): void {
    if (!this.isCurrent(group) || !group.isPendingMember(memberId)) return;
    group.pendingJoinMembers.set(memberId, null); // the timer that fired; nothing to cancel
    this.removeMember(group, memberId);
    if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) this.completeJoinPhase(group);
  }

  /** Removes a member or pending member id; a parked JoinGroup of it is answered UNKNOWN_MEMBER_ID. */
  private removeMember(group: ClassicGroup, memberId: string): void {
    const held = group.footprint();
    group.remove(memberId);
    this.tally.members -= held - group.footprint();
    assert.ok(this.tally.members >= 0);
  }

  // ---------------------------------------------------------------------------------------------
  // SyncGroup

  /** SyncGroup v0-5. Resolves when the leader's assignment has been stored, or at once. */
  syncGroup(req: G.SyncGroupRequest, version: number): Promise<G.SyncGroupResponse> {
    return new Promise((resolve) => {
      this.sync(req, version, (r) => resolve(fitSync(r, version)));
    });
  }

  private sync(req: G.SyncGroupRequest, version: number, deliver: (r: G.SyncGroupResponse) => void): void {
    // v5 made the protocol type and name mandatory (KIP-559).
    if (version >= 5 && (req.protocolType === null || req.protocolName === null)) {
      return deliver(syncError(ClassicErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (req.groupId === '') return deliver(syncError(ClassicErrorCode.INVALID_GROUP_ID));
    const group = this.groups.get(req.groupId);
    if (group === undefined || group.is('Empty')) return deliver(syncError(ClassicErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is('Dead')) return deliver(syncError(ClassicErrorCode.COORDINATOR_NOT_AVAILABLE));
    const instanceId = version >= 3 ? req.groupInstanceId : null;
    const error = group.validateMember(req.memberId, instanceId);
    if (error !== ClassicErrorCode.NONE) return deliver(syncError(error));
    if (req.generationId !== group.generationId) return deliver(syncError(ClassicErrorCode.ILLEGAL_GENERATION));
    if (inconsistent(req.protocolType, group.protocolType) || inconsistent(req.protocolName, group.protocolName)) {
      return deliver(syncError(ClassicErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const member = group.members.get(req.memberId);
    assert.ok(member !== undefined);
    switch (group.state) {
      case 'PreparingRebalance':
        return deliver(syncError(ClassicErrorCode.REBALANCE_IN_PROGRESS));
      case 'Stable':
        this.removePendingSyncMember(group, req.memberId);
        return deliver({ throttleTimeMs: 0, errorCode: ClassicErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
      case 'CompletingRebalance':
        group.parkSync(member, deliver);
        this.removePendingSyncMember(group, req.memberId);
        if (group.isLeader(req.memberId)) this.storeAssignment(group, req);
        return;
      case 'Empty':
      case 'Dead':
        assert.fail(`unreachable: SyncGroup in state ${group.state}`);
    }
  }

  /** The leader's SyncGroup: persist the generation with its assignment, then answer every member. */
  private storeAssignment(group: ClassicGroup, req: G.SyncGroupRequest): void {
    const assignment = new Map<string, Buffer>();
    for (const a of req.assignments) assignment.set(a.memberId, Buffer.from(a.assignment));
    for (const id of group.members.keys()) if (!assignment.has(id)) assignment.set(id, EMPTY_ASSIGNMENT);
    const generationId = group.generationId;
    this.persist(this.snapshot(group, assignment), (errorCode) => {
      // A member may have joined (or left) while the write was under way: only the generation
      // the assignment was made for may use it.
      if (!this.isCurrent(group) || !group.is('CompletingRebalance') || group.generationId !== generationId) return;
      if (errorCode !== ClassicErrorCode.NONE) {
        this.resetAndPropagateAssignment(group, errorCode);
        this.maybePrepareRebalanceOrCompleteJoin(group);
        return;
      }
      this.setAndPropagateAssignment(group, assignment);
      group.transitionTo('Stable', this.scheduler.nowMs());
      this.listener.onRebalanceCompleted?.(group.groupId, group.generationId);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Heartbeat, LeaveGroup

  /** Heartbeat v0-4. */
  heartbeat(req: G.HeartbeatRequest, version: number): G.HeartbeatResponse {
    const answer = (errorCode: number): G.HeartbeatResponse => ({ throttleTimeMs: 0, errorCode });
    if (req.groupId === '') return answer(ClassicErrorCode.INVALID_GROUP_ID);
    const group = this.groups.get(req.groupId);
    if (group === undefined) return answer(ClassicErrorCode.UNKNOWN_MEMBER_ID);
    if (group.is('Dead')) return answer(ClassicErrorCode.COORDINATOR_NOT_AVAILABLE);
    const error = group.validateMember(req.memberId, version >= 3 ? req.groupInstanceId : null);
    if (error !== ClassicErrorCode.NONE) return answer(error);
    if (req.generationId !== group.generationId) return answer(ClassicErrorCode.ILLEGAL_GENERATION);
    const member = group.members.get(req.memberId);
    assert.ok(member !== undefined);
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return answer(ClassicErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return answer(ClassicErrorCode.REBALANCE_IN_PROGRESS);
      case 'CompletingRebalance':
      case 'Stable':
        // Members may heartbeat between their JoinGroup and SyncGroup answers: a normal heartbeat.
        this.rescheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return answer(ClassicErrorCode.NONE);
    }
  }

  /**
   * LeaveGroup v0-5. v0-2 name one member by id; v3+ (KIP-345) a batch, each by member id or, for
   * an administrative removal, by group instance id alone (empty member id).
   */
  leaveGroup(req: G.LeaveGroupRequest, version: number): G.LeaveGroupResponse {
    if (req.groupId === '') return fitLeave(ClassicErrorCode.INVALID_GROUP_ID, [], version);
    const identities: { memberId: string; groupInstanceId: string | null }[] =
      version >= 3 ? req.members : [{ memberId: req.memberId, groupInstanceId: null }];
    const group = this.groups.get(req.groupId);
    const result = (m: { memberId: string; groupInstanceId: string | null }, errorCode: number): G.LeaveGroupResponseMemberResponse => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      errorCode,
    });
    if (group === undefined) return fitLeave(ClassicErrorCode.NONE, identities.map((m) => result(m, ClassicErrorCode.UNKNOWN_MEMBER_ID)), version);
    if (group.is('Dead')) return fitLeave(ClassicErrorCode.COORDINATOR_NOT_AVAILABLE, [], version);
    const results: G.LeaveGroupResponseMemberResponse[] = [];
    for (const m of identities) {
      if (m.memberId === '') {
        const staticId = m.groupInstanceId === null ? undefined : group.staticMembers.get(m.groupInstanceId);
        if (staticId === undefined) {
          results.push(result(m, ClassicErrorCode.UNKNOWN_MEMBER_ID));
        } else {
          this.removeMember(group, staticId);
          results.push(result(m, ClassicErrorCode.NONE));
        }
      } else if (group.isPendingMember(m.memberId)) {
        this.removeMember(group, m.memberId);
        results.push(result(m, ClassicErrorCode.NONE));
      } else {
        const error = group.validateMember(m.memberId, m.groupInstanceId);
        if (error === ClassicErrorCode.NONE) this.removeMember(group, m.memberId);
        results.push(result(m, error));
      }
    }
    if (results.some((r) => r.errorCode === ClassicErrorCode.NONE)) {
      if (group.is('Stable') || group.is('CompletingRebalance')) this.maybePrepareRebalanceOrCompleteJoin(group);
      else if (group.is('PreparingRebalance')) this.maybeCompleteJoinPhase(group);
    }
    return fitLeave(ClassicErrorCode.NONE, results, version);
  }

  // ---------------------------------------------------------------------------------------------
  // DescribeGroups, ListGroups, DeleteGroups

  /** Whether this part holds `groupId` (the owner asks before routing a group-level request here). */
  has(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  /**
   * DescribeGroups v0-6 for one group. Member metadata and the protocol name are shown in Stable
   * only, as Kafka shows them. An unknown group is Dead; from v6 (KIP-1043) also GROUP_ID_NOT_FOUND.
   */
  describeGroup(groupId: string, version: number): G.DescribeGroupsResponseDescribedGroup {
    const base: G.DescribeGroupsResponseDescribedGroup = {
      errorCode: ClassicErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: 'Dead',
      protocolType: '',
      protocolData: '',
      members: [],
      authorizedOperations: -2147483648,
    };
    const group = this.groups.get(groupId);
    if (group === undefined) {
      if (version < 6) return fitDescribed(base, version);
      return fitDescribed({ ...base, errorCode: ClassicErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.` }, version);
    }
    const stable = group.is('Stable');
    const protocolName = group.protocolName;
    assert.ok(!stable || protocolName !== null, 'a Stable group has a protocol');
    return fitDescribed(
      {
        ...base,
        groupState: group.state,
        protocolType: group.protocolType ?? '',
        protocolData: stable && protocolName !== null ? protocolName : '',
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: stable && protocolName !== null ? m.metadata(protocolName) : EMPTY_ASSIGNMENT,
          memberAssignment: m.assignment,
        })),
      },
      version,
    );
  }

  describeGroups(groupIds: readonly string[], version: number): G.DescribeGroupsResponseDescribedGroup[] {
    return groupIds.map((id) => this.describeGroup(id, version));
  }

  /**
   * ListGroups v0-5 entries for the classic groups: filtered by state (v4+, case-insensitive) and
   * by type (v5+: only "classic" matches these groups).
   */
  listGroups(req: G.ListGroupsRequest, version: number): G.ListGroupsResponseListedGroup[] {
    const states = version >= 4 ? new Set(req.statesFilter.map((s) => s.trim().toLowerCase())) : new Set<string>();
    const types = version >= 5 ? new Set(req.typesFilter.map((t) => t.trim().toLowerCase())) : new Set<string>();
    if (types.size > 0 && !types.has(CLASSIC_GROUP_TYPE)) return [];
    const out: G.ListGroupsResponseListedGroup[] = [];
    for (const g of this.groups.values()) {
      if (states.size > 0 && !states.has(g.state.toLowerCase())) continue;
      out.push(fitListed({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state, groupType: CLASSIC_GROUP_TYPE }, version));
    }
    return out;
  }

  /** NONE when `groupId` may be deleted; GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP otherwise. */
  validateDeleteGroup(groupId: string): number {
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead')) return ClassicErrorCode.GROUP_ID_NOT_FOUND;
    return group.is('Empty') ? ClassicErrorCode.NONE : ClassicErrorCode.NON_EMPTY_GROUP;
  }

  /**
   * Forgets a group (deleted, or expired with its last offsets): it becomes Dead, its timers stop,
   * and any parked request is answered COORDINATOR_NOT_AVAILABLE. Nothing is persisted here.
   */
  removeGroup(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group !== undefined) this.dropGroup(group, ClassicErrorCode.COORDINATOR_NOT_AVAILABLE);
  }

  /**
   * DeleteGroups v0-2 for classic groups: each Empty group is removed and `onGroupDeleted` persists
   * it; NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND when unknown. Repeated ids are
   * answered once, as Kafka does.
   */
  async deleteGroups(groupIds: readonly string[]): Promise<G.DeleteGroupsResponseDeletableGroupResult[]> {
    const results = [...new Set(groupIds)].map(async (groupId) => {
      const errorCode = this.validateDeleteGroup(groupId);
      if (errorCode !== ClassicErrorCode.NONE) return { groupId, errorCode };
      this.removeGroup(groupId);
      try {
        await this.listener.onGroupDeleted?.(groupId);
      } catch (err) {
        return { groupId, errorCode: appendErrorToResponseError(errorCodeOf(err)) };
      }
      return { groupId, errorCode: ClassicErrorCode.NONE };
    });
    return Promise.all(results);
  }

  // ---------------------------------------------------------------------------------------------
  // Hooks for the offsets part

  /** Absent, or Empty: simple (generation -1) commits and DeleteGroups are allowed. */
  isEmptyOrAbsent(groupId: string): boolean {
    const group = this.groups.get(groupId);
    return group === undefined || group.is('Empty');
  }

  /**
   * Whether an OffsetCommit (non-transactional) may commit for this group, as Kafka decides it:
   * NONE, or the error code for the whole request. A commit with a negative generation to a group
   * that does not exist creates a "simple" group (Empty, no protocol type), as Kafka does; for
   * other unknown groups v9+ answer GROUP_ID_NOT_FOUND, older versions ILLEGAL_GENERATION.
   * Commits are refused with REBALANCE_IN_PROGRESS between the JoinGroup and SyncGroup answers.
   */
  validateOffsetCommit(groupId: string, memberId: string, generationId: number, groupInstanceId: string | null, version = Number.MAX_SAFE_INTEGER): number {
    const group = this.groups.get(groupId);
    if (group === undefined) {
      if (generationId < 0) return this.getOrCreateSimpleGroup(groupId) ? ClassicErrorCode.NONE : ClassicErrorCode.COORDINATOR_NOT_AVAILABLE;
      return version >= OFFSET_COMMIT_GROUP_ID_NOT_FOUND_VERSION ? ClassicErrorCode.GROUP_ID_NOT_FOUND : ClassicErrorCode.ILLEGAL_GENERATION;
    }
    if (group.is('Dead')) return ClassicErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Generation -1 comes from admin clients and consumers that assign partitions themselves.
    if (generationId < 0 && group.is('Empty')) return ClassicErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const error = group.validateMember(memberId, groupInstanceId);
      if (error !== ClassicErrorCode.NONE) return error;
      if (generationId !== group.generationId) return ClassicErrorCode.ILLEGAL_GENERATION;
    } else if (!group.is('Empty')) {
      // No member id and no generation (OffsetCommit v0-1 style): only while nobody is a member.
      return ClassicErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (group.is('CompletingRebalance')) return ClassicErrorCode.REBALANCE_IN_PROGRESS;
    return ClassicErrorCode.NONE;
  }

  /**
   * Ensures a group exists, creating an Empty group without protocol type when it does not (for
   * simple commits, and when loading offsets of a group that has no metadata record). False when
   * creating one would exceed `maxGroups`; `loading` ignores that limit.
   */
  getOrCreateSimpleGroup(groupId: string, loading = false): boolean {
    if (this.groups.has(groupId)) return true;
    if (!loading && this.groups.size >= this.settings.maxGroups) return false;
    this.createGroup(groupId);
    return true;
  }

  /** OffsetDelete: NONE, GROUP_ID_NOT_FOUND, or NON_EMPTY_GROUP for a non-empty group not of protocol type "consumer". */
  validateOffsetDelete(groupId: string): number {
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead')) return ClassicErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty') && group.protocolType !== CONSUMER_PROTOCOL_TYPE) return ClassicErrorCode.NON_EMPTY_GROUP;
    return ClassicErrorCode.NONE;
  }

  /**
   * Whether a member subscribes to `topic` (OffsetDelete answers GROUP_SUBSCRIBED_TO_TOPIC). When
   * the subscriptions cannot be read, every topic of a "consumer" group counts as subscribed.
   */
  isSubscribedToTopic(groupId: string, topic: string): boolean {
    const group = this.groups.get(groupId);
    if (group === undefined) return false;
    if (group.subscribedTopics !== null) return group.subscribedTopics.has(topic);
    return group.protocolType === CONSUMER_PROTOCOL_TYPE;
  }

  /** What offset expiry needs to know about a group, or undefined when it does not exist. */
  groupFacts(groupId: string): ClassicGroupFacts | undefined {
    const g = this.groups.get(groupId);
    if (g === undefined) return undefined;
    return { protocolType: g.protocolType, state: g.state, currentStateTimestampMs: g.currentStateTimestampMs, subscribedTopics: g.subscribedTopics };
  }

  groupIds(): IterableIterator<string> {
    return this.groups.keys();
  }

  // ---------------------------------------------------------------------------------------------
  // Loading, unloading, metrics

  /**
   * Loads a group from its GroupMetadata record (replaces any group of that id loaded before).
   * Members start fresh session timers, as Kafka does on load; a group loaded with more members
   * than group.max.size rebalances at once, so that the extra members are dropped.
   */
  restore(snapshot: ClassicGroupSnapshot): void {
    const { groupId, metadata: v } = snapshot;
    const existing = this.groups.get(groupId);
    if (existing !== undefined) this.dropGroup(existing, ClassicErrorCode.NOT_COORDINATOR);
    const ts = Number(v.currentStateTimestampMs);
    const protocolType = v.protocolType === '' ? null : v.protocolType;
    const memberIds = new Set(v.members.map((m) => m.memberId));
    const group = new ClassicGroup(groupId, v.members.length === 0 ? 'Empty' : 'Stable', ts < 0 ? null : ts, this.onTransition, {
      generationId: v.generation,
      protocolType,
      protocolName: v.protocol,
      leaderId: v.leader !== null && memberIds.has(v.leader) ? v.leader : null,
    });
    this.groups.set(groupId, group);
    for (const m of v.members) {
      if (group.members.has(m.memberId)) continue; // a duplicate in the record: keep the first
      const member = new ClassicMember(
        m.memberId,
        m.groupInstanceId !== null && !group.staticMembers.has(m.groupInstanceId) ? m.groupInstanceId : null,
        m.clientId,
        m.clientHost,
        m.rebalanceTimeoutMs === -1 ? m.sessionTimeoutMs : m.rebalanceTimeoutMs,
        m.sessionTimeoutMs,
        v.protocolType,
        [{ name: v.protocol ?? '', metadata: Buffer.from(m.subscription) }],
        Buffer.from(m.assignment),
      );
      group.add(member, null);
      this.tally.members++;
    }
    group.subscribedTopics = group.computeSubscribedTopics();
    for (const m of group.members.values()) this.rescheduleHeartbeat(group, m, m.sessionTimeoutMs);
    if (group.members.size > this.settings.maxGroupSize) this.prepareRebalance(group);
  }

  /** A GroupMetadata tombstone met while loading: the group is gone. */
  restoreTombstone(groupId: string): void {
    this.removeGroup(groupId);
  }

  /**
   * Unloads everything (the coordinator stops or moves): groups become Dead, timers stop, and
   * parked requests are answered NOT_COORDINATOR so clients look for the new coordinator.
   */
  close(): void {
    for (const g of [...this.groups.values()]) this.dropGroup(g, ClassicErrorCode.NOT_COORDINATOR);
  }

  /** Groups by state (Dead is always 0: dead groups are forgotten at once). */
  countByState(): Record<ClassicGroupState, number> {
    const out = {} as Record<ClassicGroupState, number>;
    for (const s of CLASSIC_GROUP_STATES) out[s] = this.stateCounts.get(s) ?? 0;
    return out;
  }

  groupCount(): number {
    return this.groups.size;
  }

  /** Members and pending member ids in all classic groups. */
  memberCount(): number {
    return this.tally.members;
  }

  /** Current state of a group, for tests and diagnostics. */
  stateOf(groupId: string): ClassicGroupState | undefined {
    return this.groups.get(groupId)?.state;
  }

  /** Current generation of a group, for tests and diagnostics. */
  generationOf(groupId: string): number | undefined {
    return this.groups.get(groupId)?.generationId;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private readonly onTransition = (from: ClassicGroupState | null, to: ClassicGroupState): void => {
    if (from !== null) this.stateCounts.set(from, (this.stateCounts.get(from) ?? 0) - 1);
    this.stateCounts.set(to, (this.stateCounts.get(to) ?? 0) + 1);
  };

  private createGroup(groupId: string): ClassicGroup {
    const group = new ClassicGroup(groupId, 'Empty', this.scheduler.nowMs(), this.onTransition);
    this.groups.set(groupId, group);
    return group;
  }

  private dropGroup(group: ClassicGroup, errorCode: number): void {
    assert.equal(this.groups.get(group.groupId), group);
    group.transitionTo('Dead', this.scheduler.nowMs());
    this.cancelJoinTimer(group);
    this.cancelSyncTimer(group);
    for (const m of group.members.values()) {
      group.completeJoin(m, joinError(errorCode, m.memberId));
      group.completeSync(m, syncError(errorCode));
      m.heartbeatTimer?.cancel();
      m.heartbeatTimer = null;
    }
    for (const timer of group.pendingJoinMembers.values()) timer?.cancel();
    this.tally.members -= group.footprint();
    assert.ok(this.tally.members >= 0);
    this.groups.delete(group.groupId);
    this.stateCounts.set('Dead', (this.stateCounts.get('Dead') ?? 0) - 1);
  }

  private isCurrent(group: ClassicGroup): boolean {
    return this.groups.get(group.groupId) === group;
  }

  /** A timer whose callback runs only while `group` is still the live group of its id. */
  private after(group: ClassicGroup, delayMs: number, fn: () => void): TimerHandle {
    return this.scheduler.after(Math.max(0, delayMs), () => {
      if (this.isCurrent(group)) fn();
    });
  }

  private setJoinTimer(group: ClassicGroup, delayMs: number, fn: () => void): void {
    this.cancelJoinTimer(group);
    group.joinTimer = this.after(group, delayMs, () => {
      group.joinTimer = null;
      fn();
    });
  }

  private cancelJoinTimer(group: ClassicGroup): void {
    group.joinTimer?.cancel();
    group.joinTimer = null;
  }

  private cancelSyncTimer(group: ClassicGroup): void {
    group.syncTimer?.cancel();
    group.syncTimer = null;
  }

  private snapshot(group: ClassicGroup, assignment: ReadonlyMap<string, Buffer>): ClassicGroupSnapshot {
    const protocolName = group.protocolName;
    return {
      groupId: group.groupId,
      metadata: {
        protocolType: group.protocolType ?? '',
        generation: group.generationId,
        protocol: protocolName,
        leader: group.leaderId,
        currentStateTimestampMs: BigInt(group.currentStateTimestampMs ?? -1),
        members: [...group.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          sessionTimeoutMs: m.sessionTimeoutMs,
          subscription: protocolName === null ? EMPTY_ASSIGNMENT : m.metadata(protocolName),
          assignment: assignment.get(m.memberId) ?? EMPTY_ASSIGNMENT,
        })),
      },
    };
  }

  /** Hands a snapshot to the owner; `done` runs with NONE or the mapped error once it is written. */
  private persist(snapshot: ClassicGroupSnapshot, done: Answer): void {
    const write = this.listener.onGroupChanged;
    if (write === undefined) return done(ClassicErrorCode.NONE);
    let result: void | Promise<void>;
    try {
      result = write.call(this.listener, snapshot);
    } catch (err) {
      return done(appendErrorToResponseError(errorCodeOf(err)));
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(
        () => done(ClassicErrorCode.NONE),
        (err: unknown) => done(appendErrorToResponseError(errorCodeOf(err))),
      );
    } else {
      done(ClassicErrorCode.NONE);
    }
  }
}

/** A request's protocol type or name conflicts with the group's (either side null means no check). */
function inconsistent(fromRequest: string | null, fromGroup: string | null): boolean {
  return fromRequest !== null && fromGroup !== null && fromRequest !== fromGroup;
}
