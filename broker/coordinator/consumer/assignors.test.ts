import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Assignment, assignmentFromList, assignmentSize, assignmentToList } from './assignment.js';
import { type AssignorInput, type AssignorMember, type GroupAssignment, rangeAssignor, uniformAssignor } from './assignors.js';

const TOPICS = ['tA', 'tB', 'tC', 'tD'];

interface Scenario {
  counts: Map<string, number>;
  members: { memberId: string; instanceId: string | null; topics: string[] }[];
}

const countsArb = fc
  .array(fc.integer({ min: 1, max: 12 }), { minLength: TOPICS.length, maxLength: TOPICS.length })
  .map((ns) => new Map(TOPICS.map((t, i) => [t, ns[i]!])));

function scenarioArb(homogeneous: boolean): fc.Arbitrary<Scenario> {
  return fc.record({
    counts: countsArb,
    ids: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }),
    subs: fc.array(fc.subarray(TOPICS, { minLength: 1 }), { minLength: 8, maxLength: 8 }),
    statics: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  }).map(({ counts, ids, subs, statics }) => ({
    counts,
    members: ids.map((memberId, i) => ({
      memberId,
      instanceId: statics[i] ? `inst-${memberId}` : null,
      // Subscriptions may name a topic that does not exist ('tZ'): it must be skipped.
      topics: homogeneous ? [...subs[0]!, 'tZ'] : subs[i]!,
    })),
  }));
}

function input(s: Scenario, previous: GroupAssignment = new Map()): AssignorInput {
  const members: AssignorMember[] = s.members.map((m) => ({
    memberId: m.memberId,
    instanceId: m.instanceId,
    subscribedTopicIds: new Set(m.topics),
    previous: previous.get(m.memberId) ?? new Map(),
  }));
  return { members, partitionCounts: s.counts };
}

function count(a: Assignment): number {
  return assignmentSize(a);
}

/** Every partition of a subscribed topic exactly once, only to a subscriber; every member present. */
function checkComplete(s: Scenario, out: GroupAssignment): void {
  expect([...out.keys()].sort()).toEqual(s.members.map((m) => m.memberId).sort());
  const seen = new Set<string>();
  for (const m of s.members) {
    for (const [t, parts] of out.get(m.memberId)!) {
      expect(m.topics).toContain(t);
      for (const p of parts) {
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(s.counts.get(t)!);
        const key = `${t}-${p}`;
        expect(seen.has(key)).toBe(false);
        seen.add(key);
      }
    }
  }
  for (const t of TOPICS) {
    if (!s.members.some((m) => m.topics.includes(t))) continue;
    for (let p = 0; p < s.counts.get(t)!; p++) expect(seen.has(`${t}-${p}`)).toBe(true);
  }
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A realistic previous target: what the assignor gave an earlier membership over other counts. */
const previousArb = (s: Scenario): fc.Arbitrary<GroupAssignment> =>
  fc.record({ keep: fc.subarray(s.members.map((m) => m.memberId)), counts: countsArb }).map(({ keep, counts }) => {
    const earlier: Scenario = { counts, members: s.members.filter((m) => keep.includes(m.memberId)) };
    return uniformAssignor.assign(input(earlier));
  });

describe('uniform assignor', () => {
  it('assigns everything, balanced to within one, when subscriptions are the same', () => {
    fc.assert(
      fc.property(scenarioArb(true).chain((s) => fc.tuple(fc.constant(s), previousArb(s))), ([s, prev]) => {
        const out = uniformAssignor.assign(input(s, prev));
        checkComplete(s, out);
        const counts = s.members.map((m) => count(out.get(m.memberId)!));
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('leaves no partition that could move to an eligible member holding two fewer, when subscriptions differ', () => {
    fc.assert(
      fc.property(scenarioArb(false).chain((s) => fc.tuple(fc.constant(s), previousArb(s))), ([s, prev]) => {
        const out = uniformAssignor.assign(input(s, prev));
        checkComplete(s, out);
        for (const a of s.members) {
          for (const t of out.get(a.memberId)!.keys()) {
            for (const b of s.members) {
              if (b.topics.includes(t)) {
                expect(count(out.get(a.memberId)!)).toBeLessThanOrEqual(count(out.get(b.memberId)!) + 1);
              }
            }
          }
        }
      }),
    );
  });

  it('is sticky: a balanced assignment given back as the previous one comes back unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(scenarioArb(true), scenarioArb(false)), (s) => {
        const first = uniformAssignor.assign(input(s));
        const second = uniformAssignor.assign(input(s, first));
        for (const m of s.members) expect(assignmentToList(second.get(m.memberId)!)).toEqual(assignmentToList(first.get(m.memberId)!));
      }),
    );
  });

  it('moves only the surplus: every member keeps what balance allows, and no assignment keeps more', () => {
    fc.assert(
      fc.property(scenarioArb(true).chain((s) => fc.tuple(fc.constant(s), previousArb(s))), ([s, prev]) => {
        const out = uniformAssignor.assign(input(s, prev));
        const topics = new Set(s.members[0]!.topics);
        let total = 0;
        for (const t of topics) total += s.counts.get(t) ?? 0;
        const minQuota = Math.floor(total / s.members.length);
        const extras = total % s.members.length;
        let keptTotal = 0;
        let bound = 0;
        let overMin = 0;
        for (const m of s.members) {
          const before = prev.get(m.memberId) ?? new Map();
          let stillValid = 0;
          let kept = 0;
          for (const [t, parts] of before) {
            for (const p of parts) {
              if (!topics.has(t) || p >= (s.counts.get(t) ?? 0)) continue;
              stillValid++;
              if (out.get(m.memberId)!.get(t)?.has(p)) kept++;
            }
          }
          expect(kept).toBeGreaterThanOrEqual(Math.min(stillValid, minQuota));
          keptTotal += kept;
          bound += Math.min(stillValid, minQuota);
          if (stillValid > minQuota) overMin++;
        }
        // The extra slots go to members that can fill them from what they hold: the most kept.
        expect(keptTotal).toBe(bound + Math.min(extras, overMin));
      }),
    );
  });

  it('gives the same answer whatever order the members come in', () => {
    fc.assert(
      fc.property(fc.oneof(scenarioArb(true), scenarioArb(false)), fc.integer({ min: 1, max: 1_000_000 }), (s, seed) => {
        const a = uniformAssignor.assign(input(s));
        const b = uniformAssignor.assign(input({ ...s, members: shuffled(s.members, seed) }));
        for (const m of s.members) expect(assignmentToList(b.get(m.memberId)!)).toEqual(assignmentToList(a.get(m.memberId)!));
      }),
    );
  });

  it('keeps a duplicated previous partition with one member only and drops partitions that no longer exist', () => {
    const s: Scenario = {
      counts: new Map([['tA', 2]]),
      members: [
        { memberId: 'a', instanceId: null, topics: ['tA'] },
        { memberId: 'b', instanceId: null, topics: ['tA'] },
      ],
    };
    const prev: GroupAssignment = new Map([
      ['a', assignmentFromList([{ topicId: 'tA', partitions: [1, 5] }])],
      ['b', assignmentFromList([{ topicId: 'tA', partitions: [1] }])],
    ]);
    const out = uniformAssignor.assign(input(s, prev));
    checkComplete(s, out);
    expect(assignmentToList(out.get('a')!)).toEqual([{ topicId: 'tA', partitions: [1] }]);
    expect(assignmentToList(out.get('b')!)).toEqual([{ topicId: 'tA', partitions: [0] }]);
  });

  it('hands a new member exactly its share, taken from the most loaded', () => {
    const s: Scenario = {
      counts: new Map([['tA', 6]]),
      members: ['a', 'b', 'c'].map((memberId) => ({ memberId, instanceId: null, topics: ['tA'] })),
    };
    const prev: GroupAssignment = new Map([
      ['a', assignmentFromList([{ topicId: 'tA', partitions: [0, 1, 2] }])],
      ['b', assignmentFromList([{ topicId: 'tA', partitions: [3, 4, 5] }])],
    ]);
    const out = uniformAssignor.assign(input(s, prev));
    expect(assignmentToList(out.get('a')!)).toEqual([{ topicId: 'tA', partitions: [0, 1] }]);
    expect(assignmentToList(out.get('b')!)).toEqual([{ topicId: 'tA', partitions: [3, 4] }]);
    expect(assignmentToList(out.get('c')!)).toEqual([{ topicId: 'tA', partitions: [2, 5] }]);
  });
});

describe('range assignor', () => {
  it('gives each subscriber one contiguous range per topic, the earlier ones the larger', () => {
    fc.assert(
      fc.property(fc.oneof(scenarioArb(true), scenarioArb(false)), (s) => {
        const out = rangeAssignor.assign(input(s));
        checkComplete(s, out);
        const order = [...s.members].sort((x, y) => {
          if (x.instanceId !== null && y.instanceId !== null) return x.instanceId < y.instanceId ? -1 : 1;
          if (x.instanceId !== null) return -1;
          if (y.instanceId !== null) return 1;
          return x.memberId < y.memberId ? -1 : 1;
        });
        for (const t of TOPICS) {
          const subs = order.filter((m) => m.topics.includes(t));
          let next = 0;
          let lastSize = Infinity;
          for (const m of subs) {
            const parts = [...(out.get(m.memberId)!.get(t) ?? [])].sort((x, y) => x - y);
            if (parts.length > 0) expect(parts[0]).toBe(next);
            parts.forEach((p, i) => expect(p).toBe(next + i));
            next += parts.length;
            expect(parts.length).toBeLessThanOrEqual(lastSize);
            lastSize = parts.length;
          }
          if (subs.length > 0) {
            const sizes = subs.map((m) => out.get(m.memberId)!.get(t)?.size ?? 0);
            expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
          }
        }
      }),
    );
  });

  it('co-partitions when members share subscriptions and topics share partition counts', () => {
    fc.assert(
      fc.property(scenarioArb(true), fc.integer({ min: 1, max: 12 }), (s, n) => {
        const counts = new Map(TOPICS.map((t) => [t, n]));
        const out = rangeAssignor.assign(input({ ...s, counts }));
        for (const m of s.members) {
          const sets = s.members[0]!.topics
            .filter((t) => counts.has(t))
            .map((t) => [...(out.get(m.memberId)!.get(t) ?? [])].sort((x, y) => x - y).join(','));
          expect(new Set(sets).size).toBe(1);
        }
      }),
    );
  });

  it('matches Kafka’s example: two members, two topics of three partitions', () => {
    const s: Scenario = {
      counts: new Map([['tA', 3], ['tB', 3]]),
      members: [
        { memberId: 'm1', instanceId: null, topics: ['tA', 'tB'] },
        { memberId: 'm0', instanceId: null, topics: ['tA', 'tB'] },
      ],
    };
    const out = rangeAssignor.assign(input(s));
    expect(assignmentToList(out.get('m0')!)).toEqual([
      { topicId: 'tA', partitions: [0, 1] },
      { topicId: 'tB', partitions: [0, 1] },
    ]);
    expect(assignmentToList(out.get('m1')!)).toEqual([
      { topicId: 'tA', partitions: [2] },
      { topicId: 'tB', partitions: [2] },
    ]);
  });

  it('orders static members first, by instance id', () => {
    const s: Scenario = {
      counts: new Map([['tA', 3]]),
      members: [
        { memberId: 'a', instanceId: null, topics: ['tA'] },
        { memberId: 'z', instanceId: 'i1', topics: ['tA'] },
        { memberId: 'y', instanceId: 'i0', topics: ['tA'] },
      ],
    };
    const out = rangeAssignor.assign(input(s));
    expect(assignmentToList(out.get('y')!)).toEqual([{ topicId: 'tA', partitions: [0] }]);
    expect(assignmentToList(out.get('z')!)).toEqual([{ topicId: 'tA', partitions: [1] }]);
    expect(assignmentToList(out.get('a')!)).toEqual([{ topicId: 'tA', partitions: [2] }]);
  });
});
