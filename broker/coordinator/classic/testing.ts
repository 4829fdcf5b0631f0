// Test helpers for this folder: a manual clock and timer queue, request builders, consumer
// subscription bytes, and a way to look at a promise without waiting for it.

import type * as G from '../../protocol/generated/index.js';
import { encodeConsumerProtocolSubscription } from '../../protocol/generated/consumer-protocol-subscription.js';
import { Writer } from '../../protocol/primitives.js';

export { ManualScheduler } from '../testing.js';

/** A ConsumerProtocolSubscription (v1) for `topics`, as the Java client sends it. */
export function subscription(topics: string[]): Buffer {
  const w = new Writer();
  w.int16(1);
  encodeConsumerProtocolSubscription(w, { topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null }, 1);
  return w.toBuffer();
}

export interface JoinOptions {
  memberId?: string;
  groupInstanceId?: string | null;
  protocolType?: string;
  /** Protocol names with their metadata; default: range over topic "t". */
  protocols?: { name: string; metadata?: Buffer }[];
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
}

export function joinRequest(groupId: string, o: JoinOptions = {}): G.JoinGroupRequest {
  return {
    groupId,
    sessionTimeoutMs: o.sessionTimeoutMs ?? 10_000,
    rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 30_000,
    memberId: o.memberId ?? '',
    groupInstanceId: o.groupInstanceId ?? null,
    protocolType: o.protocolType ?? 'consumer',
    protocols: (o.protocols ?? [{ name: 'range' }]).map((p) => ({ name: p.name, metadata: p.metadata ?? subscription(['t']) })),
    reason: null,
  };
}

export function syncRequest(
  groupId: string,
  memberId: string,
  generationId: number,
  o: { groupInstanceId?: string | null; assignments?: [string, Buffer][]; protocolType?: string | null; protocolName?: string | null } = {},
): G.SyncGroupRequest {
  return {
    groupId,
    generationId,
    memberId,
    groupInstanceId: o.groupInstanceId ?? null,
    protocolType: o.protocolType === undefined ? 'consumer' : o.protocolType,
    protocolName: o.protocolName === undefined ? 'range' : o.protocolName,
    assignments: (o.assignments ?? []).map(([m, a]) => ({ memberId: m, assignment: a })),
  };
}

export function heartbeatRequest(groupId: string, memberId: string, generationId: number, groupInstanceId: string | null = null): G.HeartbeatRequest {
  return { groupId, generationId, memberId, groupInstanceId };
}

/** Lets pending promise callbacks run (one macrotask turn; no clock involved). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Tracks a promise so a test can check, after `flush()`, whether it has settled and with what. */
export function watch<T>(p: Promise<T>): { readonly done: boolean; readonly value: T } {
  const state: { done: boolean; value: T | undefined } = { done: false, value: undefined };
  void p.then((v) => {
    state.done = true;
    state.value = v;
  });
  return {
    get done() {
      return state.done;
    },
    get value() {
      if (!state.done) throw new Error('the promise has not settled');
      return state.value as T;
    },
  };
}
