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
  // Members by index (id order) and counts in a typed array: this runs over every partition and
  // member of the group on each rebalance.
  const n = members.length;
  const out: MutableAssignment[] = members.map(() => new Map());
  const count = new Int32Array(n);
  const eligibleLists = new Map<string, number[]>(); // topic → subscribed member indexes, in id order
  members.forEach((m, i) => {
    for (const t of topicsOf.get(m.memberId)!) {
      let list = eligibleLists.get(t);
      if (list === undefined) eligibleLists.set(t, (list = []));
      list.push(i);
    }
  });
  const give = (t: string, p: number, i: number): void => {
    add(out[i]!, t, p);
    count[i]!++;
  };
  const take = (t: string, p: number, i: number): void => {
    out[i]!.get(t)!.delete(p);
    count[i]!--;
  };
  /** The eligible member holding the fewest partitions (ties: id order), other than `except`. */
  const leastLoaded = (t: string, except = -1): number => {
    let best = -1;
    for (const i of eligibleLists.get(t) ?? []) {
      if (i !== except && (best < 0 || count[i]! < count[best]!)) best = i;
    }
    return best;
  };

  // 1. Keep what is still valid (first claimant in id order wins a duplicate).
  const own = new Ownership(counts);
  members.forEach((m, i) => {
    for (const tp of stillValid(m, new Set(topicsOf.get(m.memberId)!), own)) {
      if (own.isTaken(tp.topicId, tp.partition)) continue;
      own.take(tp.topicId, tp.partition);
      give(tp.topicId, tp.partition, i);
    }
  });

  // 2. Place the rest, most constrained topics first, each on the least loaded eligible member.
  const topicOrder = [...eligibleLists.keys()].sort(
    (a, b) => eligibleLists.get(a)!.length - eligibleLists.get(b)!.length || (a < b ? -1 : a > b ? 1 : 0),
  );
  for (const t of topicOrder) {
    for (let p = 0; p < counts.get(t)!; p++) {
      if (own.isTaken(t, p)) continue;
      own.take(t, p);
      give(t, p, leastLoaded(t));
    }
  }

  // 3. Balance: move partitions from a member to an eligible one holding at least two fewer,
  // preferring partitions the member did not hold before. Each move lowers the sum of squared
  // counts by at least 2, so the passes end; a pass without a move proves none is left.
  let total = 0;
  for (const c of count) total += c;
  const movesMax = total * total + 1;
  let moves = 0;
  const lowestCount = (): number => {
    let lowest = Infinity;
    for (const c of count) lowest = Math.min(lowest, c);
    return lowest;
  };
  const byLoad = members.map((_, i) => i);
  for (let moved = true; moved; ) {
    moved = false;
    let lowest = lowestCount();
    byLoad.sort((a, b) => count[b]! - count[a]! || a - b);
    for (const a of byLoad) {
      // Drain this member while some eligible member holds two fewer.
      for (;;) {
        const held = count[a]!;
        if (held <= lowest + 1) break; // nobody holds two fewer
        let from: string | undefined;
        let to = -1;
        for (const t of [...out[a]!.keys()].sort()) {
          if (out[a]!.get(t)!.size === 0) continue;
          const b = leastLoaded(t, a);
          if (b >= 0 && count[b]! + 1 < held) {
            from = t;
            to = b;
            break;
          }
        }
        if (from === undefined) break;
        // Which partition: one the member did not hold before if any (moving it costs nothing),
        // else the highest.
        const wasMine = members[a]!.previous.get(from);
        let pick = -1;
        for (const p of out[a]!.get(from)!) {
          const fresh = wasMine?.has(p) !== true;
          const pickFresh = pick >= 0 && wasMine?.has(pick) !== true;
          if (pick < 0 || (fresh && !pickFresh) || (fresh === pickFresh && p > pick)) pick = p;
        }
        take(from, pick, a);
        give(from, pick, to);
        moved = true;
        lowest = lowestCount();
        assert.ok(++moves <= movesMax, 'uniform assignor balancing did not converge');
      }
    }
  }
  return freeze(new Map(members.map((m, i) => [m.memberId, out[i]!])));
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
