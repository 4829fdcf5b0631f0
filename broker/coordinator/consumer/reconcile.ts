// Moving one member from its current assignment towards its target assignment, as KIP-848
// describes and Kafka's coordinator does it (one step per heartbeat):
//
// - Partitions the member holds but the target no longer gives it are revoked first. While the
//   member still reports owning any of them, it stays at its epoch in UNREVOKED_PARTITIONS and
//   gets nothing new.
// - A partition the target gives it is handed over only once no other member owns it (still
//   assigned, or pending revocation, elsewhere); until then the member waits in
//   UNRELEASED_PARTITIONS, already at the target epoch.
// - Once nothing is left to revoke or wait for, the member reaches the target epoch in STABLE.
//
// So a partition is never owned by two members at once, and a member's epoch advances only when
// it has given up what it must.

import { type Assignment, EMPTY_ASSIGNMENT, assignmentEquals, compactAssignment } from './assignment.js';
import { MemberState } from './records.js';

/** The part of a member that reconciliation changes (Kafka's current member assignment record). */
export interface MemberAssignmentState {
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberState;
  assigned: Assignment;
  pendingRevocation: Assignment;
}

export interface ReconcileInput {
  memberId: string;
  current: MemberAssignmentState;
  targetEpoch: number;
  target: Assignment;
  /** The member owning a partition now (assigned or pending revocation), or undefined. */
  ownerOf(topicId: string, partition: number): string | undefined;
  /**
   * The partitions the member reports owning in this heartbeat, or null when the request left
   * them out (then the member is assumed to still own everything it was given).
   */
  owned: Assignment | null;
}

/** True when the member is where the target wants it: nothing further to do. */
export function isReconciledTo(s: MemberAssignmentState, targetEpoch: number): boolean {
  return s.state === MemberState.STABLE && s.memberEpoch === targetEpoch;
}

/**
 * The member's next assignment state. Returns `current` itself when nothing changes. A member in
 * the UNKNOWN state is reconciled from scratch at the target epoch; the caller fences it first
 * unless it reported owning nothing (Kafka's rule).
 */
export function reconcile(input: ReconcileInput): MemberAssignmentState {
  const { current, targetEpoch } = input;
  switch (current.state) {
    case MemberState.STABLE:
      if (current.memberEpoch !== targetEpoch) return nextAssignment(input, current.memberEpoch);
      return current;
    case MemberState.UNREVOKED_PARTITIONS:
      // Still holding something it must give up: wait.
      if (ownsAnyOf(input.owned, current.pendingRevocation)) return current;
      // Everything revoked: the member may move to the next epoch (never past the target's) and
      // on towards the target.
      return nextAssignment(input, Math.min(current.memberEpoch + 1, targetEpoch));
    case MemberState.UNRELEASED_PARTITIONS:
      return nextAssignment(input, current.memberEpoch);
    default:
      return nextAssignment(input, targetEpoch);
  }
}

/** True when `owned` (null: unknown, so assume yes) still contains any of `partitions`. */
function ownsAnyOf(owned: Assignment | null, partitions: Assignment): boolean {
  if (owned === null) return true;
  for (const [topicId, parts] of owned) {
    const pending = partitions.get(topicId);
    if (pending === undefined) continue;
    for (const p of parts) if (pending.has(p)) return true;
  }
  return false;
}

function nextAssignment(input: ReconcileInput, epochIfRevoking: number): MemberAssignmentState {
  const { current, target, targetEpoch, memberId } = input;
  let waitingForRelease = false;
  const assigned = new Map<string, Set<number>>();
  const revoking = new Map<string, Set<number>>();
  const toAssign = new Map<string, Set<number>>();

  const topicIds = new Set([...target.keys(), ...current.assigned.keys()]);
  for (const topicId of topicIds) {
    const want = target.get(topicId) ?? new Set<number>();
    const have = current.assigned.get(topicId) ?? new Set<number>();
    const keep = new Set<number>();
    const revoke = new Set<number>();
    for (const p of have) (want.has(p) ? keep : revoke).add(p);
    const add = new Set<number>();
    for (const p of want) {
      if (keep.has(p)) continue;
      const owner = input.ownerOf(topicId, p);
      // Owned by another member (or pending revocation there): not free yet. Owned by this member
      // as a pending revocation: it may simply keep it, since no one else can hold it.
      if (owner !== undefined && owner !== memberId) waitingForRelease = true;
      else add.add(p);
    }
    assigned.set(topicId, keep);
    revoking.set(topicId, revoke);
    toAssign.set(topicId, add);
  }

  const newRevoking = compactAssignment(revoking);
  if (newRevoking.size > 0 && ownsAnyOf(input.owned, newRevoking)) {
    // Revoke first: stay at this epoch (or the one just earned), hand out nothing new.
    return {
      state: MemberState.UNREVOKED_PARTITIONS,
      ...advanceEpoch(current, epochIfRevoking),
      assigned: compactAssignment(assigned),
      pendingRevocation: newRevoking,
    };
  }
  for (const [topicId, parts] of toAssign) for (const p of parts) assigned.get(topicId)!.add(p);
  return {
    state: waitingForRelease ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE,
    ...advanceEpoch(current, targetEpoch),
    assigned: compactAssignment(assigned),
    pendingRevocation: EMPTY_ASSIGNMENT,
  };
}

export function memberAssignmentEquals(a: MemberAssignmentState, b: MemberAssignmentState): boolean {
  return (
    a.memberEpoch === b.memberEpoch &&
    a.previousMemberEpoch === b.previousMemberEpoch &&
    a.state === b.state &&
    assignmentEquals(a.assigned, b.assigned) &&
    assignmentEquals(a.pendingRevocation, b.pendingRevocation)
  );
}

/** Kafka's epoch update: the previous epoch is the one the member had before this step. */
function advanceEpoch(current: MemberAssignmentState, epoch: number): { memberEpoch: number; previousMemberEpoch: number } {
  return { memberEpoch: epoch, previousMemberEpoch: current.memberEpoch };
}
