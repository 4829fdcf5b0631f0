import { describe, expect, it } from 'vitest';
import type * as G from '../../protocol/generated/index.js';
import {
  encodeDescribeGroupsResponse,
  encodeJoinGroupResponse,
  encodeLeaveGroupResponse,
  encodeListGroupsResponse,
  encodeSyncGroupResponse,
} from '../../protocol/generated/index.js';
import { Writer } from '../../protocol/primitives.js';
import type { CoordinatorSettings } from '../types.js';
import { ClassicGroups, type ClassicGroupSnapshot, type ClassicGroupsListener } from './classic-groups.js';
import { ClassicErrorCode as E } from './errors.js';
import { ManualScheduler, flush, heartbeatRequest, joinRequest, subscription, syncRequest, watch, type JoinOptions } from './testing.js';

type Settings = Pick<
  CoordinatorSettings,
  'initialRebalanceDelayMs' | 'minSessionTimeoutMs' | 'maxSessionTimeoutMs' | 'maxGroupSize' | 'maxGroups'
>;

function setup(over: Partial<Settings> = {}, o: { membersMax?: number; listener?: ClassicGroupsListener } = {}) {
  const scheduler = new ManualScheduler();
  const snapshots: ClassicGroupSnapshot[] = [];
  const rebalances: [string, number][] = [];
  const deleted: string[] = [];
  let uuid = 0;
  const groups = new ClassicGroups({
    scheduler,
    settings: { initialRebalanceDelayMs: 3000, minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 300_000, maxGroupSize: 1000, maxGroups: 100, ...over },
    randomUuid: () => `u${++uuid}`,
    membersMax: o.membersMax,
    listener: {
      onGroupChanged: (s) => void snapshots.push(s),
      onGroupDeleted: (id) => void deleted.push(id),
      onRebalanceCompleted: (g, gen) => void rebalances.push([g, gen]),
      ...o.listener,
    },
  });
  return { scheduler, groups, snapshots, rebalances, deleted };
}
type H = ReturnType<typeof setup>;

const client = (id: string) => ({ clientId: id, clientHost: '/127.0.0.1' });
const asg = (s: string) => Buffer.from(s);

/** Advances the clock one second at a time until every watched promise settled (at most a minute). */
async function until(h: H, ws: { done: boolean }[]): Promise<void> {
  for (let i = 0; i < 60 && !ws.every((w) => w.done); i++) {
    h.scheduler.advance(1000);
    await flush();
  }
  expect(ws.every((w) => w.done)).toBe(true);
}

/** Forms a Stable group of `n` dynamic members with JoinGroup v3 (no MEMBER_ID_REQUIRED round). */
async function stableGroup(h: H, n: number, o: JoinOptions = {}, groupId = 'g') {
  const joins = Array.from({ length: n }, (_, i) => watch(h.groups.joinGroup(joinRequest(groupId, o), 3, client(`c${i}`))));
  await until(h, joins);
  const responses = joins.map((j) => j.value);
  for (const r of responses) expect(r.errorCode).toBe(E.NONE);
  const gen = responses[0]!.generationId;
  const leader = responses[0]!.leader;
  const ids = responses.map((r) => r.memberId);
  const syncs = ids.map((id) =>
    watch(h.groups.syncGroup(syncRequest(groupId, id, gen, id === leader ? { assignments: ids.map((m) => [m, asg(`a-${m}`)]) } : {}), 3)),
  );
  await flush();
  for (const s of syncs) expect(s.value.errorCode).toBe(E.NONE);
  expect(h.groups.stateOf(groupId)).toBe('Stable');
  return { ids, leader, gen, followers: ids.filter((id) => id !== leader) };
}

describe('join and sync', () => {
  it('one member: MEMBER_ID_REQUIRED, then the initial delay, then leader of generation 1', async () => {
    const h = setup();
    const first = await h.groups.joinGroup(joinRequest('g'), 9, client('app'));
    expect(first.errorCode).toBe(E.MEMBER_ID_REQUIRED);
    expect(first.memberId).toBe('app-u1');
    expect(h.groups.memberCount()).toBe(1); // the pending member id

    const join = watch(h.groups.joinGroup(joinRequest('g', { memberId: 'app-u1' }), 9, client('app')));
    h.scheduler.advance(2999);
    await flush();
    expect(join.done).toBe(false);
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    h.scheduler.advance(1);
    await flush();
    expect(join.value).toMatchObject({ errorCode: E.NONE, generationId: 1, leader: 'app-u1', memberId: 'app-u1', protocolType: 'consumer', protocolName: 'range' });
    expect(join.value.members.map((m) => m.memberId)).toEqual(['app-u1']);
    expect(join.value.members[0]!.metadata).toEqual(subscription(['t']));
    expect(h.groups.stateOf('g')).toBe('CompletingRebalance');

    const sync = await h.groups.syncGroup(syncRequest('g', 'app-u1', 1, { assignments: [['app-u1', asg('mine')]] }), 5);
    expect(sync).toMatchObject({ errorCode: E.NONE, protocolType: 'consumer', protocolName: 'range', assignment: asg('mine') });
    expect(h.groups.stateOf('g')).toBe('Stable');
    expect(h.rebalances).toEqual([['g', 1]]);
    expect(h.snapshots).toHaveLength(1);
    expect(h.snapshots[0]!.metadata).toMatchObject({ protocolType: 'consumer', generation: 1, protocol: 'range', leader: 'app-u1' });
    expect(h.snapshots[0]!.metadata.members).toMatchObject([
      { memberId: 'app-u1', clientId: 'app', clientHost: '/127.0.0.1', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, assignment: asg('mine') },
    ]);
  });

  it('three members: the leader gets every member, followers get their part of its assignment', async () => {
    const h = setup();
    const joins = ['a', 'b', 'c'].map((c) =>
      watch(h.groups.joinGroup(joinRequest('g', { protocols: [{ name: 'range', metadata: subscription([`t-${c}`]) }] }), 3, client(c))),
    );
    await until(h, joins);
    const [a, b, c] = joins.map((j) => j.value);
    expect(new Set([a!.generationId, b!.generationId, c!.generationId])).toEqual(new Set([1]));
    expect(a!.leader).toBe(a!.memberId);
    expect(b!.leader).toBe(a!.memberId);
    expect(a!.members.map((m) => [m.memberId, m.metadata])).toEqual([
      [a!.memberId, subscription(['t-a'])],
      [b!.memberId, subscription(['t-b'])],
      [c!.memberId, subscription(['t-c'])],
    ]);
    expect(b!.members).toEqual([]);
    expect(c!.members).toEqual([]);

    // Followers sync first: they wait for the leader.
    const sb = watch(h.groups.syncGroup(syncRequest('g', b!.memberId, 1), 3));
    const sc = watch(h.groups.syncGroup(syncRequest('g', c!.memberId, 1), 3));
    await flush();
    expect(sb.done || sc.done).toBe(false);
    const sa = await h.groups.syncGroup(
      syncRequest('g', a!.memberId, 1, { assignments: [[a!.memberId, asg('A')], [b!.memberId, asg('B')]] }),
      3,
    );
    await flush();
    expect(sa.assignment).toEqual(asg('A'));
    expect(sb.value.assignment).toEqual(asg('B'));
    // A member the leader left out gets an empty assignment.
    expect(sc.value).toMatchObject({ errorCode: E.NONE, assignment: Buffer.alloc(0) });
    // A late SyncGroup in Stable gets the stored assignment.
    expect((await h.groups.syncGroup(syncRequest('g', b!.memberId, 1), 3)).assignment).toEqual(asg('B'));
  });

  it('initial delay: extended while members keep arriving, never beyond the rebalance timeout', async () => {
    const h = setup({ initialRebalanceDelayMs: 3000 });
    const o = { rebalanceTimeoutMs: 10_000 };
    const joins = [watch(h.groups.joinGroup(joinRequest('g', o), 3, client('a')))];
    // A new member every two seconds: each delay round sees a newcomer.
    for (let t = 0; t < 4; t++) {
      h.scheduler.advance(2000);
      joins.push(watch(h.groups.joinGroup(joinRequest('g', o), 3, client(`m${t}`))));
    }
    h.scheduler.advance(1999); // t = 9999
    await flush();
    expect(joins.some((j) => j.done)).toBe(false);
    h.scheduler.advance(1); // t = 10000: the rebalance timeout bounds the delay
    await flush();
    expect(joins.every((j) => j.done && j.value.errorCode === E.NONE && j.value.generationId === 1)).toBe(true);
  });

  it('initial delay: completes one delay after the last newcomer', async () => {
    const h = setup({ initialRebalanceDelayMs: 3000 });
    const a = watch(h.groups.joinGroup(joinRequest('g'), 3, client('a')));
    h.scheduler.advance(1000);
    const b = watch(h.groups.joinGroup(joinRequest('g'), 3, client('b')));
    h.scheduler.advance(4999); // t = 5999: the first round (t = 3000) saw b and waits until 6000
    await flush();
    expect(a.done || b.done).toBe(false);
    h.scheduler.advance(1);
    await flush();
    expect(a.value.members).toHaveLength(2);
    expect(b.value.errorCode).toBe(E.NONE);
  });

  it('JoinGroup v0 uses the session timeout as the rebalance timeout', async () => {
    const h = setup();
    const j = watch(h.groups.joinGroup(joinRequest('g', { sessionTimeoutMs: 7000, rebalanceTimeoutMs: -1 }), 0, client('old')));
    await until(h, [j]);
    await h.groups.syncGroup(syncRequest('g', j.value.memberId, 1), 0);
    expect(h.snapshots[0]!.metadata.members[0]!.rebalanceTimeoutMs).toBe(7000);
  });

  it('a JoinGroup with unchanged metadata in CompletingRebalance gets the current generation again', async () => {
    const h = setup();
    const j = watch(h.groups.joinGroup(joinRequest('g'), 3, client('a')));
    await until(h, [j]);
    const again = await h.groups.joinGroup(joinRequest('g', { memberId: j.value.memberId }), 3, client('a'));
    expect(again).toMatchObject({ errorCode: E.NONE, generationId: 1, leader: j.value.memberId });
    expect(again.members).toHaveLength(1);
    expect(h.groups.stateOf('g')).toBe('CompletingRebalance');
  });

  it('a follower rejoining a Stable group unchanged gets the current generation; the leader triggers a rebalance', async () => {
    const h = setup();
    const { leader, followers, gen } = await stableGroup(h, 2);
    const f = await h.groups.joinGroup(joinRequest('g', { memberId: followers[0]! }), 3, client('x'));
    expect(f).toMatchObject({ errorCode: E.NONE, generationId: gen, members: [] });
    expect(h.groups.stateOf('g')).toBe('Stable');
    void h.groups.joinGroup(joinRequest('g', { memberId: leader }), 3, client('x'));
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
  });
});

describe('timeouts', () => {
  it('a member whose session expires is removed and the group rebalances', async () => {
    const h = setup();
    const { leader, followers, gen } = await stableGroup(h, 2, { sessionTimeoutMs: 10_000 });
    for (let i = 0; i < 2; i++) {
      h.scheduler.advance(4000);
      expect(h.groups.heartbeat(heartbeatRequest('g', leader, gen), 4).errorCode).toBe(E.NONE);
    }
    expect(h.groups.stateOf('g')).toBe('Stable');
    // 12 s: the follower has not heartbeated since its JoinGroup answer.
    h.scheduler.advance(4000);
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    expect(h.groups.heartbeat(heartbeatRequest('g', leader, gen), 4).errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    expect(h.groups.heartbeat(heartbeatRequest('g', followers[0]!, gen), 4).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    // The only member left rejoins: the join phase completes at once.
    const j = await h.groups.joinGroup(joinRequest('g', { memberId: leader }), 3, client('a'));
    expect(j).toMatchObject({ errorCode: E.NONE, generationId: gen + 1, leader });
    expect(j.members.map((m) => m.memberId)).toEqual([leader]);
  });

  it('members that do not rejoin within the rebalance timeout are removed', async () => {
    const h = setup();
    const { leader, followers, gen } = await stableGroup(h, 2, { sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 5000 });
    const j = watch(h.groups.joinGroup(joinRequest('g', { memberId: leader, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 5000 }), 3, client('a')));
    // The laggard keeps heartbeating (it is alive) but does not rejoin.
    h.scheduler.advance(2500);
    expect(h.groups.heartbeat(heartbeatRequest('g', followers[0]!, gen), 3).errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    h.scheduler.advance(2499);
    await flush();
    expect(j.done).toBe(false);
    h.scheduler.advance(1);
    await flush();
    expect(j.value).toMatchObject({ errorCode: E.NONE, generationId: gen + 1 });
    expect(j.value.members.map((m) => m.memberId)).toEqual([leader]);
    expect(h.groups.heartbeat(heartbeatRequest('g', followers[0]!, gen + 1), 3).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  it('a new leader is elected when the old one does not rejoin', async () => {
    const h = setup();
    const { leader, followers, gen } = await stableGroup(h, 2, { rebalanceTimeoutMs: 5000, sessionTimeoutMs: 30_000 });
    const j = watch(h.groups.joinGroup(joinRequest('g', { memberId: followers[0]!, protocols: [{ name: 'range', metadata: subscription(['other']) }], rebalanceTimeoutMs: 5000, sessionTimeoutMs: 30_000 }), 3, client('b')));
    await until(h, [j]);
    expect(j.value).toMatchObject({ generationId: gen + 1, leader: followers[0] });
    expect(h.groups.heartbeat(heartbeatRequest('g', leader, gen + 1), 3).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  it('members that send no SyncGroup within the rebalance timeout are removed, and the group rebalances', async () => {
    const h = setup();
    const joins = ['a', 'b'].map((c) => watch(h.groups.joinGroup(joinRequest('g', { rebalanceTimeoutMs: 8000, sessionTimeoutMs: 60_000 }), 3, client(c))));
    await until(h, joins);
    const [a, b] = joins.map((j) => j.value);
    await h.groups.syncGroup(syncRequest('g', a!.memberId, 1, { assignments: [[a!.memberId, asg('A')]] }), 3);
    expect(h.groups.stateOf('g')).toBe('Stable');
    // b keeps heartbeating but never syncs.
    h.scheduler.advance(4000);
    expect(h.groups.heartbeat(heartbeatRequest('g', b!.memberId, 1), 3).errorCode).toBe(E.NONE);
    h.scheduler.advance(4000);
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    expect(h.groups.heartbeat(heartbeatRequest('g', b!.memberId, 1), 3).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  it('a new member that joins and disappears is dropped after the new-member join timeout', async () => {
    const h = setup();
    const { leader, gen } = await stableGroup(h, 1, { sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 600_000 });
    const late = watch(h.groups.joinGroup(joinRequest('g', { sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 600_000 }), 3, client('late')));
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    // The leader stays alive through heartbeats but never rejoins; the newcomer's JoinGroup is parked.
    for (let t = 0; t < 59; t++) {
      h.scheduler.advance(5000);
      expect(h.groups.heartbeat(heartbeatRequest('g', leader, gen), 3).errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    }
    await flush();
    expect(late.done).toBe(false);
    h.scheduler.advance(5000); // 5 minutes after it joined
    await flush();
    expect(late.value.errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });
});

describe('heartbeat errors', () => {
  it('answers by state and identity', async () => {
    const h = setup();
    expect(h.groups.heartbeat(heartbeatRequest('', 'm', 1), 4).errorCode).toBe(E.INVALID_GROUP_ID);
    expect(h.groups.heartbeat(heartbeatRequest('nope', 'm', 1), 4).errorCode).toBe(E.UNKNOWN_MEMBER_ID);

    const j = watch(h.groups.joinGroup(joinRequest('g'), 3, client('a')));
    await flush();
    // PreparingRebalance, the member's JoinGroup still parked: it is a member of generation 0.
    expect(h.groups.heartbeat(heartbeatRequest('g', 'a-u1', 0), 4).errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    await until(h, [j]);
    // CompletingRebalance: a normal heartbeat.
    expect(h.groups.heartbeat(heartbeatRequest('g', 'a-u1', 1), 4).errorCode).toBe(E.NONE);
    expect(h.groups.heartbeat(heartbeatRequest('g', 'a-u1', 0), 4).errorCode).toBe(E.ILLEGAL_GENERATION);
    expect(h.groups.heartbeat(heartbeatRequest('g', 'other', 1), 4).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    // A dynamic member naming an instance id it does not have.
    expect(h.groups.heartbeat(heartbeatRequest('g', 'a-u1', 1, 'inst'), 4).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    // Below v3 the instance id is not part of the request.
    expect(h.groups.heartbeat(heartbeatRequest('g', 'a-u1', 1, 'inst'), 2).errorCode).toBe(E.NONE);
    await h.groups.syncGroup(syncRequest('g', 'a-u1', 1), 3);
    expect(h.groups.heartbeat(heartbeatRequest('g', 'a-u1', 1), 4).errorCode).toBe(E.NONE);
  });
});

describe('MEMBER_ID_REQUIRED', () => {
  it('v4+ gets a member id to rejoin with; v0-3 join directly', async () => {
    const h = setup();
    const r = await h.groups.joinGroup(joinRequest('g'), 4, client('cli'));
    expect(r).toMatchObject({ errorCode: E.MEMBER_ID_REQUIRED, memberId: 'cli-u1', generationId: -1 });
    expect(h.groups.stateOf('g')).toBe('Empty');
    const direct = watch(h.groups.joinGroup(joinRequest('g'), 3, client('old')));
    await flush();
    expect(direct.done).toBe(false);
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
  });

  it('an unused member id expires after the session timeout; a join naming it then is refused', async () => {
    const h = setup();
    const r = await h.groups.joinGroup(joinRequest('g', { sessionTimeoutMs: 6000 }), 5, client('cli'));
    h.scheduler.advance(6000);
    expect(h.groups.memberCount()).toBe(0);
    const late = await h.groups.joinGroup(joinRequest('g', { memberId: r.memberId }), 5, client('cli'));
    expect(late.errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  it('a pending member id keeps a rebalance waiting until it is used', async () => {
    const h = setup();
    const { leader, gen } = await stableGroup(h, 1, { sessionTimeoutMs: 30_000 });
    const p = await h.groups.joinGroup(joinRequest('g'), 5, client('new'));
    expect(p.errorCode).toBe(E.MEMBER_ID_REQUIRED);
    const lj = watch(h.groups.joinGroup(joinRequest('g', { memberId: leader, sessionTimeoutMs: 30_000 }), 5, client('c0')));
    await flush();
    expect(lj.done).toBe(false); // the pending id has not joined yet
    const nj = watch(h.groups.joinGroup(joinRequest('g', { memberId: p.memberId, sessionTimeoutMs: 30_000 }), 5, client('new')));
    await flush();
    expect(lj.value.generationId).toBe(gen + 1);
    expect(nj.value.generationId).toBe(gen + 1);
    expect(lj.value.members).toHaveLength(2);
  });
});

describe('static membership', () => {
  async function staticGroup(h: H) {
    const o = (i: string): JoinOptions => ({ groupInstanceId: i, sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 10_000 });
    const ja = watch(h.groups.joinGroup(joinRequest('g', o('ia')), 5, client('a')));
    const jb = watch(h.groups.joinGroup(joinRequest('g', o('ib')), 5, client('b')));
    await until(h, [ja, jb]);
    const a = ja.value;
    const b = jb.value;
    expect(a.memberId).toBe('ia-u1'); // static member ids start with the instance id
    await h.groups.syncGroup(syncRequest('g', a.memberId, 1, { groupInstanceId: 'ia', assignments: [[a.memberId, asg('A')], [b.memberId, asg('B')]] }), 5);
    await h.groups.syncGroup(syncRequest('g', b.memberId, 1, { groupInstanceId: 'ib' }), 5);
    expect(h.groups.stateOf('g')).toBe('Stable');
    return { a: a.memberId, b: b.memberId, o };
  }

  it('a follower rejoining with its instance id replaces its old member id without a rebalance', async () => {
    const h = setup();
    const { a, b, o } = await staticGroup(h);
    const before = h.snapshots.length;
    const r = await h.groups.joinGroup(joinRequest('g', o('ib')), 5, client('b'));
    expect(r).toMatchObject({ errorCode: E.NONE, memberId: 'ib-u3', generationId: 1, leader: a, members: [] });
    expect(h.groups.stateOf('g')).toBe('Stable');
    expect(h.snapshots).toHaveLength(before + 1);
    expect(h.snapshots.at(-1)!.metadata.members.map((m) => [m.memberId, m.assignment])).toEqual([
      [a, asg('A')],
      ['ib-u3', asg('B')],
    ]);
    // The new id keeps the assignment; the old one is fenced.
    expect((await h.groups.syncGroup(syncRequest('g', 'ib-u3', 1, { groupInstanceId: 'ib' }), 5)).assignment).toEqual(asg('B'));
    expect(h.groups.heartbeat(heartbeatRequest('g', b, 1, 'ib'), 4).errorCode).toBe(E.FENCED_INSTANCE_ID);
    expect(h.groups.heartbeat(heartbeatRequest('g', b, 1), 4).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect(h.groups.heartbeat(heartbeatRequest('g', 'ib-u3', 1, 'ib'), 4).errorCode).toBe(E.NONE);
    expect(h.rebalances).toEqual([['g', 1]]);
  });

  it('the leader rejoining at v9 is told to skip the assignment; below v9 it is named a follower', async () => {
    const h = setup();
    const { a, o } = await staticGroup(h);
    const v9 = await h.groups.joinGroup(joinRequest('g', o('ia')), 9, client('a'));
    expect(v9).toMatchObject({ errorCode: E.NONE, memberId: 'ia-u3', leader: 'ia-u3', skipAssignment: true });
    expect(v9.members).toHaveLength(2);
    const v5 = await h.groups.joinGroup(joinRequest('g', o('ia')), 5, client('a'));
    expect(v5).toMatchObject({ errorCode: E.NONE, memberId: 'ia-u4', leader: 'ia-u3', skipAssignment: false, members: [] });
    expect(h.groups.heartbeat(heartbeatRequest('g', a, 1, 'ia'), 4).errorCode).toBe(E.FENCED_INSTANCE_ID);
    expect(h.groups.stateOf('g')).toBe('Stable');
  });

  it('a static member rejoining with protocols that change the selection triggers a rebalance', async () => {
    const h = setup();
    const prefs: Record<string, string[]> = { ia: ['range', 'roundrobin'], ib: ['range', 'roundrobin'], ic: ['roundrobin', 'range'] };
    const opts = (i: string): JoinOptions => ({ groupInstanceId: i, sessionTimeoutMs: 30_000, protocols: prefs[i]!.map((name) => ({ name })) });
    const joins = Object.keys(prefs).map((i) => watch(h.groups.joinGroup(joinRequest('g', opts(i)), 5, client(i))));
    await until(h, joins);
    expect(joins[0]!.value.protocolName).toBe('range'); // two votes to one
    for (const j of joins) await h.groups.syncGroup(syncRequest('g', j.value.memberId, 1, { groupInstanceId: j.value.memberId.slice(0, 2) }), 5);
    expect(h.groups.stateOf('g')).toBe('Stable');
    // ib comes back preferring roundrobin: roundrobin would now win two to one.
    const j = watch(h.groups.joinGroup(joinRequest('g', { ...opts('ib'), protocols: [{ name: 'roundrobin' }, { name: 'range' }] }), 5, client('ib')));
    await flush();
    expect(j.done).toBe(false);
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    // The same rejoin with unchanged preferences would not have: ia comes back as before.
    const before = h.snapshots.length;
    void h.groups.joinGroup(joinRequest('g', opts('ia')), 5, client('ia'));
    expect(h.snapshots).toHaveLength(before); // no replacement write during a rebalance
  });

  it('a static member rejoining during CompletingRebalance restarts the rebalance; its parked SyncGroup is fenced', async () => {
    const h = setup();
    const o = (i: string): JoinOptions => ({ groupInstanceId: i, sessionTimeoutMs: 30_000 });
    const ja = watch(h.groups.joinGroup(joinRequest('g', o('ia')), 5, client('a')));
    const jb = watch(h.groups.joinGroup(joinRequest('g', o('ib')), 5, client('b')));
    await until(h, [ja, jb]);
    expect(h.groups.stateOf('g')).toBe('CompletingRebalance');
    const parked = watch(h.groups.syncGroup(syncRequest('g', jb.value.memberId, 1, { groupInstanceId: 'ib' }), 5));
    await flush();
    expect(parked.done).toBe(false);
    const again = watch(h.groups.joinGroup(joinRequest('g', o('ib')), 5, client('b')));
    await flush();
    expect(parked.value.errorCode).toBe(E.FENCED_INSTANCE_ID);
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    const oldSync = await h.groups.syncGroup(syncRequest('g', jb.value.memberId, 1, { groupInstanceId: 'ib' }), 5);
    expect(oldSync.errorCode).toBe(E.FENCED_INSTANCE_ID);
    void h.groups.joinGroup(joinRequest('g', { ...o('ia'), memberId: ja.value.memberId }), 5, client('a'));
    await flush();
    expect(again.value).toMatchObject({ errorCode: E.NONE, memberId: 'ib-u3', generationId: 2 });
  });

  it('a failed write of the replacement reverts to the old member id', async () => {
    let fail = false;
    const h = setup({}, {
      listener: {
        onGroupChanged: () => (fail ? Promise.reject(Object.assign(new Error('lost leadership'), { errorCode: E.NOT_LEADER_OR_FOLLOWER })) : undefined),
      },
    });
    const { b, o } = await staticGroup(h);
    fail = true;
    const r = await h.groups.joinGroup(joinRequest('g', o('ib')), 5, client('b'));
    expect(r).toMatchObject({ errorCode: E.NOT_COORDINATOR, memberId: '', generationId: 1 });
    expect(h.groups.heartbeat(heartbeatRequest('g', b, 1, 'ib'), 4).errorCode).toBe(E.NONE);
    expect(h.groups.heartbeat(heartbeatRequest('g', 'ib-u3', 1, 'ib'), 4).errorCode).toBe(E.FENCED_INSTANCE_ID);
  });

  it('static members that do not rejoin are kept through the join phase; dynamic ones are not', async () => {
    const h = setup();
    const { a, b, o } = await staticGroup(h);
    // a rejoins with new metadata; b does nothing but its session (30 s) outlives the rebalance timeout (10 s).
    const j = watch(h.groups.joinGroup(joinRequest('g', { ...o('ia'), memberId: a, protocols: [{ name: 'range', metadata: subscription(['x']) }] }), 5, client('a')));
    h.scheduler.advance(10_000);
    await flush();
    expect(j.value.members.map((m) => m.memberId).sort()).toEqual([a, b].sort());
  });
});

describe('leave', () => {
  it('v0-2: one member; the group rebalances without it; unknown members answered in the top-level code', async () => {
    const h = setup();
    const { leader, followers } = await stableGroup(h, 2);
    const r = h.groups.leaveGroup({ groupId: 'g', memberId: followers[0]!, members: [] }, 1);
    expect(r).toEqual({ throttleTimeMs: 0, errorCode: E.NONE, members: [] });
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    expect(h.groups.leaveGroup({ groupId: 'g', memberId: 'ghost', members: [] }, 2).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect(h.groups.leaveGroup({ groupId: 'nope', memberId: 'ghost', members: [] }, 0).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect(h.groups.leaveGroup({ groupId: '', memberId: 'ghost', members: [] }, 0).errorCode).toBe(E.INVALID_GROUP_ID);
    // The leader rejoins: the join phase completes without the leaver.
    const j = await h.groups.joinGroup(joinRequest('g', { memberId: leader }), 3, client('a'));
    expect(j.members.map((m) => m.memberId)).toEqual([leader]);
  });

  it('v3+: a batch with per-member errors, static members by instance id alone', async () => {
    const h = setup();
    const o = (i: string): JoinOptions => ({ groupInstanceId: i, sessionTimeoutMs: 30_000 });
    const joins = [watch(h.groups.joinGroup(joinRequest('g', o('ia')), 5, client('a'))), watch(h.groups.joinGroup(joinRequest('g', o('ib')), 5, client('b'))), watch(h.groups.joinGroup(joinRequest('g'), 3, client('c')))];
    await until(h, joins);
    const [a, b, c] = joins.map((j) => j.value.memberId);
    const r = h.groups.leaveGroup(
      {
        groupId: 'g',
        memberId: '',
        members: [
          { memberId: '', groupInstanceId: 'ia', reason: null },
          { memberId: 'stale', groupInstanceId: 'ib', reason: null },
          { memberId: '', groupInstanceId: 'unknown', reason: null },
          { memberId: c!, groupInstanceId: null, reason: 'bye' },
        ],
      },
      5,
    );
    expect(r.errorCode).toBe(E.NONE);
    expect(r.members).toEqual([
      { memberId: '', groupInstanceId: 'ia', errorCode: E.NONE },
      { memberId: 'stale', groupInstanceId: 'ib', errorCode: E.FENCED_INSTANCE_ID },
      { memberId: '', groupInstanceId: 'unknown', errorCode: E.UNKNOWN_MEMBER_ID },
      { memberId: c, groupInstanceId: null, errorCode: E.NONE },
    ]);
    expect(h.groups.heartbeat(heartbeatRequest('g', a!, 1, 'ia'), 4).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    // The last member leaves: the group is Empty in a new generation, and that is persisted.
    const before = h.snapshots.length;
    expect(h.groups.leaveGroup({ groupId: 'g', memberId: '', members: [{ memberId: b!, groupInstanceId: 'ib', reason: null }] }, 4).members[0]!.errorCode).toBe(E.NONE);
    h.scheduler.advance(0);
    expect(h.groups.stateOf('g')).toBe('Empty');
    expect(h.snapshots).toHaveLength(before + 1);
    expect(h.snapshots.at(-1)!.metadata).toMatchObject({ generation: 2, protocol: null, leader: null, members: [], protocolType: 'consumer' });
  });

  it('a pending member id can leave', async () => {
    const h = setup();
    const p = await h.groups.joinGroup(joinRequest('g'), 5, client('c'));
    const r = h.groups.leaveGroup({ groupId: 'g', memberId: '', members: [{ memberId: p.memberId, groupInstanceId: null, reason: null }] }, 3);
    expect(r.members[0]!.errorCode).toBe(E.NONE);
    expect(h.groups.memberCount()).toBe(0);
  });

  it('a member leaving during the join phase gets its parked JoinGroup answered UNKNOWN_MEMBER_ID', async () => {
    const h = setup();
    const j = watch(h.groups.joinGroup(joinRequest('g'), 3, client('a')));
    const k = watch(h.groups.joinGroup(joinRequest('g'), 3, client('b')));
    await flush();
    h.groups.leaveGroup({ groupId: 'g', memberId: 'a-u1', members: [] }, 0);
    await flush();
    expect(j.value).toMatchObject({ errorCode: E.UNKNOWN_MEMBER_ID, memberId: '' });
    await until(h, [k]);
    expect(k.value.members.map((m) => m.memberId)).toEqual(['b-u2']);
  });
});

describe('protocols', () => {
  it('selects the protocol most members prefer among those all support', async () => {
    const h = setup();
    const prefs = [['range', 'roundrobin'], ['roundrobin', 'range'], ['range', 'roundrobin', 'sticky']];
    const joins = prefs.map((p, i) => watch(h.groups.joinGroup(joinRequest('g', { protocols: p.map((name) => ({ name })) }), 3, client(`c${i}`))));
    await until(h, joins);
    expect(joins.map((j) => j.value.protocolName)).toEqual(['range', 'range', 'range']);
  });

  it('a tied vote goes to the protocol voted first in join order', async () => {
    const h = setup();
    const prefs = [['roundrobin', 'range'], ['range', 'roundrobin']];
    const joins = prefs.map((p, i) => watch(h.groups.joinGroup(joinRequest('g', { protocols: p.map((name) => ({ name })) }), 3, client(`c${i}`))));
    await until(h, joins);
    expect(joins[1]!.value.protocolName).toBe('roundrobin');
  });

  it('a protocol only some members support cannot win', async () => {
    const h = setup();
    const prefs = [['cooperative-sticky', 'range'], ['cooperative-sticky', 'range'], ['range']];
    const joins = prefs.map((p, i) => watch(h.groups.joinGroup(joinRequest('g', { protocols: p.map((name) => ({ name })) }), 3, client(`c${i}`))));
    await until(h, joins);
    expect(joins[0]!.value.protocolName).toBe('range');
  });

  it('INCONSISTENT_GROUP_PROTOCOL: no common protocol, another protocol type, or none at all', async () => {
    const h = setup();
    await stableGroup(h, 1);
    expect((await h.groups.joinGroup(joinRequest('g', { protocols: [{ name: 'sticky' }] }), 3, client('x'))).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await h.groups.joinGroup(joinRequest('g', { protocolType: 'connect' }), 3, client('x'))).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await h.groups.joinGroup(joinRequest('new', { protocols: [] }), 3, client('x'))).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await h.groups.joinGroup(joinRequest('new2', { protocolType: '' }), 3, client('x'))).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
  });

  it('SyncGroup v5 checks the protocol type and name', async () => {
    const h = setup();
    const j = watch(h.groups.joinGroup(joinRequest('g'), 3, client('a')));
    await until(h, [j]);
    const id = j.value.memberId;
    expect((await h.groups.syncGroup(syncRequest('g', id, 1, { protocolType: null }), 5)).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await h.groups.syncGroup(syncRequest('g', id, 1, { protocolName: 'roundrobin' }), 5)).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    expect((await h.groups.syncGroup(syncRequest('g', id, 1, { protocolType: 'connect' }), 5)).errorCode).toBe(E.INCONSISTENT_GROUP_PROTOCOL);
    // Below v5 the fields are absent (null) and not checked.
    expect((await h.groups.syncGroup(syncRequest('g', id, 1, { protocolType: null, protocolName: null }), 4)).errorCode).toBe(E.NONE);
  });
});

describe('sync errors', () => {
  it('answers by state and identity', async () => {
    const h = setup();
    expect((await h.groups.syncGroup(syncRequest('', 'm', 1), 3)).errorCode).toBe(E.INVALID_GROUP_ID);
    expect((await h.groups.syncGroup(syncRequest('nope', 'm', 1), 3)).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    const { leader, gen } = await stableGroup(h, 2);
    expect((await h.groups.syncGroup(syncRequest('g', 'ghost', gen), 3)).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect((await h.groups.syncGroup(syncRequest('g', leader, gen + 5), 3)).errorCode).toBe(E.ILLEGAL_GENERATION);
    void h.groups.joinGroup(joinRequest('g', { memberId: leader }), 3, client('a')); // leader rejoins: rebalance
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    expect((await h.groups.syncGroup(syncRequest('g', leader, gen), 3)).errorCode).toBe(E.REBALANCE_IN_PROGRESS);
  });

  it('a SyncGroup parked when a rebalance begins is answered REBALANCE_IN_PROGRESS', async () => {
    const h = setup();
    const joins = ['a', 'b'].map((c) => watch(h.groups.joinGroup(joinRequest('g'), 3, client(c))));
    await until(h, joins);
    const follower = joins[1]!.value.memberId;
    const s = watch(h.groups.syncGroup(syncRequest('g', follower, 1), 3));
    await flush();
    expect(s.done).toBe(false);
    void h.groups.joinGroup(joinRequest('g'), 3, client('c'));
    await flush();
    expect(s.value).toMatchObject({ errorCode: E.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
  });

  it('SyncGroup answers wait for the write; a rebalance begun meanwhile discards the assignment', async () => {
    const writes: (() => void)[] = [];
    const h = setup({}, { listener: { onGroupChanged: () => new Promise<void>((res) => void writes.push(res)) } });
    const j = watch(h.groups.joinGroup(joinRequest('g'), 3, client('a')));
    await until(h, [j]);
    const id = j.value.memberId;
    const s1 = watch(h.groups.syncGroup(syncRequest('g', id, 1, { assignments: [[id, asg('A')]] }), 3));
    await flush();
    expect(s1.done).toBe(false);
    writes.shift()!();
    await flush();
    expect(s1.value.assignment).toEqual(asg('A'));
    expect(h.groups.stateOf('g')).toBe('Stable');

    // Generation 2: the leader's assignment is being written when a newcomer arrives.
    const j2 = watch(h.groups.joinGroup(joinRequest('g', { memberId: id }), 3, client('a')));
    await flush();
    const s2 = watch(h.groups.syncGroup(syncRequest('g', id, j2.value.generationId, { assignments: [[id, asg('A2')]] }), 3));
    void h.groups.joinGroup(joinRequest('g'), 3, client('b'));
    await flush();
    expect(s2.value.errorCode).toBe(E.REBALANCE_IN_PROGRESS);
    writes.shift()!(); // the write lands after the fact: nothing changes
    await flush();
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    expect(h.rebalances).toEqual([['g', 1]]);
  });

  it('a failed write of the assignment fails the SyncGroups and restarts the rebalance', async () => {
    let reject: (e: Error) => void = () => {};
    const h = setup({}, { listener: { onGroupChanged: () => new Promise<void>((_, rej) => (reject = rej)) } });
    const j = watch(h.groups.joinGroup(joinRequest('g'), 3, client('a')));
    await until(h, [j]);
    const s = watch(h.groups.syncGroup(syncRequest('g', j.value.memberId, 1, { assignments: [[j.value.memberId, asg('A')]] }), 3));
    await flush();
    expect(s.done).toBe(false); // waits for the write
    reject(new Error('disk full'));
    await flush();
    expect(s.value.errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE);
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    expect(h.rebalances).toEqual([]);
  });
});

describe('limits', () => {
  it('group.max.size: GROUP_MAX_SIZE_REACHED for a member beyond it', async () => {
    const h = setup({ maxGroupSize: 2 });
    await stableGroup(h, 2);
    const r = await h.groups.joinGroup(joinRequest('g'), 3, client('third'));
    expect(r).toMatchObject({ errorCode: E.GROUP_MAX_SIZE_REACHED, memberId: '' });
    expect(h.groups.stateOf('g')).toBe('Stable');
  });

  it('group.max.size during a rebalance: the late rejoiner is refused and dropped', async () => {
    const h = setup({ maxGroupSize: 1 });
    const j = watch(h.groups.joinGroup(joinRequest('g'), 3, client('a')));
    const k = watch(h.groups.joinGroup(joinRequest('g'), 3, client('b')));
    await flush();
    expect(j.done).toBe(false);
    expect(k.value.errorCode).toBe(E.GROUP_MAX_SIZE_REACHED);
  });

  it('session timeout outside group.min/max.session.timeout.ms: INVALID_SESSION_TIMEOUT', async () => {
    const h = setup({ minSessionTimeoutMs: 6000, maxSessionTimeoutMs: 60_000 });
    expect((await h.groups.joinGroup(joinRequest('g', { sessionTimeoutMs: 5999, memberId: 'm' }), 5, client('a')))).toMatchObject({ errorCode: E.INVALID_SESSION_TIMEOUT, memberId: 'm' });
    expect((await h.groups.joinGroup(joinRequest('g', { sessionTimeoutMs: 60_001 }), 5, client('a'))).errorCode).toBe(E.INVALID_SESSION_TIMEOUT);
    expect((await h.groups.joinGroup(joinRequest('g', { sessionTimeoutMs: 60_000 }), 5, client('a'))).errorCode).toBe(E.MEMBER_ID_REQUIRED);
    expect(h.groups.groupCount()).toBe(1);
  });

  it('INVALID_GROUP_ID for an empty group id; UNKNOWN_MEMBER_ID for a member id in an unknown group', async () => {
    const h = setup();
    expect((await h.groups.joinGroup(joinRequest(''), 5, client('a'))).errorCode).toBe(E.INVALID_GROUP_ID);
    expect((await h.groups.joinGroup(joinRequest('g', { memberId: 'x' }), 5, client('a'))).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    expect(h.groups.groupCount()).toBe(0);
  });

  it('maxGroups and membersMax: COORDINATOR_NOT_AVAILABLE, retriable', async () => {
    const h = setup({ maxGroups: 2 }, { membersMax: 3 });
    expect((await h.groups.joinGroup(joinRequest('g1'), 5, client('a'))).errorCode).toBe(E.MEMBER_ID_REQUIRED);
    expect((await h.groups.joinGroup(joinRequest('g2'), 5, client('a'))).errorCode).toBe(E.MEMBER_ID_REQUIRED);
    expect((await h.groups.joinGroup(joinRequest('g3'), 5, client('a'))).errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE);
    expect(h.groups.validateOffsetCommit('g3', '', -1, null, 8)).toBe(E.COORDINATOR_NOT_AVAILABLE);
    expect((await h.groups.joinGroup(joinRequest('g1'), 5, client('a'))).errorCode).toBe(E.MEMBER_ID_REQUIRED);
    expect(h.groups.memberCount()).toBe(3);
    expect((await h.groups.joinGroup(joinRequest('g2'), 5, client('a'))).errorCode).toBe(E.COORDINATOR_NOT_AVAILABLE);
    expect(h.groups.groupCount()).toBe(2);
  });
});

describe('delete, describe, list', () => {
  it('DeleteGroups: NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, and an Empty group deleted', async () => {
    const h = setup();
    await stableGroup(h, 1);
    expect(h.groups.validateOffsetCommit('simple', '', -1, null, 8)).toBe(E.NONE); // creates a simple group
    const r = await h.groups.deleteGroups(['g', 'missing', 'simple', 'simple']);
    expect(r).toEqual([
      { groupId: 'g', errorCode: E.NON_EMPTY_GROUP },
      { groupId: 'missing', errorCode: E.GROUP_ID_NOT_FOUND },
      { groupId: 'simple', errorCode: E.NONE },
    ]);
    expect(h.deleted).toEqual(['simple']);
    expect(h.groups.has('simple')).toBe(false);
    expect(h.groups.countByState()).toMatchObject({ Stable: 1, Empty: 0, Dead: 0 });
  });

  it('DeleteGroups: a failed tombstone write is answered with the mapped error', async () => {
    const h = setup({}, { listener: { onGroupDeleted: () => Promise.reject(Object.assign(new Error('x'), { errorCode: E.REQUEST_TIMED_OUT })) } });
    h.groups.getOrCreateSimpleGroup('s');
    expect(await h.groups.deleteGroups(['s'])).toEqual([{ groupId: 's', errorCode: E.COORDINATOR_NOT_AVAILABLE }]);
  });

  it('DescribeGroups: metadata and protocol in Stable only; unknown groups Dead, GROUP_ID_NOT_FOUND from v6', async () => {
    const h = setup();
    const { leader, followers } = await stableGroup(h, 2);
    const [d] = h.groups.describeGroups(['g'], 5);
    expect(d).toMatchObject({ errorCode: E.NONE, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(d!.members.map((m) => [m.memberId, m.clientId, m.clientHost, m.memberMetadata, m.memberAssignment])).toEqual([
      [leader, 'c0', '/127.0.0.1', subscription(['t']), asg(`a-${leader}`)],
      [followers[0], 'c1', '/127.0.0.1', subscription(['t']), asg(`a-${followers[0]}`)],
    ]);
    void h.groups.joinGroup(joinRequest('g', { memberId: leader }), 3, client('c0'));
    const [p] = h.groups.describeGroups(['g'], 5);
    expect(p).toMatchObject({ groupState: 'PreparingRebalance', protocolData: '' });
    expect(p!.members.every((m) => m.memberMetadata.length === 0)).toBe(true);

    expect(h.groups.describeGroup('nope', 5)).toMatchObject({ errorCode: E.NONE, groupState: 'Dead', errorMessage: null, members: [] });
    expect(h.groups.describeGroup('nope', 6)).toMatchObject({ errorCode: E.GROUP_ID_NOT_FOUND, groupState: 'Dead', errorMessage: 'Group nope not found.' });
  });

  it('ListGroups: filters by state (v4+) and type (v5+), reports the type', async () => {
    const h = setup();
    await stableGroup(h, 1);
    h.groups.getOrCreateSimpleGroup('simple');
    const req = (statesFilter: string[], typesFilter: string[]): G.ListGroupsRequest => ({ statesFilter, typesFilter });
    expect(h.groups.listGroups(req([], []), 5)).toEqual([
      { groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' },
      { groupId: 'simple', protocolType: '', groupState: 'Empty', groupType: 'classic' },
    ]);
    expect(h.groups.listGroups(req(['stable'], []), 5).map((g) => g.groupId)).toEqual(['g']);
    expect(h.groups.listGroups(req([' EMPTY '], ['Classic']), 5).map((g) => g.groupId)).toEqual(['simple']);
    expect(h.groups.listGroups(req([], ['consumer']), 5)).toEqual([]);
    expect(h.groups.listGroups(req(['stable'], ['consumer']), 3)).toEqual([
      { groupId: 'g', protocolType: 'consumer', groupState: '', groupType: '' },
      { groupId: 'simple', protocolType: '', groupState: '', groupType: '' },
    ]);
  });
});

describe('offsets hooks', () => {
  it('validateOffsetCommit as Kafka decides it', async () => {
    const h = setup();
    expect(h.groups.validateOffsetCommit('nope', 'm', 3, null, 8)).toBe(E.ILLEGAL_GENERATION);
    expect(h.groups.validateOffsetCommit('nope', 'm', 3, null, 9)).toBe(E.GROUP_ID_NOT_FOUND);
    expect(h.groups.isEmptyOrAbsent('simple')).toBe(true);
    expect(h.groups.validateOffsetCommit('simple', '', -1, null, 2)).toBe(E.NONE);
    expect(h.groups.stateOf('simple')).toBe('Empty');

    const joins = ['a', 'b'].map((c) => watch(h.groups.joinGroup(joinRequest('g'), 3, client(c))));
    await until(h, joins);
    const [a] = joins.map((j) => j.value.memberId);
    expect(h.groups.isEmptyOrAbsent('g')).toBe(false);
    expect(h.groups.validateOffsetCommit('g', a!, 1, null)).toBe(E.REBALANCE_IN_PROGRESS); // CompletingRebalance
    await h.groups.syncGroup(syncRequest('g', a!, 1), 3);
    expect(h.groups.validateOffsetCommit('g', a!, 1, null)).toBe(E.NONE);
    expect(h.groups.validateOffsetCommit('g', a!, 0, null)).toBe(E.ILLEGAL_GENERATION);
    expect(h.groups.validateOffsetCommit('g', 'ghost', 1, null)).toBe(E.UNKNOWN_MEMBER_ID);
    expect(h.groups.validateOffsetCommit('g', '', -1, null)).toBe(E.UNKNOWN_MEMBER_ID); // simple commit to a live group
  });

  it('knows the subscribed topics of consumer groups', async () => {
    const h = setup();
    const joins = [['t1'], ['t2', 't3']].map((topics, i) =>
      watch(h.groups.joinGroup(joinRequest('g', { protocols: [{ name: 'range', metadata: subscription(topics) }] }), 3, client(`c${i}`))),
    );
    await until(h, joins);
    expect(h.groups.isSubscribedToTopic('g', 't3')).toBe(true);
    expect(h.groups.isSubscribedToTopic('g', 'other')).toBe(false);
    expect(h.groups.validateOffsetDelete('g')).toBe(E.NONE); // consumer groups may delete offsets of other topics
    expect(h.groups.groupFacts('g')).toMatchObject({ protocolType: 'consumer', state: 'CompletingRebalance' });
    expect(h.groups.validateOffsetDelete('missing')).toBe(E.GROUP_ID_NOT_FOUND);
  });

  it('OffsetDelete on a non-empty group of another protocol type: NON_EMPTY_GROUP', async () => {
    const h = setup();
    const j = watch(h.groups.joinGroup(joinRequest('c', { protocolType: 'connect', protocols: [{ name: 'v1', metadata: Buffer.from('x') }] }), 3, client('w')));
    await until(h, [j]);
    expect(h.groups.validateOffsetDelete('c')).toBe(E.NON_EMPTY_GROUP);
    expect(h.groups.isSubscribedToTopic('c', 'any')).toBe(false);
  });
});

describe('restore and metrics', () => {
  it('a restored group is Stable with fresh session timers, and serves its members', async () => {
    const h = setup();
    h.groups.restore({
      groupId: 'g',
      metadata: {
        protocolType: 'consumer',
        generation: 7,
        protocol: 'range',
        leader: 'm1',
        currentStateTimestampMs: 123n,
        members: ['m1', 'm2'].map((id) => ({
          memberId: id,
          groupInstanceId: id === 'm2' ? 'i2' : null,
          clientId: 'c',
          clientHost: '/10.0.0.1',
          rebalanceTimeoutMs: -1,
          sessionTimeoutMs: 10_000,
          subscription: subscription(['t']),
          assignment: asg(`a-${id}`),
        })),
      },
    });
    expect(h.groups.stateOf('g')).toBe('Stable');
    expect(h.groups.memberCount()).toBe(2);
    expect((await h.groups.syncGroup(syncRequest('g', 'm2', 7, { groupInstanceId: 'i2' }), 3)).assignment).toEqual(asg('a-m2'));
    h.scheduler.advance(9000);
    expect(h.groups.heartbeat(heartbeatRequest('g', 'm1', 7), 3).errorCode).toBe(E.NONE);
    h.scheduler.advance(1000); // m2 has not heartbeated since the load: its session ran out
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    const j = await h.groups.joinGroup(joinRequest('g', { memberId: 'm1' }), 3, client('c'));
    // m2 is static: it stays until its session ends, which it did: the join completes with m1 only.
    expect(j).toMatchObject({ generationId: 8, leader: 'm1' });
    expect(j.members.map((m) => m.memberId)).toEqual(['m1']);
  });

  it('restoring an over-capacity group starts a rebalance', () => {
    const h = setup({ maxGroupSize: 1 });
    const member = (id: string) => ({ memberId: id, groupInstanceId: null, clientId: 'c', clientHost: 'h', rebalanceTimeoutMs: 5000, sessionTimeoutMs: 10_000, subscription: subscription(['t']), assignment: asg('') });
    h.groups.restore({ groupId: 'g', metadata: { protocolType: 'consumer', generation: 1, protocol: 'range', leader: 'a', currentStateTimestampMs: -1n, members: [member('a'), member('b')] } });
    expect(h.groups.stateOf('g')).toBe('PreparingRebalance');
    h.groups.restoreTombstone('g');
    expect(h.groups.has('g')).toBe(false);
    expect(h.groups.memberCount()).toBe(0);
    expect(h.scheduler.pendingTimers()).toBe(0);
  });

  it('counts groups by state and completed rebalances; close answers parked requests NOT_COORDINATOR', async () => {
    const h = setup();
    await stableGroup(h, 2, {}, 'a');
    h.groups.getOrCreateSimpleGroup('s');
    const j = watch(h.groups.joinGroup(joinRequest('p'), 3, client('x')));
    expect(h.groups.countByState()).toEqual({ Empty: 1, PreparingRebalance: 1, CompletingRebalance: 0, Stable: 1, Dead: 0 });
    expect(h.rebalances).toEqual([['a', 1]]);
    h.groups.close();
    await flush();
    expect(j.value.errorCode).toBe(E.NOT_COORDINATOR);
    expect(h.groups.countByState()).toEqual({ Empty: 0, PreparingRebalance: 0, CompletingRebalance: 0, Stable: 0, Dead: 0 });
    expect(h.groups.memberCount()).toBe(0);
    expect(h.scheduler.pendingTimers()).toBe(0);
  });
});

describe('responses fit every version', () => {
  const encodes = (fn: (w: Writer) => void) => () => fn(new Writer());

  it('JoinGroup answers encode at v0-9 (protocol name "" before v7, null after)', async () => {
    for (let v = 0; v <= 9; v++) {
      const h = setup();
      const err = await h.groups.joinGroup(joinRequest(''), v, client('a'));
      expect(err.protocolName).toBe(v < 7 ? '' : null);
      expect(encodes((w) => encodeJoinGroupResponse(w, err, v))).not.toThrow();
      let memberId = '';
      if (v === 4) {
        const required = await h.groups.joinGroup(joinRequest('g'), v, client('a'));
        expect(required.errorCode).toBe(E.MEMBER_ID_REQUIRED);
        expect(encodes((w) => encodeJoinGroupResponse(w, required, v))).not.toThrow();
        memberId = required.memberId;
      }
      const j = watch(h.groups.joinGroup(joinRequest('g', { memberId, groupInstanceId: v >= 5 ? 'i' : null }), v, client('a')));
      await until(h, [j]);
      expect(j.value.errorCode).toBe(E.NONE);
      expect(encodes((w) => encodeJoinGroupResponse(w, j.value, v))).not.toThrow();
      if (v <= 5) {
        const s = await h.groups.syncGroup(syncRequest('g', j.value.memberId, 1, { groupInstanceId: v >= 5 ? 'i' : null }), v);
        expect(s.errorCode).toBe(E.NONE);
        expect(encodes((w) => encodeSyncGroupResponse(w, s, v))).not.toThrow();
      }
    }
  });

  it('LeaveGroup, DescribeGroups and ListGroups answers encode at every version', async () => {
    const h = setup();
    await stableGroup(h, 1);
    for (let v = 0; v <= 5; v++) {
      const r = h.groups.leaveGroup({ groupId: 'g', memberId: 'ghost', members: [{ memberId: 'ghost', groupInstanceId: null, reason: null }] }, v);
      expect(encodes((w) => encodeLeaveGroupResponse(w, r, v))).not.toThrow();
      const groups = h.groups.listGroups({ statesFilter: [], typesFilter: [] }, v);
      expect(encodes((w) => encodeListGroupsResponse(w, { throttleTimeMs: 0, errorCode: 0, groups }, v))).not.toThrow();
    }
    for (let v = 0; v <= 6; v++) {
      const groups = h.groups.describeGroups(['g', 'nope'], v);
      expect(encodes((w) => encodeDescribeGroupsResponse(w, { throttleTimeMs: 0, groups }, v))).not.toThrow();
    }
  });
});
