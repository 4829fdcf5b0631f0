// The server-side assignors of the consumer group protocol (KIP-848), by Kafka's names:
// `uniform` (balanced and sticky) and `range` (co-partitioned ranges). Pure functions from the
// members' subscriptions and previous target assignment to the new target assignment; every
// ordering decision is by id, so the same input always gives the same output.

import assert from 'node:assert/strict';
import type { Assignment } from './assignment.js';

export interface AssignorMember {
  memberId: string;
  instanceId: string | null;
  /** Topic ids the member subscribes to (names already resolved; regexes already expanded). */
  subscribedTopicIds: ReadonlySet<string>;
  /** The member's previous target assignment: what stickiness tries to keep. */
  previous: Assignment;
}

export interface AssignorInput {
  members: readonly AssignorMember[];
  /** Partition count per topic id; subscribed topics missing here do not exist and are skipped. */
  partitionCounts: ReadonlyMap<string, number>;
}

/** Member id → its new target assignment. Every input member is present, possibly empty. */
export type GroupAssignment = Map<string, Assignment>;

export interface ServerAssignor {
  readonly name: string;
  assign(input: AssignorInput): GroupAssignment;
}

type MutableAssignment = Map<string, Set<number>>;

function byMemberId(a: AssignorMember, b: AssignorMember): number {
  return a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0;
}

function subscribedExistingTopics(m: AssignorMember, counts: ReadonlyMap<string, number>): string[] {
  return [...m.subscribedTopicIds].filter((t) => (counts.get(t) ?? 0) > 0).sort();
}

function freeze(out: Map<string, MutableAssignment>): GroupAssignment {
  const result: GroupAssignment = new Map();
  for (const [memberId, a] of out) {
    const compact = new Map<string, ReadonlySet<number>>();
    for (const [t, parts] of a) if (parts.size > 0) compact.set(t, parts);
    result.set(memberId, compact);
  }
  return result;
}

function add(a: MutableAssignment, topicId: string, partition: number): void {
  let set = a.get(topicId);
  if (set === undefined) a.set(topicId, (set = new Set()));
  set.add(partition);
}

/** Which partitions are taken, per topic: a bitmap per topic sized by its partition count. */
class Ownership {
  private readonly taken = new Map<string, Uint8Array>();
  constructor(private readonly counts: ReadonlyMap<string, number>) {}
  isValid(topicId: string, partition: number): boolean {
    const n = this.counts.get(topicId);
    return n !== undefined && Number.isInteger(partition) && partition >= 0 && partition < n;
  }
  isTaken(topicId: string, partition: number): boolean {
    return this.taken.get(topicId)?.[partition] === 1;
  }
  take(topicId: string, partition: number): void {
    let bits = this.taken.get(topicId);
    if (bits === undefined) this.taken.set(topicId, (bits = new Uint8Array(this.counts.get(topicId)!)));
    assert.equal(bits[partition], 0, `partition ${topicId}-${partition} assigned twice`);
    bits[partition] = 1;
  }
}

interface TopicPartition {
  topicId: string;
  partition: number;
}

/** A member's previous partitions that still exist and that it still subscribes to, sorted. */
function stillValid(m: AssignorMember, topics: ReadonlySet<string>, own: Ownership): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const topicId of [...m.previous.keys()].sort()) {
    if (!topics.has(topicId)) continue;
    for (const partition of [...m.previous.get(topicId)!].sort((a, b) => a - b)) {
      if (own.isValid(topicId, partition)) out.push({ topicId, partition });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// uniform

/**
 * Spreads every subscribed partition over the members so that counts differ by at most one
 * (when all members subscribe to the same topics) or so that no partition could move to an
 * eligible member holding two fewer (when subscriptions differ). Members keep as many of their
 * previous partitions as balance allows; only the surplus moves.
 */
export const uniformAssignor: ServerAssignor = {
  name: 'uniform',
  assign(input: AssignorInput): GroupAssignment {
    const members = [...input.members].sort(byMemberId);
    if (members.length === 0) return new Map();
    const topicsOf = new Map(members.map((m) => [m.memberId, subscribedExistingTopics(m, input.partitionCounts)]));
    const first = topicsOf.get(members[0]!.memberId)!.join('\u0000');
    const homogeneous = members.every((m) => topicsOf.get(m.memberId)!.join('\u0000') === first);
    return homogeneous
      ? uniformHomogeneous(members, topicsOf.get(members[0]!.memberId)!, input.partitionCounts)
      : uniformHeterogeneous(members, topicsOf, input.partitionCounts);
  },
};

function uniformHomogeneous(
  members: readonly AssignorMember[],
  topics: readonly string[],
  counts: ReadonlyMap<string, number>,
): GroupAssignment {
  const out = new Map<string, MutableAssignment>(members.map((m) => [m.memberId, new Map()]));
  let total = 0;
  for (const t of topics) total += counts.get(t)!;
  const minQuota = Math.floor(total / members.length);
  let extras = total % members.length;

  // What each member may keep: its previous partitions still valid, first claimant wins a duplicate.
  const own = new Ownership(counts);
  const topicSet = new Set(topics);
  const claimed = new Ownership(counts);
  const valid = new Map<string, TopicPartition[]>();
  for (const m of members) {
    const mine = stillValid(m, topicSet, own).filter((tp) => !claimed.isTaken(tp.topicId, tp.partition));
    for (const tp of mine) claimed.take(tp.topicId, tp.partition);
    valid.set(m.memberId, mine);
  }

  // The members holding more than the minimum get the extra slots first: that keeps the most.
  const quota = new Map(members.map((m) => [m.memberId, minQuota]));
  const byHeld = [...members].sort((a, b) => valid.get(b.memberId)!.length - valid.get(a.memberId)!.length || byMemberId(a, b));
  for (const m of byHeld) {
    if (extras === 0) break;
    if (valid.get(m.memberId)!.length > minQuota) {
      quota.set(m.memberId, minQuota + 1);
      extras--;
    }
  }
  for (const m of members) {
    if (extras === 0) break;
    if (quota.get(m.memberId) === minQuota) {
      quota.set(m.memberId, minQuota + 1);
      extras--;
    }
  }
  assert.equal(extras, 0);

  for (const m of members) {
    for (const tp of valid.get(m.memberId)!.slice(0, quota.get(m.memberId)!)) {
      own.take(tp.topicId, tp.partition);
      add(out.get(m.memberId)!, tp.topicId, tp.partition);
    }
  }

  // Fill every member up to its quota from the partitions nobody kept, in topic/partition order.
  let mi = 0;
  const held = new Map(members.map((m) => [m.memberId, Math.min(valid.get(m.memberId)!.length, quota.get(m.memberId)!)]));
  for (const t of topics) {
    for (let p = 0; p < counts.get(t)!; p++) {
      if (own.isTaken(t, p)) continue;
      while (held.get(members[mi]!.memberId)! >= quota.get(members[mi]!.memberId)!) mi++;
      const m = members[mi]!;
      own.take(t, p);
      add(out.get(m.memberId)!, t, p);
      held.set(m.memberId, held.get(m.memberId)! + 1);
    }
  }
  return freeze(out);
}

function uniformHeterogeneous(
  members: readonly AssignorMember[],
  topicsOf: ReadonlyMap<string, readonly string[]>,
  counts: ReadonlyMap<string, number>,
): GroupAssignment {
  const out = new Map<string, MutableAssignment>(members.map((m) => [m.memberId, new Map()]));
  const count = new Map<string, number>(members.map((m) => [m.memberId, 0]));
  const order = new Map(members.map((m, i) => [m.memberId, i]));
  const eligible = new Map<string, string[]>(); // topic → subscribed member ids, in id order
  for (const m of members) {
    for (const t of topicsOf.get(m.memberId)!) {
      let list = eligible.get(t);
      if (list === undefined) eligible.set(t, (list = []));
      list.push(m.memberId);
    }
  }
  const owner = new Map<string, Map<number, string>>(); // topic → partition → member
  const setOwner = (t: string, p: number, memberId: string | undefined): void => {
    let parts = owner.get(t);
    if (parts === undefined) owner.set(t, (parts = new Map()));
    if (memberId === undefined) parts.delete(p);
    else parts.set(p, memberId);
  };
  const give = (t: string, p: number, memberId: string): void => {
    add(out.get(memberId)!, t, p);
    count.set(memberId, count.get(memberId)! + 1);
    setOwner(t, p, memberId);
  };
  const take = (t: string, p: number, memberId: string): void => {
    const set = out.get(memberId)!.get(t)!;
    set.delete(p);
    count.set(memberId, count.get(memberId)! - 1);
    setOwner(t, p, undefined);
  };
  const leastLoaded = (t: string, except?: string): string | undefined => {
    let best: string | undefined;
    for (const id of eligible.get(t) ?? []) {
      if (id === except) continue;
      if (best === undefined || count.get(id)! < count.get(best)!) best = id;
    }
    return best;
  };

  // 1. Keep what is still valid (first claimant in id order wins a duplicate).
  const own = new Ownership(counts);
  for (const m of members) {
    for (const tp of stillValid(m, new Set(topicsOf.get(m.memberId)!), own)) {
      if (own.isTaken(tp.topicId, tp.partition)) continue;
      own.take(tp.topicId, tp.partition);
      give(tp.topicId, tp.partition, m.memberId);
    }
  }

  // 2. Place the rest, most constrained topics first, each on the least loaded eligible member.
  const unassigned: TopicPartition[] = [];
  for (const t of [...eligible.keys()].sort()) {
    for (let p = 0; p < counts.get(t)!; p++) if (!own.isTaken(t, p)) unassigned.push({ topicId: t, partition: p });
  }
  unassigned.sort(
    (a, b) =>
      eligible.get(a.topicId)!.length - eligible.get(b.topicId)!.length ||
      (a.topicId < b.topicId ? -1 : a.topicId > b.topicId ? 1 : a.partition - b.partition),
  );
  for (const tp of unassigned) {
    own.take(tp.topicId, tp.partition);
    give(tp.topicId, tp.partition, leastLoaded(tp.topicId)!);
  }

  // 3. Balance: move a partition from a member to an eligible one holding at least two fewer,
  // preferring partitions the member did not hold before. Each move lowers the sum of squared
  // counts by at least 2, so the loop ends; when it does, no such move is left.
  let total = 0;
  for (const c of count.values()) total += c;
  const movesMax = total * total + 1;
  let moves = 0;
  for (;;) {
    let moved = false;
    const byLoad = [...members].sort(
      (a, b) => count.get(b.memberId)! - count.get(a.memberId)! || order.get(a.memberId)! - order.get(b.memberId)!,
    );
    for (const a of byLoad) {
      const mine: TopicPartition[] = [];
      for (const [t, parts] of out.get(a.memberId)!) for (const p of parts) mine.push({ topicId: t, partition: p });
      const wasMine = (tp: TopicPartition): number => (a.previous.get(tp.topicId)?.has(tp.partition) ? 1 : 0);
      mine.sort(
        (x, y) =>
          wasMine(x) - wasMine(y) ||
          (x.topicId < y.topicId ? -1 : x.topicId > y.topicId ? 1 : y.partition - x.partition),
      );
      for (const tp of mine) {
        const b = leastLoaded(tp.topicId, a.memberId);
        if (b !== undefined && count.get(b)! + 1 < count.get(a.memberId)!) {
          take(tp.topicId, tp.partition, a.memberId);
          give(tp.topicId, tp.partition, b);
          moved = true;
          break;
        }
      }
      if (moved) break;
    }
    if (!moved) break;
    assert.ok(++moves <= movesMax, 'uniform assignor balancing did not converge');
  }
  return freeze(out);
}

// ---------------------------------------------------------------------------------------------
// range

/**
 * Per topic, the subscribed members in a fixed order (static members by instance id first, then
 * the others by member id) get consecutive ranges of partitions; the first `partitions % members`
 * get one more. When every member subscribes to the same topics and the topics have the same
 * partition count, each member gets the same partition numbers of every topic (co-partitioning).
 * Not sticky, as in Kafka: static membership is what keeps the order stable.
 */
export const rangeAssignor: ServerAssignor = {
  name: 'range',
  assign(input: AssignorInput): GroupAssignment {
    const members = [...input.members].sort((a, b) => {
      if (a.instanceId !== null && b.instanceId !== null) {
        return a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : byMemberId(a, b);
      }
      if (a.instanceId !== null) return -1;
      if (b.instanceId !== null) return 1;
      return byMemberId(a, b);
    });
    const out = new Map<string, MutableAssignment>(members.map((m) => [m.memberId, new Map()]));
    const topics = new Set<string>();
    for (const m of members) for (const t of subscribedExistingTopics(m, input.partitionCounts)) topics.add(t);
    for (const t of [...topics].sort()) {
      const subscribers = members.filter((m) => m.subscribedTopicIds.has(t));
      const n = input.partitionCounts.get(t)!;
      const quota = Math.floor(n / subscribers.length);
      const extra = n % subscribers.length;
      let start = 0;
      subscribers.forEach((m, i) => {
        const size = quota + (i < extra ? 1 : 0);
        for (let p = start; p < start + size; p++) add(out.get(m.memberId)!, t, p);
        start += size;
      });
      assert.equal(start, n);
    }
    return freeze(out);
  },
};

export const SERVER_ASSIGNORS: ReadonlyMap<string, ServerAssignor> = new Map([
  [uniformAssignor.name, uniformAssignor],
  [rangeAssignor.name, rangeAssignor],
]);
