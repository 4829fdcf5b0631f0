import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConsumerGroups, type ConsumerGroupsOptions } from './consumer-groups.js';
import { GroupErrorCode } from './errors.js';
import { MemberState, type ConsumerGroupRecord } from './records.js';
import {
  CLIENT,
  FakeTopics,
  ManualScheduler,
  SimClient,
  assertDisjoint,
  byName,
  joinRequest,
  request,
  settings,
} from './testing.js';

function setup(opts: Partial<ConsumerGroupsOptions> = {}) {
  const scheduler = new ManualScheduler();
  const topics = new FakeTopics();
  const records: ConsumerGroupRecord[] = [];
  let ids = 0;
  const groups = new ConsumerGroups({
    settings: settings(),
    scheduler,
    topics,
    onRecords: (batch) => records.push(...batch),
    newMemberId: () => `generated-${++ids}`,
    ...opts,
  });
  return { scheduler, topics, records, groups };
}

/** Heartbeats every client in turn until nothing changes, checking ownership after each step. */
function settle(clients: SimClient[], rounds = 10): void {
  for (let i = 0; i < rounds; i++) {
    for (const c of clients) {
      c.heartbeat();
      assertDisjoint(clients);
    }
  }
}

describe('ConsumerGroups: joining', () => {
  it('gives a single member every partition at epoch 1', () => {
    const { groups, topics, records } = setup();
    topics.create('foo', 3);
    const resp = groups.heartbeat(joinRequest('g', 'm1', ['foo']), 1, CLIENT);
    expect(resp.errorCode).toBe(0);
    expect(resp.memberId).toBe('m1');
    expect(resp.memberEpoch).toBe(1);
    expect(resp.heartbeatIntervalMs).toBe(5000);
    expect(byName(topics, resp.assignment)).toEqual({ foo: [0, 1, 2] });
    expect(groups.stateOf('g')).toBe('Stable');
    expect(records.map((r) => r.type)).toEqual([
      'ConsumerGroupMemberMetadata',
      'ConsumerGroupMetadata',
      'ConsumerGroupTargetAssignmentMember',
      'ConsumerGroupTargetAssignmentMetadata',
      'ConsumerGroupCurrentMemberAssignment',
    ]);
    expect(records[1]).toMatchObject({ value: { epoch: 1 } });
    expect(records[4]).toMatchObject({
      memberId: 'm1',
      value: { memberEpoch: 1, previousMemberEpoch: 0, state: MemberState.STABLE, partitionsPendingRevocation: [] },
    });
  });

  it('generates the member id at v0 and requires one from v1 (KIP-1082)', () => {
    const { groups, topics } = setup();
    topics.create('foo', 1);
    const v0 = groups.heartbeat(joinRequest('g', '', ['foo']), 0, CLIENT);
    expect(v0.errorCode).toBe(0);
    expect(v0.memberId).toBe('generated-1');
    const v1 = groups.heartbeat(joinRequest('g', '', ['foo']), 1, CLIENT);
    expect(v1.errorCode).toBe(GroupErrorCode.INVALID_REQUEST);
    expect(v1.errorMessage).toBe("MemberId can't be empty.");
  });

  it('revokes before it assigns: a second member waits until the first has let go', () => {
    const { groups, topics } = setup();
    topics.create('foo', 4);
    const a = new SimClient(groups, 'g', 'a', ['foo']);
    const b = new SimClient(groups, 'g', 'b', ['foo']);
    a.heartbeat();
    expect(byName(topics, a.owned)).toEqual({ foo: [0, 1, 2, 3] });

    // b joins: group epoch 2, target a={0,1} b={2,3}; b must wait for a.
    const rb = b.heartbeat();
    expect(rb.memberEpoch).toBe(2);
    expect(byName(topics, rb.assignment)).toEqual({});
    expect(groups.snapshot('g')!.members.find((m) => m.memberId === 'b')!.state).toBe(MemberState.UNRELEASED_PARTITIONS);
    expect(groups.stateOf('g')).toBe('Reconciling');
    assertDisjoint([a, b]);

    // a is told to revoke 2 and 3; it stays at epoch 1 until it has.
    const ra1 = a.heartbeat();
    expect(ra1.memberEpoch).toBe(1);
    expect(byName(topics, ra1.assignment)).toEqual({ foo: [0, 1] });
    const snapA = groups.snapshot('g')!.members.find((m) => m.memberId === 'a')!;
    expect(snapA.state).toBe(MemberState.UNREVOKED_PARTITIONS);
    expect(byName(topics, new Map(snapA.pendingRevocation.map((tp) => [tp.topicId, new Set(tp.partitions)])))).toEqual({ foo: [2, 3] });
    assertDisjoint([a, b]);

    // b heartbeats again before a acknowledged: still nothing for b.
    const rb2 = b.heartbeat();
    expect(rb2.assignment).toBeNull();
    expect(byName(topics, b.owned)).toEqual({});

    // a acknowledges (owned = {0,1}) and moves to epoch 2.
    const ra2 = a.heartbeat();
    expect(ra2.memberEpoch).toBe(2);
    expect(ra2.assignment).toBeNull(); // unchanged since the last response
    // Now b gets 2 and 3.
    const rb3 = b.heartbeat();
    expect(byName(topics, rb3.assignment)).toEqual({ foo: [2, 3] });
    assertDisjoint([a, b]);
    expect(groups.stateOf('g')).toBe('Stable');
    const snap = groups.snapshot('g')!;
    expect(snap.groupEpoch).toBe(2);
    expect(snap.assignmentEpoch).toBe(2);
    expect(snap.members.map((m) => [m.memberId, m.memberEpoch, m.state])).toEqual([
      ['a', 2, MemberState.STABLE],
      ['b', 2, MemberState.STABLE],
    ]);
  });

  it('keeps a member waiting while it has not reported its owned partitions (partial heartbeat)', () => {
    const { groups, topics } = setup();
    topics.create('foo', 2);
    groups.heartbeat(joinRequest('g', 'a', ['foo']), 1, CLIENT);
    groups.heartbeat(joinRequest('g', 'b', ['foo']), 1, CLIENT);
    const r1 = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1 }), 1, CLIENT);
    expect(r1.memberEpoch).toBe(1); // asked to revoke
    // topicPartitions null: the coordinator cannot tell it revoked, so it assumes it did not.
    const r2 = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1 }), 1, CLIENT);
    expect(r2.memberEpoch).toBe(1);
    expect(groups.snapshot('g')!.members[0]!.state).toBe(MemberState.UNREVOKED_PARTITIONS);
  });

  it('never lets two members own a partition, over random joins, leaves, expiries and topic growth', () => {
    const action = fc.oneof(
      { weight: 8, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), client: fc.nat(4) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), client: fc.nat(4) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(1_000, 20_000, 46_000) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('grow' as const) }) },
    );
    fc.assert(
      fc.property(fc.array(action, { maxLength: 120 }), fc.constantFrom('uniform', 'range'), (actions, assignor) => {
        const { groups, topics, scheduler } = setup();
        topics.create('foo', 5);
        topics.create('bar', 3);
        const clients = ['a', 'b', 'c', 'd', 'e'].map(
          (id, i) => new SimClient(groups, 'g', id, i % 2 === 0 ? ['foo', 'bar'] : ['foo'], { serverAssignor: assignor }),
        );
        for (const c of clients) c.clock = scheduler;
        for (const act of actions) {
          if (act.kind === 'heartbeat') clients[act.client]!.heartbeat();
          else if (act.kind === 'leave') clients[act.client]!.leave();
          else if (act.kind === 'advance') {
            scheduler.advance(act.ms);
            // A client silent past its rebalance timeout (30 s, shorter than the 45 s session) may
            // have been fenced for not revoking in time, as Kafka does; the Java client leaves the
            // group itself after max.poll.interval.ms (which it sends as the rebalance timeout).
            for (const c of clients) c.expireIfSilent(scheduler.nowMs(), 30_000);
          } else {
            topics.setPartitions('foo', Math.min(12, topics.byName('foo')!.partitionCount + 1));
            groups.onTopicsChanged();
          }
          assertDisjoint(clients);
        }
        // Everyone heartbeats until the group settles: every partition owned once, balanced.
        settle(clients, 12);
        expect(groups.stateOf('g')).toBe('Stable');
        const total = topics.byName('foo')!.partitionCount + topics.byName('bar')!.partitionCount;
        const owned = clients.map((c) => [...c.owned.values()].reduce((n, set) => n + set.size, 0));
        expect(owned.reduce((x, y) => x + y, 0)).toBe(total);
        const snap = groups.snapshot('g')!;
        expect(snap.members.every((m) => m.memberEpoch === snap.groupEpoch && m.state === MemberState.STABLE)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});

describe('ConsumerGroups: leaving and timeouts', () => {
  it('a member leaving (-1) bumps the epoch and its partitions go to the others', () => {
    const { groups, topics } = setup();
    topics.create('foo', 2);
    const a = new SimClient(groups, 'g', 'a', ['foo']);
    const b = new SimClient(groups, 'g', 'b', ['foo']);
    settle([a, b]);
    expect(byName(topics, b.owned)).toEqual({ foo: [1] });
    const resp = b.leave();
    expect(resp).toMatchObject({ errorCode: 0, memberId: 'b', memberEpoch: -1 });
    expect(groups.snapshot('g')!.groupEpoch).toBe(3);
    expect(groups.stateOf('g')).toBe('Assigning');
    a.heartbeat();
    expect(byName(topics, a.owned)).toEqual({ foo: [0, 1] });
    expect(groups.stateOf('g')).toBe('Stable');
    // The last member leaving empties the group.
    a.leave();
    expect(groups.stateOf('g')).toBe('Empty');
    expect(groups.isEmptyOrAbsent('g')).toBe(true);
  });

  it('hands the records of each operation to onRecords as one batch, timers included', () => {
    const scheduler = new ManualScheduler();
    const topics = new FakeTopics();
    const batches: string[][] = [];
    const groups = new ConsumerGroups({ settings: settings(), scheduler, topics, onRecords: (b) => batches.push(b.map((r) => r.type)) });
    topics.create('foo', 1);
    groups.heartbeat(joinRequest('g', 'a', ['foo']), 1, CLIENT);
    groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1 }), 1, CLIENT); // nothing changes
    scheduler.advance(45_000);
    expect(batches).toEqual([
      [
        'ConsumerGroupMemberMetadata',
        'ConsumerGroupMetadata',
        'ConsumerGroupTargetAssignmentMember',
        'ConsumerGroupTargetAssignmentMetadata',
        'ConsumerGroupCurrentMemberAssignment',
      ],
      ['ConsumerGroupCurrentMemberAssignment', 'ConsumerGroupTargetAssignmentMember', 'ConsumerGroupMemberMetadata', 'ConsumerGroupMetadata'],
    ]);
    expect(scheduler.pendingTimers()).toBe(0);
  });

  it('fences a member whose session expires, and only then', () => {
    const { groups, topics, scheduler } = setup();
    topics.create('foo', 2);
    const a = new SimClient(groups, 'g', 'a', ['foo']);
    const b = new SimClient(groups, 'g', 'b', ['foo']);
    settle([a, b]);
    // Heartbeats keep both alive across several session timeouts.
    for (let i = 0; i < 4; i++) {
      scheduler.advance(30_000);
      a.heartbeat();
      b.heartbeat();
    }
    expect(groups.snapshot('g')!.members).toHaveLength(2);
    // b goes silent; a keeps heartbeating.
    scheduler.advance(30_000);
    a.heartbeat();
    scheduler.advance(14_999);
    expect(groups.snapshot('g')!.members).toHaveLength(2);
    scheduler.advance(1);
    expect(groups.snapshot('g')!.members.map((m) => m.memberId)).toEqual(['a']);
    a.heartbeat();
    expect(byName(topics, a.owned)).toEqual({ foo: [0, 1] });
    // b's next heartbeat is refused; it rejoins from scratch.
    const rb = b.heartbeat();
    expect(rb.errorCode).toBe(GroupErrorCode.UNKNOWN_MEMBER_ID);
    expect(rb.errorMessage).toBe('Member b is not a member of group g.');
  });

  it('fences a member that does not revoke within its rebalance timeout', () => {
    const { groups, topics, scheduler } = setup();
    topics.create('foo', 2);
    groups.heartbeat(joinRequest('g', 'a', ['foo'], { rebalanceTimeoutMs: 10_000 }), 1, CLIENT);
    groups.heartbeat(joinRequest('g', 'b', ['foo']), 1, CLIENT);
    const all = [{ topicId: topics.id('foo'), partitions: [0, 1] }];
    // a is asked to give up partition 1 but keeps reporting it.
    const r = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1, topicPartitions: all }), 1, CLIENT);
    expect(r.memberEpoch).toBe(1);
    scheduler.advance(5_000);
    groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1, topicPartitions: all }), 1, CLIENT);
    scheduler.advance(4_999);
    expect(groups.snapshot('g')!.members).toHaveLength(2);
    scheduler.advance(1);
    expect(groups.snapshot('g')!.members.map((m) => m.memberId)).toEqual(['b']);
    const late = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1, topicPartitions: all }), 1, CLIENT);
    expect(late.errorCode).toBe(GroupErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('does not fence a member that revoked in time', () => {
    const { groups, topics, scheduler } = setup();
    topics.create('foo', 2);
    const a = new SimClient(groups, 'g', 'a', ['foo'], { rebalanceTimeoutMs: 10_000 });
    const b = new SimClient(groups, 'g', 'b', ['foo']);
    a.heartbeat();
    b.heartbeat();
    a.heartbeat(); // told to revoke
    scheduler.advance(9_000);
    a.heartbeat(); // acknowledges
    scheduler.advance(20_000);
    expect(groups.snapshot('g')!.members).toHaveLength(2);
  });
});

describe('ConsumerGroups: static membership', () => {
  it('a static member leaving with -2 keeps its partitions and gets them back under a new id without a rebalance', () => {
    const { groups, topics } = setup();
    topics.create('foo', 4);
    const a = new SimClient(groups, 'g', 'a1', ['foo'], { instanceId: 'inst-a' });
    const b = new SimClient(groups, 'g', 'b', ['foo']);
    settle([a, b]);
    const epochBefore = groups.snapshot('g')!.groupEpoch;
    const aPartitions = byName(topics, a.owned);

    const leave = groups.heartbeat(request({ groupId: 'g', memberId: 'a1', memberEpoch: -2, instanceId: 'inst-a' }), 1, CLIENT);
    expect(leave).toMatchObject({ errorCode: 0, memberId: 'a1', memberEpoch: -2 });
    const snap = groups.snapshot('g')!;
    expect(snap.groupEpoch).toBe(epochBefore);
    expect(snap.members.find((m) => m.memberId === 'a1')!.memberEpoch).toBe(-2);

    const back = groups.heartbeat(joinRequest('g', 'a2', ['foo'], { instanceId: 'inst-a' }), 1, CLIENT);
    expect(back.errorCode).toBe(0);
    expect(back.memberEpoch).toBe(epochBefore);
    expect(byName(topics, back.assignment)).toEqual(aPartitions);
    const after = groups.snapshot('g')!;
    expect(after.groupEpoch).toBe(epochBefore);
    expect(after.members.map((m) => m.memberId)).toEqual(['a2', 'b']);
    // The old member id is fenced by the new one.
    const old = groups.heartbeat(request({ groupId: 'g', memberId: 'a1', memberEpoch: epochBefore, instanceId: 'inst-a' }), 1, CLIENT);
    expect(old.errorCode).toBe(GroupErrorCode.FENCED_INSTANCE_ID);
    expect(old.errorMessage).toBe('Static member a1 with instance id inst-a was fenced by member a2.');
  });

  it('refuses a second member taking an instance id that has not been released', () => {
    const { groups, topics } = setup();
    topics.create('foo', 1);
    groups.heartbeat(joinRequest('g', 'a1', ['foo'], { instanceId: 'inst' }), 1, CLIENT);
    const r = groups.heartbeat(joinRequest('g', 'a2', ['foo'], { instanceId: 'inst' }), 1, CLIENT);
    expect(r.errorCode).toBe(GroupErrorCode.UNRELEASED_INSTANCE_ID);
    expect(r.errorMessage).toBe(
      'Static member a2 with instance id inst cannot join the group because the instance id is owned by a1 member.',
    );
    expect(groups.snapshot('g')!.members).toHaveLength(1);
  });

  it('lets a static member rejoin under its own id (Strata: Kafka 4.1 answers UNRELEASED_INSTANCE_ID)', () => {
    const { groups, topics } = setup();
    topics.create('foo', 2);
    groups.heartbeat(joinRequest('g', 'a1', ['foo'], { instanceId: 'inst' }), 1, CLIENT);
    const again = groups.heartbeat(joinRequest('g', 'a1', ['foo'], { instanceId: 'inst' }), 1, CLIENT);
    expect(again).toMatchObject({ errorCode: 0, memberId: 'a1', memberEpoch: 1 });
    expect(byName(topics, again.assignment)).toEqual({ foo: [0, 1] });
  });

  it('fences a departed static member when its session expires', () => {
    const { groups, topics, scheduler } = setup();
    topics.create('foo', 2);
    groups.heartbeat(joinRequest('g', 'a1', ['foo'], { instanceId: 'inst' }), 1, CLIENT);
    groups.heartbeat(request({ groupId: 'g', memberId: 'a1', memberEpoch: -2, instanceId: 'inst' }), 1, CLIENT);
    scheduler.advance(45_000);
    expect(groups.stateOf('g')).toBe('Empty');
    const r = groups.heartbeat(request({ groupId: 'g', memberId: 'a1', memberEpoch: 1, instanceId: 'inst' }), 1, CLIENT);
    expect(r.errorCode).toBe(GroupErrorCode.UNKNOWN_MEMBER_ID);
    expect(r.errorMessage).toBe('Instance id inst is unknown.');
  });
});

describe('ConsumerGroups: epochs', () => {
  it('fences a member whose epoch is ahead, or behind without the lost-response excuse', () => {
    const { groups, topics } = setup();
    topics.create('foo', 2);
    const a = new SimClient(groups, 'g', 'a', ['foo']);
    const b = new SimClient(groups, 'g', 'b', ['foo']);
    settle([a, b]); // both at epoch 2; a's previous epoch is 1
    const ahead = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 3 }), 1, CLIENT);
    expect(ahead.errorCode).toBe(GroupErrorCode.FENCED_MEMBER_EPOCH);
    expect(ahead.errorMessage).toContain('greater member epoch (3)');
    const behindNoPartitions = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1 }), 1, CLIENT);
    expect(behindNoPartitions.errorCode).toBe(GroupErrorCode.FENCED_MEMBER_EPOCH);
    // The previous epoch with a subset of the current partitions: the bump was lost, accepted.
    const lost = groups.heartbeat(
      request({ groupId: 'g', memberId: 'a', memberEpoch: 1, topicPartitions: [{ topicId: topics.id('foo'), partitions: [0] }] }),
      1,
      CLIENT,
    );
    expect(lost).toMatchObject({ errorCode: 0, memberEpoch: 2 });
    // A partition it was never given: not a subset, fenced.
    const wrong = groups.heartbeat(
      request({ groupId: 'g', memberId: 'a', memberEpoch: 1, topicPartitions: [{ topicId: topics.id('foo'), partitions: [1] }] }),
      1,
      CLIENT,
    );
    expect(wrong.errorCode).toBe(GroupErrorCode.FENCED_MEMBER_EPOCH);
    expect(wrong.errorMessage).toContain('smaller member epoch (1)');
  });

  it('lets a fenced member rejoin with epoch 0 under the same id', () => {
    const { groups, topics } = setup();
    topics.create('foo', 2);
    const a = new SimClient(groups, 'g', 'a', ['foo']);
    a.heartbeat();
    expect(a.memberEpoch).toBe(1);
    const again = groups.heartbeat(joinRequest('g', 'a', ['foo']), 1, CLIENT);
    expect(again).toMatchObject({ errorCode: 0, memberEpoch: 1 });
    expect(byName(topics, again.assignment)).toEqual({ foo: [0, 1] });
  });

  it('bumps the group epoch on a subscription change and not on a plain heartbeat', () => {
    const { groups, topics } = setup();
    topics.create('foo', 2);
    topics.create('bar', 2);
    groups.heartbeat(joinRequest('g', 'a', ['foo']), 1, CLIENT);
    const plain = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1 }), 1, CLIENT);
    expect(plain.memberEpoch).toBe(1);
    // Same names in another order: no change.
    groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1, subscribedTopicNames: ['foo', 'foo'] }), 1, CLIENT);
    expect(groups.snapshot('g')!.groupEpoch).toBe(1);
    const more = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1, subscribedTopicNames: ['bar', 'foo'] }), 1, CLIENT);
    expect(more.memberEpoch).toBe(2);
    expect(byName(topics, more.assignment)).toEqual({ bar: [0, 1], foo: [0, 1] });
    expect(groups.rebalanceCount()).toBe(2);
  });

  it('treats null fields as unchanged and resends the assignment on a full request', () => {
    const { groups, topics } = setup();
    topics.create('foo', 2);
    groups.heartbeat(joinRequest('g', 'a', ['foo'], { serverAssignor: 'range', rackId: 'r1' }), 1, CLIENT);
    const partial = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1 }), 1, CLIENT);
    expect(partial.assignment).toBeNull();
    const m = groups.snapshot('g')!.members[0]!;
    expect(m).toMatchObject({ subscribedTopicNames: ['foo'], serverAssignor: 'range', rackId: 'r1', rebalanceTimeoutMs: 30_000 });
    const full = groups.heartbeat(
      request({ groupId: 'g', memberId: 'a', memberEpoch: 1, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ['foo'], topicPartitions: [] }),
      1,
      CLIENT,
    );
    expect(byName(topics, full.assignment)).toEqual({ foo: [0, 1] });
  });
});

describe('ConsumerGroups: request errors', () => {
  const cases: [string, Parameters<typeof request>[0], number, number, string | null][] = [
    ['empty group id', { groupId: ' ', memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1, subscribedTopicNames: [], topicPartitions: [] }, 1, GroupErrorCode.INVALID_REQUEST, "GroupId can't be empty."],
    ['no rebalance timeout on join', { groupId: 'g', memberId: 'm', memberEpoch: 0, subscribedTopicNames: [], topicPartitions: [] }, 1, GroupErrorCode.INVALID_REQUEST, 'RebalanceTimeoutMs must be provided in first request.'],
    ['owned partitions on join', { groupId: 'g', memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1, subscribedTopicNames: [], topicPartitions: [{ topicId: 'x', partitions: [0] }] }, 1, GroupErrorCode.INVALID_REQUEST, 'TopicPartitions must be empty when (re-)joining.'],
    ['null owned partitions on join', { groupId: 'g', memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1, subscribedTopicNames: [] }, 1, GroupErrorCode.INVALID_REQUEST, 'TopicPartitions must be empty when (re-)joining.'],
    ['no subscription on join', { groupId: 'g', memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1, topicPartitions: [] }, 1, GroupErrorCode.INVALID_REQUEST, 'Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.'],
    ['empty instance id', { groupId: 'g', memberId: 'm', memberEpoch: 0, instanceId: '', rebalanceTimeoutMs: 1, subscribedTopicNames: [], topicPartitions: [] }, 1, GroupErrorCode.INVALID_REQUEST, "InstanceId can't be empty."],
    ['empty rack id', { groupId: 'g', memberId: 'm', memberEpoch: 0, rackId: '', rebalanceTimeoutMs: 1, subscribedTopicNames: [], topicPartitions: [] }, 1, GroupErrorCode.INVALID_REQUEST, "RackId can't be empty."],
    ['static leave without instance id', { groupId: 'g', memberId: 'm', memberEpoch: -2 }, 1, GroupErrorCode.INVALID_REQUEST, "InstanceId can't be null."],
    ['epoch below -2', { groupId: 'g', memberId: 'm', memberEpoch: -3 }, 1, GroupErrorCode.INVALID_REQUEST, 'MemberEpoch is invalid.'],
    ['leave without member id', { groupId: 'g', memberId: '', memberEpoch: -1 }, 0, GroupErrorCode.INVALID_REQUEST, "MemberId can't be empty."],
    ['unknown assignor', { groupId: 'g', memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1, subscribedTopicNames: [], topicPartitions: [], serverAssignor: 'sticky' }, 1, GroupErrorCode.UNSUPPORTED_ASSIGNOR, 'ServerAssignor sticky is not supported. Supported assignors: uniform, range.'],
    ['unknown group', { groupId: 'nope', memberId: 'm', memberEpoch: 5 }, 1, GroupErrorCode.GROUP_ID_NOT_FOUND, 'Consumer group nope not found.'],
    ['leave of an unknown group', { groupId: 'nope', memberId: 'm', memberEpoch: -1 }, 1, GroupErrorCode.GROUP_ID_NOT_FOUND, 'Group nope not found.'],
    ['invalid regex', { groupId: 'g', memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1, subscribedTopicRegex: 'a(b', topicPartitions: [] }, 1, GroupErrorCode.INVALID_REGULAR_EXPRESSION, null],
  ];
  for (const [name, fields, version, code, message] of cases) {
    it(`answers ${name}`, () => {
      const { groups, records } = setup();
      const resp = groups.heartbeat(request(fields), version, CLIENT);
      expect(resp.errorCode).toBe(code);
      if (message !== null) expect(resp.errorMessage).toBe(message);
      expect(resp.memberId).toBeNull();
      expect(records).toEqual([]);
      expect(groups.groupCount()).toBe(0);
    });
  }

  it('refuses a member beyond group.consumer.max.size but not a known one', () => {
    const { groups, topics } = setup({ settings: settings({ consumerMaxGroupSize: 2 }) });
    topics.create('foo', 1);
    expect(groups.heartbeat(joinRequest('g', 'a', ['foo']), 1, CLIENT).errorCode).toBe(0);
    expect(groups.heartbeat(joinRequest('g', 'b', ['foo']), 1, CLIENT).errorCode).toBe(0);
    const c = groups.heartbeat(joinRequest('g', 'c', ['foo']), 1, CLIENT);
    expect(c.errorCode).toBe(GroupErrorCode.GROUP_MAX_SIZE_REACHED);
    expect(c.errorMessage).toBe('The consumer group has reached its maximum capacity of 2 members.');
    expect(groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1 }), 1, CLIENT).errorCode).toBe(0);
  });

  it('refuses a new group beyond maxGroups, counting the other group types', () => {
    let others = 0;
    const { groups, topics } = setup({ settings: settings({ maxGroups: 3 }), otherGroupCount: () => others });
    topics.create('foo', 1);
    others = 1;
    expect(groups.heartbeat(joinRequest('g1', 'a', ['foo']), 1, CLIENT).errorCode).toBe(0);
    expect(groups.heartbeat(joinRequest('g2', 'a', ['foo']), 1, CLIENT).errorCode).toBe(0);
    const third = groups.heartbeat(joinRequest('g3', 'a', ['foo']), 1, CLIENT);
    expect(third.errorCode).toBe(GroupErrorCode.GROUP_MAX_SIZE_REACHED);
    expect(groups.has('g3')).toBe(false);
    // Joining an existing group is still fine.
    expect(groups.heartbeat(joinRequest('g1', 'b', ['foo']), 1, CLIENT).errorCode).toBe(0);
  });

  it('answers GROUP_ID_NOT_FOUND for a live classic group and takes over an empty one', () => {
    const classic = new Map<string, 'empty' | 'nonEmpty'>([['busy', 'nonEmpty'], ['idle', 'empty']]);
    const deleted: string[] = [];
    const { groups, topics } = setup({
      classicGroups: {
        classicGroupState: (id) => classic.get(id),
        deleteEmptyClassicGroup: (id) => void (deleted.push(id), classic.delete(id)),
      },
    });
    topics.create('foo', 1);
    const busy = groups.heartbeat(joinRequest('busy', 'a', ['foo']), 1, CLIENT);
    expect(busy).toMatchObject({ errorCode: GroupErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group busy is not a consumer group.' });
    expect(groups.heartbeat(joinRequest('idle', 'a', ['foo']), 1, CLIENT).errorCode).toBe(0);
    expect(deleted).toEqual(['idle']);
    expect(groups.describe(['busy'], false)[0]).toMatchObject({ errorCode: GroupErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group busy is not a consumer group.' });
  });
});

describe('ConsumerGroups: assignors and topics', () => {
  it('uses the assignor the members ask for', () => {
    const { groups, topics } = setup();
    topics.create('foo', 3);
    topics.create('bar', 3);
    const a = new SimClient(groups, 'g', 'a', ['foo', 'bar'], { serverAssignor: 'range' });
    const b = new SimClient(groups, 'g', 'b', ['foo', 'bar'], { serverAssignor: 'range' });
    settle([a, b]);
    expect(byName(topics, a.owned)).toEqual({ bar: [0, 1], foo: [0, 1] });
    expect(byName(topics, b.owned)).toEqual({ bar: [2], foo: [2] });
    expect(groups.describe(['g'], false)[0]!.assignorName).toBe('range');
  });

  it('defaults to the first configured assignor', () => {
    const { groups, topics } = setup({ settings: settings({ consumerAssignors: ['range', 'uniform'] }) });
    topics.create('foo', 1);
    groups.heartbeat(joinRequest('g', 'a', ['foo']), 1, CLIENT);
    expect(groups.describe(['g'], false)[0]!.assignorName).toBe('range');
  });

  it('reassigns when a subscribed topic gains partitions, is deleted, or is created', () => {
    const { groups, topics } = setup();
    topics.create('foo', 2);
    const a = new SimClient(groups, 'g', 'a', ['foo', 'later']);
    a.heartbeat();
    expect(byName(topics, a.owned)).toEqual({ foo: [0, 1] });

    topics.setPartitions('foo', 3);
    groups.onTopicsChanged();
    expect(groups.stateOf('g')).toBe('Assigning');
    a.heartbeat();
    expect(byName(topics, a.owned)).toEqual({ foo: [0, 1, 2] });

    topics.create('later', 1);
    groups.onTopicsChanged();
    a.heartbeat();
    expect(byName(topics, a.owned)).toEqual({ foo: [0, 1, 2], later: [0] });

    const fooId = topics.id('foo');
    topics.delete('foo');
    groups.onTopicsChanged();
    a.heartbeat(); // told to revoke foo
    expect([...a.assigned.keys()]).not.toContain(fooId);
    a.heartbeat();
    expect(byName(topics, a.owned)).toEqual({ later: [0] });
    expect(groups.stateOf('g')).toBe('Stable');

    // A change to a topic nobody subscribes to does not bump anything.
    const epoch = groups.snapshot('g')!.groupEpoch;
    topics.create('unrelated', 4);
    groups.onTopicsChanged();
    expect(groups.snapshot('g')!.groupEpoch).toBe(epoch);
  });

  it('subscribes by regular expression and follows topics that start or stop matching', () => {
    const { groups, topics, records } = setup();
    topics.create('orders-eu', 1);
    topics.create('orders-us', 1);
    topics.create('payments', 1);
    const r = groups.heartbeat(joinRequest('g', 'a', [], { subscribedTopicNames: null, subscribedTopicRegex: 'orders-.*' }), 1, CLIENT);
    expect(byName(topics, r.assignment)).toEqual({ 'orders-eu': [0], 'orders-us': [0] });
    expect(records.find((x) => x.type === 'ConsumerGroupRegularExpression')).toMatchObject({
      regularExpression: 'orders-.*',
      value: { topics: ['orders-eu', 'orders-us'] },
    });
    topics.create('orders-ap', 1);
    groups.onTopicsChanged();
    const r2 = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1, topicPartitions: r.assignment!.topicPartitions }), 1, CLIENT);
    expect(byName(topics, r2.assignment)).toEqual({ 'orders-ap': [0], 'orders-eu': [0], 'orders-us': [0] });
    const d = groups.describe(['g'], false)[0]!.members[0]!;
    expect(d.subscribedTopicRegex).toBe('orders-.*');
    expect(groups.snapshot('g')!.resolvedRegularExpressions).toEqual([
      { regularExpression: 'orders-.*', topics: ['orders-ap', 'orders-eu', 'orders-us'] },
    ]);
    // Leaving removes the resolution with the last subscriber.
    groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: -1 }), 1, CLIENT);
    expect(groups.snapshot('g')!.resolvedRegularExpressions).toEqual([]);
    expect(records.at(-2)).toEqual({ type: 'ConsumerGroupRegularExpression', groupId: 'g', regularExpression: 'orders-.*', value: null });
  });
});

describe('ConsumerGroups: describe, list and the offsets hooks', () => {
  it('describes groups as ConsumerGroupDescribe v0 does', () => {
    const { groups, topics } = setup();
    topics.create('foo', 2);
    const a = new SimClient(groups, 'g', 'a', ['foo'], { instanceId: 'i-a', rackId: 'r1' });
    a.heartbeat();
    groups.heartbeat(joinRequest('g', 'b', ['foo']), 1, CLIENT);
    const [g, missing, empty] = groups.describe(['g', 'missing', ''], true);
    expect(g).toMatchObject({
      errorCode: 0,
      groupId: 'g',
      groupState: 'Reconciling',
      groupEpoch: 2,
      assignmentEpoch: 2,
      assignorName: 'uniform',
      authorizedOperations: (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11),
    });
    expect(g!.members.map((m) => m.memberId)).toEqual(['a', 'b']);
    expect(g!.members[0]).toMatchObject({
      instanceId: 'i-a',
      rackId: 'r1',
      memberEpoch: 1,
      clientId: 'test-client',
      clientHost: '/127.0.0.1',
      subscribedTopicNames: ['foo'],
      subscribedTopicRegex: null,
      assignment: { topicPartitions: [{ topicId: topics.id('foo'), topicName: 'foo', partitions: [0, 1] }] },
      targetAssignment: { topicPartitions: [{ topicId: topics.id('foo'), topicName: 'foo', partitions: [0] }] },
    });
    expect(missing).toMatchObject({ groupId: 'missing', errorCode: GroupErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group missing not found.' });
    expect(empty).toMatchObject({ errorCode: GroupErrorCode.INVALID_GROUP_ID });
    expect(groups.describe(['g'], false)[0]!.authorizedOperations).toBe(-2147483648);
  });

  it('lists groups with their type and counts them by state', () => {
    const { groups, topics } = setup();
    topics.create('foo', 1);
    groups.heartbeat(joinRequest('g1', 'a', ['foo']), 1, CLIENT);
    groups.heartbeat(joinRequest('g2', 'a', ['foo']), 1, CLIENT);
    groups.heartbeat(request({ groupId: 'g2', memberId: 'a', memberEpoch: -1 }), 1, CLIENT);
    expect(groups.list()).toEqual([
      { groupId: 'g1', groupState: 'Stable', groupType: 'consumer', protocolType: 'consumer' },
      { groupId: 'g2', groupState: 'Empty', groupType: 'consumer', protocolType: 'consumer' },
    ]);
    expect(groups.groupCountByState()).toEqual({ Empty: 1, Assigning: 0, Reconciling: 0, Stable: 1, Dead: 0 });
  });

  it('validates offset commits and fetches against the member epoch', () => {
    const { groups, topics } = setup();
    topics.create('foo', 1);
    groups.heartbeat(joinRequest('g', 'a', ['foo']), 1, CLIENT);
    expect(groups.validateOffsetCommit('g', 'a', 1)).toBe(GroupErrorCode.NONE);
    expect(groups.validateOffsetCommit('g', 'a', 0)).toBe(GroupErrorCode.STALE_MEMBER_EPOCH);
    expect(groups.validateOffsetCommit('g', 'zz', 1)).toBe(GroupErrorCode.UNKNOWN_MEMBER_ID);
    expect(groups.validateOffsetCommit('g', 'a', 1, 8)).toBe(GroupErrorCode.UNSUPPORTED_VERSION);
    expect(groups.validateOffsetCommit('g', '', -1)).toBe(GroupErrorCode.UNKNOWN_MEMBER_ID);
    expect(groups.validateOffsetCommit('nope', 'a', 1)).toBe(GroupErrorCode.GROUP_ID_NOT_FOUND);
    expect(groups.validateTxnOffsetCommit('g', 'a', null, 0)).toBe(GroupErrorCode.ILLEGAL_GENERATION);
    expect(groups.validateTxnOffsetCommit('g', '', null, -1)).toBe(GroupErrorCode.NONE);
    expect(groups.validateOffsetFetch('g', 'a', 1)).toBe(GroupErrorCode.NONE);
    expect(groups.validateOffsetFetch('g', 'a', 7)).toBe(GroupErrorCode.STALE_MEMBER_EPOCH);
    expect(groups.validateOffsetFetch('g', null, -1)).toBe(GroupErrorCode.NONE);
    groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: -1 }), 1, CLIENT);
    // An empty group accepts commits from outside (admin tools).
    expect(groups.validateOffsetCommit('g', '', -1)).toBe(GroupErrorCode.NONE);
  });

  it('tells which topics a group subscribes to, by name or by regex', () => {
    const { groups, topics } = setup();
    topics.create('foo', 1);
    topics.create('bar-1', 1);
    groups.heartbeat(joinRequest('g', 'a', ['foo', 'not-yet']), 1, CLIENT);
    groups.heartbeat(joinRequest('g', 'b', [], { subscribedTopicNames: null, subscribedTopicRegex: 'bar-.*' }), 1, CLIENT);
    expect(['foo', 'not-yet', 'bar-1', 'bar-2', 'other'].map((t) => groups.isSubscribedToTopic('g', t))).toEqual([true, true, true, false, false]);
    expect(groups.isSubscribedToTopic('nope', 'foo')).toBe(false);
  });

  it('deletes only an empty group, writing its tombstones', () => {
    const { groups, topics, records } = setup();
    topics.create('foo', 1);
    groups.heartbeat(joinRequest('g', 'a', [], { subscribedTopicNames: null, subscribedTopicRegex: 'fo+' }), 1, CLIENT);
    expect(groups.deleteGroup('g')).toBe(GroupErrorCode.NON_EMPTY_GROUP);
    expect(groups.deleteGroup('nope')).toBe(GroupErrorCode.GROUP_ID_NOT_FOUND);
    groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: -1 }), 1, CLIENT);
    records.length = 0;
    expect(groups.deleteGroup('g')).toBe(GroupErrorCode.NONE);
    expect(records).toEqual([
      { type: 'ConsumerGroupTargetAssignmentMetadata', groupId: 'g', value: null },
      { type: 'ConsumerGroupPartitionMetadata', groupId: 'g', value: null },
      { type: 'ConsumerGroupMetadata', groupId: 'g', value: null },
    ]);
    expect(groups.has('g')).toBe(false);
    expect(groups.isEmptyOrAbsent('g')).toBe(true);
  });
});

describe('ConsumerGroups: persistence', () => {
  it('restores exactly the state its records describe, and resumes session timers', () => {
    const live = setup();
    live.topics.create('foo', 5);
    live.topics.create('bar', 2);
    const clients = [
      new SimClient(live.groups, 'g', 'a', ['foo', 'bar']),
      new SimClient(live.groups, 'g', 'b', ['foo'], { instanceId: 'static-b' }),
      new SimClient(live.groups, 'g', 'c', [], { subscribedTopicNames: null, subscribedTopicRegex: 'ba.' }),
    ];
    // Stop mid-rebalance so the restored state has members in every reconciliation state.
    clients[0]!.heartbeat();
    clients[1]!.heartbeat();
    clients[0]!.heartbeat();
    clients[2]!.heartbeat();
    live.groups.heartbeat(joinRequest('h', 'x', ['bar']), 1, CLIENT);
    live.groups.heartbeat(request({ groupId: 'h', memberId: 'x', memberEpoch: -1 }), 1, CLIENT);
    const states = new Set(live.groups.snapshot('g')!.members.map((m) => m.state));
    expect(states.size).toBeGreaterThan(1);

    const restored = setup();
    restored.topics.create('foo', 5);
    restored.topics.create('bar', 2);
    // Same topic ids: the fake hands them out in creation order.
    expect(restored.topics.id('foo')).toBe(live.topics.id('foo'));
    restored.groups.restore(live.records);
    expect(restored.records).toEqual([]); // topics unchanged: nothing to rewrite
    for (const id of ['g', 'h']) expect(restored.groups.snapshot(id)).toEqual(live.groups.snapshot(id));
    expect(restored.groups.describe(['g', 'h'], false)).toEqual(live.groups.describe(['g', 'h'], false));

    // The restored members' sessions run from the load.
    restored.scheduler.advance(45_000);
    expect(restored.groups.stateOf('g')).toBe('Empty');
  });

  it('bumps a restored group whose topics changed while it was not loaded', () => {
    const live = setup();
    live.topics.create('foo', 2);
    live.groups.heartbeat(joinRequest('g', 'a', ['foo']), 1, CLIENT);
    const restored = setup();
    restored.topics.create('foo', 4);
    restored.groups.restore(live.records);
    expect(restored.groups.snapshot('g')!.groupEpoch).toBe(2);
    expect(restored.records.map((r) => r.type)).toEqual(['ConsumerGroupMetadata']);
  });

  it('replays a group deletion', () => {
    const live = setup();
    live.topics.create('foo', 1);
    live.groups.heartbeat(joinRequest('g', 'a', ['foo']), 1, CLIENT);
    live.groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: -1 }), 1, CLIENT);
    live.groups.deleteGroup('g');
    const restored = setup();
    restored.topics.create('foo', 1);
    restored.groups.restore(live.records);
    expect(restored.groups.has('g')).toBe(false);
  });

  it('treats an unknown member state byte as UNKNOWN and fences a member that still claims partitions', () => {
    const { groups, topics } = setup();
    topics.create('foo', 1);
    const fooId = topics.id('foo');
    groups.restore([
      { type: 'ConsumerGroupMemberMetadata', groupId: 'g', memberId: 'a', value: { instanceId: null, rackId: null, clientId: 'c', clientHost: 'h', subscribedTopicNames: ['foo'], subscribedTopicRegex: null, rebalanceTimeoutMs: 1000, serverAssignor: null } },
      { type: 'ConsumerGroupMetadata', groupId: 'g', value: { epoch: 1, metadataHash: 0n } },
      { type: 'ConsumerGroupTargetAssignmentMember', groupId: 'g', memberId: 'a', value: { topicPartitions: [{ topicId: fooId, partitions: [0] }] } },
      { type: 'ConsumerGroupTargetAssignmentMetadata', groupId: 'g', value: { assignmentEpoch: 1 } },
      { type: 'ConsumerGroupCurrentMemberAssignment', groupId: 'g', memberId: 'a', value: { memberEpoch: 1, previousMemberEpoch: 0, state: 9, assignedPartitions: [{ topicId: fooId, partitions: [0] }], partitionsPendingRevocation: [] } },
    ]);
    expect(groups.snapshot('g')!.members[0]!.state).toBe(MemberState.UNKNOWN);
    const r = groups.heartbeat(request({ groupId: 'g', memberId: 'a', memberEpoch: 1, topicPartitions: [{ topicId: fooId, partitions: [0] }] }), 1, CLIENT);
    expect(r.errorCode).toBe(GroupErrorCode.FENCED_MEMBER_EPOCH);
  });
});
