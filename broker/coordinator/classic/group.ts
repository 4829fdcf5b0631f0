// One classic group's state: its members, the protocols they support, who awaits a JoinGroup or a
// SyncGroup answer, and the state machine. Pure bookkeeping with its invariants; the protocol
// (what a request does, timers, persistence) is in classic-groups.ts.
//
// States and transitions, as Kafka's classic groups have them:
//
//   Empty ──join──▶ PreparingRebalance ──all joined / rebalance timeout──▶ CompletingRebalance
//     ▲                 ▲        │ (no member left)                              │ leader's SyncGroup
//     └─────────────────┼────────┘                                               ▼
//                       └──────────── member joins, leaves, changes, expires ── Stable
//   Dead: the group was deleted or unloaded; any state may become Dead.

import assert from 'node:assert/strict';
import type * as G from '../../protocol/generated/index.js';
import type { TimerHandle } from '../types.js';
import { ClassicErrorCode } from './errors.js';
import { joinError, syncError } from './responses.js';
import { CONSUMER_PROTOCOL_TYPE, subscribedTopicsOf } from './subscription.js';

export type ClassicGroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';
export const CLASSIC_GROUP_STATES: readonly ClassicGroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

const VALID_PREVIOUS_STATES: Record<ClassicGroupState, readonly ClassicGroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

/** One protocol a member supports: its name (an assignor, for consumers) and its metadata. */
export interface MemberProtocol {
  name: string;
  metadata: Buffer;
}

/** Delivers a (version-free) answer to a parked JoinGroup or SyncGroup request. */
export type JoinCallback = (response: G.JoinGroupResponse) => void;
export type SyncCallback = (response: G.SyncGroupResponse) => void;

export const EMPTY_ASSIGNMENT: Buffer = Buffer.alloc(0);

export class ClassicMember {
  /** Set while the member's JoinGroup is parked until the join phase completes. */
  awaitingJoin: JoinCallback | null = null;
  /** Set while the member's SyncGroup is parked until the leader's assignment is stored. */
  awaitingSync: SyncCallback | null = null;
  /** A member added in the current join phase: it may expire even while its JoinGroup is parked. */
  isNew = false;
  heartbeatTimer: TimerHandle | null = null;

  constructor(
    readonly memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    readonly clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    /** In the member's order of preference; names are distinct. */
    public protocols: MemberProtocol[],
    public assignment: Buffer = EMPTY_ASSIGNMENT,
  ) {}

  /** The member's metadata for `protocolName`; the group only selects protocols every member has. */
  metadata(protocolName: string): Buffer {
    const p = this.protocols.find((x) => x.name === protocolName);
    assert.ok(p !== undefined, `member ${this.memberId} does not support protocol ${protocolName}`);
    return p.metadata;
  }

  /** Same protocols, in the same order, with the same metadata. */
  matches(protocols: readonly MemberProtocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    return protocols.every((p, i) => {
      const mine = this.protocols[i];
      return mine !== undefined && mine.name === p.name && mine.metadata.equals(p.metadata);
    });
  }

  /** The member's most preferred protocol among `candidates`. */
  vote(candidates: ReadonlySet<string>): string {
    const p = this.protocols.find((x) => candidates.has(x.name));
    assert.ok(p !== undefined, `member ${this.memberId} supports none of the candidate protocols`);
    return p.name;
  }

  /** Members waiting for a join or sync answer count as alive; new members do not. */
  hasSatisfiedHeartbeat(): boolean {
    if (this.isNew) return false;
    return this.awaitingJoin !== null || this.awaitingSync !== null;
  }
}

/** Keeps the first protocol of each name (a duplicate name would be counted twice in the vote). */
export function distinctProtocols(protocols: readonly MemberProtocol[]): MemberProtocol[] {
  const seen = new Set<string>();
  return protocols.filter((p) => (seen.has(p.name) ? false : (seen.add(p.name), true)));
}

export class ClassicGroup {
  state: ClassicGroupState;
  previousState: ClassicGroupState = 'Dead';
  /** When the group entered its current state; null when unknown (loaded from old metadata). */
  currentStateTimestampMs: number | null;
  /** Null for a group that never had a member (a "simple" group that only commits offsets). */
  protocolType: string | null;
  protocolName: string | null;
  generationId: number;
  leaderId: string | null;

  /** In join order; the first one takes over when the leader leaves. */
  readonly members = new Map<string, ClassicMember>();
  /** groupInstanceId → memberId of the static members. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED and not yet used, with their expiry timers. */
  readonly pendingJoinMembers = new Map<string, TimerHandle | null>();
  /** Members whose SyncGroup is still expected in this generation. */
  readonly pendingSyncMembers = new Set<string>();
  /** Protocol name → how many members support it. */
  private readonly protocolSupport = new Map<string, number>();
  private awaitingJoinCount = 0;
  /** The topics the members subscribe to (consumer groups); null when not known. */
  subscribedTopics: ReadonlySet<string> | null = null;
  /** During the initial rebalance: a member joined since the delay timer was last set. */
  newMemberAdded = false;
  joinTimer: TimerHandle | null = null;
  syncTimer: TimerHandle | null = null;

  constructor(
    readonly groupId: string,
    initialState: ClassicGroupState,
    nowMs: number | null,
    private readonly onTransition: (from: ClassicGroupState | null, to: ClassicGroupState) => void,
    init: { generationId?: number; protocolType?: string | null; protocolName?: string | null; leaderId?: string | null } = {},
  ) {
    this.state = initialState;
    this.currentStateTimestampMs = nowMs;
    this.generationId = init.generationId ?? 0;
    this.protocolType = init.protocolType ?? null;
    this.protocolName = init.protocolName ?? null;
    this.leaderId = init.leaderId ?? null;
    onTransition(null, initialState);
  }

  is(state: ClassicGroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: ClassicGroupState, nowMs: number): void {
    assert.ok(
      VALID_PREVIOUS_STATES[state].includes(this.state),
      `group ${this.groupId}: ${this.state} cannot become ${state}`,
    );
    const from = this.state;
    this.previousState = from;
    this.state = state;
    this.currentStateTimestampMs = nowMs;
    this.onTransition(from, state);
  }

  /** A rebalance can begin from Empty, Stable and CompletingRebalance. */
  canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.state);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  numAwaitingJoin(): number {
    return this.awaitingJoinCount;
  }

  /** Every member has sent its JoinGroup in this phase and no member id handed out is unused. */
  hasAllMembersJoined(): boolean {
    return this.members.size === this.awaitingJoinCount && this.pendingJoinMembers.size === 0;
  }

  notYetRejoinedMembers(): ClassicMember[] {
    return [...this.members.values()].filter((m) => m.awaitingJoin === null);
  }

  /** The longest rebalance timeout of the members: how long a join or sync phase may last. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  add(member: ClassicMember, join: JoinCallback | null): void {
    assert.ok(!this.members.has(member.memberId), `member ${member.memberId} is already in group ${this.groupId}`);
    if (member.groupInstanceId !== null) {
      assert.ok(!this.staticMembers.has(member.groupInstanceId), `instance ${member.groupInstanceId} is already a member`);
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    assert.equal(member.protocolType, this.protocolType, 'a member must speak the group protocol type');
    assert.ok(this.supportsProtocols(member.protocolType, new Set(member.protocols.map((p) => p.name))), 'a member must share a protocol with the group');
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.countProtocols(member, +1);
    member.awaitingJoin = join;
    if (join !== null) this.awaitingJoinCount++;
    this.dropPending(member.memberId);
  }

  /**
   * Removes a member (or a pending member id). A parked JoinGroup or SyncGroup of the removed
   * member is answered UNKNOWN_MEMBER_ID, so that no request is left waiting for ever.
   */
  remove(memberId: string): void {
    const m = this.members.get(memberId);
    if (m !== undefined) {
      this.completeJoin(m, joinError(ClassicErrorCode.UNKNOWN_MEMBER_ID, ''));
      this.completeSync(m, syncError(ClassicErrorCode.UNKNOWN_MEMBER_ID));
      m.heartbeatTimer?.cancel();
      m.heartbeatTimer = null;
      this.members.delete(memberId);
      this.countProtocols(m, -1);
      if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === memberId) {
        this.staticMembers.delete(m.groupInstanceId);
      }
    }
    if (this.isLeader(memberId)) {
      const next = this.members.keys().next();
      this.leaderId = next.done === true ? null : next.value;
    }
    this.dropPending(memberId);
    this.pendingSyncMembers.delete(memberId);
  }

  private dropPending(memberId: string): void {
    const timer = this.pendingJoinMembers.get(memberId);
    if (timer !== undefined) {
      timer?.cancel();
      this.pendingJoinMembers.delete(memberId);
    }
  }

  addPendingMember(memberId: string, timer: TimerHandle | null): void {
    assert.ok(!this.members.has(memberId), `pending member ${memberId} is already a member`);
    this.pendingJoinMembers.get(memberId)?.cancel();
    this.pendingJoinMembers.set(memberId, timer);
  }

  isPendingMember(memberId: string): boolean {
    return this.pendingJoinMembers.has(memberId);
  }

  /**
   * When the leader did not rejoin, a member that did becomes the leader. False when no member
   * has rejoined (or the group has no leader), so the join phase cannot complete.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    assert.ok(leader !== undefined, 'the leader is a member');
    if (leader.awaitingJoin !== null) return true;
    for (const m of this.members.values()) {
      if (m.awaitingJoin !== null) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  /**
   * A static member rejoined under a new member id: the old id is fenced (its parked requests get
   * FENCED_INSTANCE_ID) and the new one takes its place, its assignment and its leadership.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicMember {
    const old = this.members.get(oldMemberId);
    assert.ok(old !== undefined, `cannot replace unknown member ${oldMemberId}`);
    this.completeJoin(old, { ...joinError(ClassicErrorCode.FENCED_INSTANCE_ID, oldMemberId), generationId: -1 });
    this.completeSync(old, syncError(ClassicErrorCode.FENCED_INSTANCE_ID));
    old.heartbeatTimer?.cancel();
    old.heartbeatTimer = null;
    this.members.delete(oldMemberId);
    const replacement = new ClassicMember(
      newMemberId,
      old.groupInstanceId,
      old.clientId,
      old.clientHost,
      old.rebalanceTimeoutMs,
      old.sessionTimeoutMs,
      old.protocolType,
      old.protocols,
      old.assignment,
    );
    this.members.set(newMemberId, replacement);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return replacement;
  }

  /**
   * NONE, or the error for a request naming `memberId` (and `groupInstanceId` for a static
   * member): UNKNOWN_MEMBER_ID for an unknown member or instance, FENCED_INSTANCE_ID when the
   * instance is now known under another member id.
   */
  validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const existing = this.staticMembers.get(groupInstanceId);
      if (existing === undefined) return ClassicErrorCode.UNKNOWN_MEMBER_ID;
      if (existing !== memberId) return ClassicErrorCode.FENCED_INSTANCE_ID;
    }
    return this.members.has(memberId) ? ClassicErrorCode.NONE : ClassicErrorCode.UNKNOWN_MEMBER_ID;
  }

  /**
   * Can a member with these protocols join? An Empty group takes any protocol type and any
   * protocols, as long as there are some; otherwise the type must be the group's and one of the
   * protocols must be supported by every current member.
   */
  supportsProtocols(protocolType: string, protocolNames: ReadonlySet<string>): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocolNames.size > 0;
    if (this.protocolType !== protocolType) return false;
    for (const name of protocolNames) {
      if ((this.protocolSupport.get(name) ?? 0) === this.members.size) return true;
    }
    return false;
  }

  /**
   * The protocol for the next generation: among the protocols every member supports, each member
   * votes for its most preferred one, and the most votes win. Kafka breaks a tie in hash order;
   * Strata takes, among the tied, the protocol voted first in join order, so it is deterministic.
   */
  selectProtocol(): string {
    assert.ok(this.members.size > 0, 'cannot select a protocol for a group without members');
    const candidates = new Set<string>();
    for (const [name, count] of this.protocolSupport) if (count === this.members.size) candidates.add(name);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const name = m.vote(candidates);
      votes.set(name, (votes.get(name) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = 0;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    assert.ok(best !== null);
    return best;
  }

  /** Replaces a member's protocols and timeouts; `join` parks (or clears) its JoinGroup. */
  updateMember(member: ClassicMember, protocols: MemberProtocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, join: JoinCallback | null): void {
    this.countProtocols(member, -1);
    member.protocols = protocols;
    this.countProtocols(member, +1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (join !== null && member.awaitingJoin === null) this.awaitingJoinCount++;
    else if (join === null && member.awaitingJoin !== null) this.awaitingJoinCount--;
    else if (join !== null && member.awaitingJoin !== null) {
      // The same member sent JoinGroup again while its first one was parked (a client that timed
      // out its request and retried on a new connection). Kafka drops the first silently; Strata
      // answers it, so that no request stays parked for ever.
      member.awaitingJoin(joinError(ClassicErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    }
    member.awaitingJoin = join;
  }

  private countProtocols(member: ClassicMember, delta: 1 | -1): void {
    for (const p of member.protocols) {
      const n = (this.protocolSupport.get(p.name) ?? 0) + delta;
      assert.ok(n >= 0, 'protocol support counts never go negative');
      if (n === 0) this.protocolSupport.delete(p.name);
      else this.protocolSupport.set(p.name, n);
    }
  }

  completeJoin(member: ClassicMember, response: G.JoinGroupResponse): boolean {
    const cb = member.awaitingJoin;
    if (cb === null) return false;
    member.awaitingJoin = null;
    this.awaitingJoinCount--;
    assert.ok(this.awaitingJoinCount >= 0, 'awaiting join count never goes negative');
    cb(response);
    return true;
  }

  completeSync(member: ClassicMember, response: G.SyncGroupResponse): boolean {
    const cb = member.awaitingSync;
    if (cb === null) return false;
    member.awaitingSync = null;
    cb(response);
    return true;
  }

  /** Parks a member's SyncGroup; a parked one it replaces is answered REBALANCE_IN_PROGRESS. */
  parkSync(member: ClassicMember, sync: SyncCallback): void {
    this.completeSync(member, syncError(ClassicErrorCode.REBALANCE_IN_PROGRESS));
    member.awaitingSync = sync;
  }

  /** The next generation: CompletingRebalance with a selected protocol, or Empty without members. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', nowMs);
    } else {
      this.protocolName = null;
      this.subscribedTopics = this.computeSubscribedTopics();
      this.transitionTo('Empty', nowMs);
    }
    this.pendingSyncMembers.clear();
  }

  /** For "consumer" groups: the union of the members' subscribed topics, when all can be read. */
  computeSubscribedTopics(): ReadonlySet<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const own = subscribedTopicsOf(m.metadata(this.protocolName));
      if (own === null) return null;
      for (const t of own) topics.add(t);
    }
    return topics;
  }

  /** The members as the leader's JoinGroup answer lists them, with their selected-protocol metadata. */
  joinResponseMembers(): G.JoinGroupResponseJoinGroupResponseMember[] {
    assert.ok(!this.is('Dead') && !this.is('PreparingRebalance'), `no member metadata in state ${this.state}`);
    const name = this.protocolName;
    assert.ok(name !== null, 'a group with members has a protocol');
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(name) }));
  }

  /** The successful JoinGroup answer for `memberId` in the current generation. */
  joinResponse(memberId: string, members: G.JoinGroupResponseJoinGroupResponseMember[], leader = this.leaderId): G.JoinGroupResponse {
    return {
      throttleTimeMs: 0,
      errorCode: ClassicErrorCode.NONE,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: leader ?? '',
      skipAssignment: false,
      memberId,
      members,
    };
  }

  /** Member count plus pending member ids: what the group holds in memory. */
  footprint(): number {
    return this.members.size + this.pendingJoinMembers.size;
  }
}
