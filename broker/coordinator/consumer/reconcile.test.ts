import { describe, expect, it } from 'vitest';
import { type Assignment, EMPTY_ASSIGNMENT, assignmentToList } from './assignment.js';
import { type MemberAssignmentState, type ReconcileInput, reconcile } from './reconcile.js';
import { MemberState } from './records.js';

const T = 'topic-id-000000000000a';

function parts(...ps: number[]): Assignment {
  return ps.length === 0 ? EMPTY_ASSIGNMENT : new Map([[T, new Set(ps)]]);
}

function state(s: Partial<MemberAssignmentState>): MemberAssignmentState {
  return {
    memberEpoch: 10,
    previousMemberEpoch: 9,
    state: MemberState.STABLE,
    assigned: EMPTY_ASSIGNMENT,
    pendingRevocation: EMPTY_ASSIGNMENT,
    ...s,
  };
}

function run(
  current: MemberAssignmentState,
  targetEpoch: number,
  target: Assignment,
  owned: Assignment | null,
  others: Record<number, string> = {},
): { memberEpoch: number; previousMemberEpoch: number; state: number; assigned: number[]; pending: number[] } {
  const input: ReconcileInput = {
    memberId: 'me',
    current,
    targetEpoch,
    target,
    owned,
    ownerOf: (topicId, p) => {
      if (topicId !== T) return undefined;
      if (others[p] !== undefined) return others[p];
      return current.assigned.get(T)?.has(p) || current.pendingRevocation.get(T)?.has(p) ? 'me' : undefined;
    },
  };
  const next = reconcile(input);
  const flat = (a: Assignment): number[] => assignmentToList(a).flatMap((tp) => tp.partitions);
  return {
    memberEpoch: next.memberEpoch,
    previousMemberEpoch: next.previousMemberEpoch,
    state: next.state,
    assigned: flat(next.assigned),
    pending: flat(next.pendingRevocation),
  };
}

describe('reconcile', () => {
  it('moves a stable member to the new epoch when the target did not take anything away', () => {
    expect(run(state({ assigned: parts(0, 1) }), 11, parts(0, 1, 2), parts(0, 1))).toEqual({
      memberEpoch: 11,
      previousMemberEpoch: 10,
      state: MemberState.STABLE,
      assigned: [0, 1, 2],
      pending: [],
    });
  });

  it('asks for revocation first, staying at the current epoch and giving nothing new', () => {
    expect(run(state({ assigned: parts(0, 1, 2) }), 11, parts(0, 1, 3), parts(0, 1, 2))).toEqual({
      memberEpoch: 10,
      previousMemberEpoch: 10,
      state: MemberState.UNREVOKED_PARTITIONS,
      assigned: [0, 1],
      pending: [2],
    });
  });

  it('assumes the member still owns what it was given when it does not say (partial request)', () => {
    expect(run(state({ assigned: parts(0, 1, 2) }), 11, parts(0, 1), null).state).toBe(MemberState.UNREVOKED_PARTITIONS);
  });

  it('skips the revocation step when the member already let the partitions go', () => {
    expect(run(state({ assigned: parts(0, 1, 2) }), 11, parts(0, 1, 3), parts(0, 1))).toEqual({
      memberEpoch: 11,
      previousMemberEpoch: 10,
      state: MemberState.STABLE,
      assigned: [0, 1, 3],
      pending: [],
    });
  });

  it('waits at the target epoch for a partition another member still owns', () => {
    expect(run(state({ assigned: parts(0) }), 11, parts(0, 5), parts(0), { 5: 'other' })).toEqual({
      memberEpoch: 11,
      previousMemberEpoch: 10,
      state: MemberState.UNRELEASED_PARTITIONS,
      assigned: [0],
      pending: [],
    });
  });

  it('stays put while revoked partitions are still reported, and moves on once they are not', () => {
    const unrevoked = state({ state: MemberState.UNREVOKED_PARTITIONS, previousMemberEpoch: 10, assigned: parts(0), pendingRevocation: parts(1) });
    const input: ReconcileInput = { memberId: 'me', current: unrevoked, targetEpoch: 11, target: parts(0), owned: parts(0, 1), ownerOf: () => undefined };
    expect(reconcile(input)).toBe(unrevoked);
    expect(run(unrevoked, 11, parts(0), parts(0))).toEqual({
      memberEpoch: 11,
      previousMemberEpoch: 10,
      state: MemberState.STABLE,
      assigned: [0],
      pending: [],
    });
  });

  it('advances one epoch at a time when the target moved on again during a revocation', () => {
    const unrevoked = state({ state: MemberState.UNREVOKED_PARTITIONS, previousMemberEpoch: 10, assigned: parts(0, 1), pendingRevocation: parts(2) });
    // Target 12 now also takes partition 1: the member reaches epoch 11 and must revoke again.
    expect(run(unrevoked, 12, parts(0), parts(0, 1))).toEqual({
      memberEpoch: 11,
      previousMemberEpoch: 10,
      state: MemberState.UNREVOKED_PARTITIONS,
      assigned: [0],
      pending: [1],
    });
  });

  it('hands over an unreleased partition once it is free', () => {
    const waiting = state({ state: MemberState.UNRELEASED_PARTITIONS, memberEpoch: 11, previousMemberEpoch: 10, assigned: parts(0) });
    expect(run(waiting, 11, parts(0, 5), parts(0), { 5: 'other' }).state).toBe(MemberState.UNRELEASED_PARTITIONS);
    expect(run(waiting, 11, parts(0, 5), parts(0))).toEqual({
      memberEpoch: 11,
      previousMemberEpoch: 11,
      state: MemberState.STABLE,
      assigned: [0, 5],
      pending: [],
    });
  });

  it('gives back a partition it was revoking when the target returns it, without waiting on itself', () => {
    const unrevoked = state({ state: MemberState.UNREVOKED_PARTITIONS, previousMemberEpoch: 10, assigned: parts(0), pendingRevocation: parts(1) });
    expect(run(unrevoked, 12, parts(0, 1), parts(0))).toMatchObject({ state: MemberState.STABLE, assigned: [0, 1] });
  });

  it('reconciles a member in an unknown state from scratch at the target epoch', () => {
    expect(run(state({ state: MemberState.UNKNOWN }), 11, parts(0), EMPTY_ASSIGNMENT)).toMatchObject({
      memberEpoch: 11,
      state: MemberState.STABLE,
      assigned: [0],
    });
  });
});
