// Test helpers for this folder: a manual clock and timer queue, an in-memory topic view, request
// builders, and a simulated KIP-848 client that follows the protocol the way the Java client does
// (revoke at once, report what it owns on every heartbeat).

import assert from 'node:assert/strict';
import type * as G from '../../protocol/generated/index.js';
import { defaultConsumerGroupHeartbeatRequest } from '../../protocol/generated/68-consumer-group-heartbeat.js';
import type { CoordinatorSettings, TopicView } from '../types.js';
import { type Assignment, EMPTY_ASSIGNMENT, assignmentFromList, assignmentToList } from './assignment.js';
import type { ConsumerGroups } from './consumer-groups.js';
import { GroupErrorCode } from './errors.js';

export { ManualScheduler } from '../testing.js';

export class FakeTopics implements TopicView {
  private readonly byNameMap = new Map<string, { id: string; partitionCount: number }>();
  private nextId = 1;

  create(name: string, partitionCount: number): string {
    assert.ok(!this.byNameMap.has(name));
    // 22 characters, like Kafka's uuids.
    const id = `T${String(this.nextId++).padStart(4, '0')}${name}`.padEnd(22, '_').slice(0, 22);
    this.byNameMap.set(name, { id, partitionCount });
    return id;
  }

  delete(name: string): void {
    assert.ok(this.byNameMap.delete(name));
  }

  setPartitions(name: string, partitionCount: number): void {
    this.byNameMap.get(name)!.partitionCount = partitionCount;
  }

  id(name: string): string {
    return this.byNameMap.get(name)!.id;
  }

  byName(name: string): { id: string; partitionCount: number } | undefined {
    const t = this.byNameMap.get(name);
    return t === undefined ? undefined : { ...t };
  }

  byId(id: string): { name: string; partitionCount: number } | undefined {
    for (const [name, t] of this.byNameMap) if (t.id === id) return { name, partitionCount: t.partitionCount };
    return undefined;
  }

  names(): Iterable<string> {
    return [...this.byNameMap.keys()];
  }
}

export function settings(overrides: Partial<CoordinatorSettings> = {}): CoordinatorSettings {
  return {
    initialRebalanceDelayMs: 3000,
    minSessionTimeoutMs: 6000,
    maxSessionTimeoutMs: 1_800_000,
    maxGroupSize: 1000,
    consumerSessionTimeoutMs: 45_000,
    consumerHeartbeatIntervalMs: 5000,
    consumerMaxGroupSize: 1000,
    consumerAssignors: ['uniform', 'range'],
    offsetsRetentionMs: 7 * 24 * 3600 * 1000,
    offsetMetadataMaxBytes: 4096,
    maxGroups: 1000,
    ...overrides,
  };
}

export function request(fields: Partial<G.ConsumerGroupHeartbeatRequest>): G.ConsumerGroupHeartbeatRequest {
  return { ...defaultConsumerGroupHeartbeatRequest(), ...fields };
}

/** A join (epoch 0) request with every required field. */
export function joinRequest(groupId: string, memberId: string, topics: string[], extra: Partial<G.ConsumerGroupHeartbeatRequest> = {}): G.ConsumerGroupHeartbeatRequest {
  return request({ groupId, memberId, memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: topics, topicPartitions: [], ...extra });
}

export const CLIENT = { clientId: 'test-client', clientHost: '/127.0.0.1' };

/** Partitions per topic *name*, from an assignment by topic id. */
export function byName(topics: FakeTopics, a: Assignment | G.ConsumerGroupHeartbeatResponseAssignment | null): Record<string, number[]> {
  const list = a === null ? [] : 'topicPartitions' in a ? a.topicPartitions : assignmentToList(a);
  const out: Record<string, number[]> = {};
  for (const tp of list) out[topics.byId(tp.topicId)?.name ?? tp.topicId] = [...tp.partitions].sort((x, y) => x - y);
  return out;
}

/**
 * A consumer following KIP-848: joins with epoch 0, then sends partial heartbeats carrying the
 * partitions it owns. Like a real client it takes newly assigned partitions at once but needs
 * time to revoke: partitions taken away stay `owned` (it is still consuming them) until its next
 * heartbeat, which reports the revocation done. On FENCED_MEMBER_EPOCH or UNKNOWN_MEMBER_ID it
 * drops everything and rejoins with epoch 0.
 */
export class SimClient {
  memberEpoch = 0;
  /** What the client consumes right now (its assignment plus what it is still revoking). */
  owned: Assignment = EMPTY_ASSIGNMENT;
  /** The last assignment the coordinator gave it. */
  assigned: Assignment = EMPTY_ASSIGNMENT;
  lastError = 0;
  left = false;
  /** When the coordinator last answered this client, on `clock` (set it to use `expireIfSilent`). */
  lastAnsweredMs = -Infinity;
  clock: { nowMs(): number } | null = null;

  constructor(
    private readonly groups: ConsumerGroups,
    readonly groupId: string,
    readonly memberId: string,
    private readonly topicNames: string[],
    private readonly extra: Partial<G.ConsumerGroupHeartbeatRequest> = {},
    private readonly version = 1,
  ) {}

  /**
   * A client that has not heard from the coordinator for a session timeout knows it may have been
   * fenced and gives up its partitions (the Java client's "partitions lost"). Without this a
   * silent client would keep consuming next to its replacement: the zombie that epochs on offset
   * commits exist to fence.
   */
  expireIfSilent(nowMs: number, sessionTimeoutMs: number): void {
    if (nowMs - this.lastAnsweredMs >= sessionTimeoutMs) this.owned = this.assigned = EMPTY_ASSIGNMENT;
  }

  heartbeat(): G.ConsumerGroupHeartbeatResponse {
    // Revocation finished since the last response: only the assignment is held now.
    this.owned = this.assigned;
    const joining = this.memberEpoch === 0;
    const req = joining
      ? joinRequest(this.groupId, this.memberId, this.topicNames, this.extra)
      : request({
          groupId: this.groupId,
          memberId: this.memberId,
          memberEpoch: this.memberEpoch,
          instanceId: this.extra.instanceId ?? null,
          topicPartitions: assignmentToList(this.owned),
        });
    const resp = this.groups.heartbeat(req, this.version, CLIENT);
    if (this.clock !== null) this.lastAnsweredMs = this.clock.nowMs();
    this.lastError = resp.errorCode;
    if (resp.errorCode === GroupErrorCode.FENCED_MEMBER_EPOCH || resp.errorCode === GroupErrorCode.UNKNOWN_MEMBER_ID) {
      this.owned = this.assigned = EMPTY_ASSIGNMENT;
      this.memberEpoch = 0;
      return resp;
    }
    if (resp.errorCode !== 0) return resp;
    this.memberEpoch = resp.memberEpoch;
    if (resp.assignment !== null) {
      this.assigned = assignmentFromList(resp.assignment.topicPartitions);
      this.owned = assignmentFromList([...assignmentToList(this.owned), ...assignmentToList(this.assigned)]);
    }
    return resp;
  }

  leave(): G.ConsumerGroupHeartbeatResponse {
    // A leaving client stops consuming first.
    this.owned = this.assigned = EMPTY_ASSIGNMENT;
    const resp = this.groups.heartbeat(
      request({ groupId: this.groupId, memberId: this.memberId, memberEpoch: -1, instanceId: this.extra.instanceId ?? null }),
      this.version,
      CLIENT,
    );
    this.memberEpoch = 0;
    this.left = true;
    return resp;
  }
}

/** Fails when two clients own the same partition. */
export function assertDisjoint(clients: readonly SimClient[]): void {
  const seen = new Map<string, string>();
  for (const c of clients) {
    for (const [topicId, parts] of c.owned) {
      for (const p of parts) {
        const key = `${topicId}-${p}`;
        const other = seen.get(key);
        assert.ok(other === undefined, `partition ${key} owned by ${other} and ${c.memberId}`);
        seen.set(key, c.memberId);
      }
    }
  }
}
