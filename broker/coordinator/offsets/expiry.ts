// When committed offsets expire (offsets.retention.minutes), as Kafka 2.1+ decides it (KIP-211).
//
// The store does not know groups; the group owner hands it one ExpiryCondition per group, or null
// when the group's offsets must be kept whatever their age. Kafka's rules, which the constructors
// below restate:
//   - classic group without a protocol type (a standalone consumer that only commits offsets, with
//     assign() rather than subscribe()): each offset expires retention after its commit;
//   - classic group, Empty: every offset expires retention after the group became Empty (the
//     GroupMetadataValue's currentStateTimestamp), or after its commit when that time is unknown
//     (metadata written before v2);
//   - classic group of protocol type "consumer", Stable, whose subscribed topics are known: offsets
//     of topics no member subscribes to expire retention after their commit; the others are kept;
//   - any other classic group (members, rebalancing): nothing expires;
//   - consumer group (KIP-848): offsets of topics no member subscribes to expire retention after
//     their commit; an empty group subscribes to nothing, so all of them do.
// In every case an offset committed with its own retention (OffsetCommit v2-v4's retentionTimeMs,
// stored as an expire timestamp) expires at that timestamp instead.

import type { CommittedOffset } from './offset-store.js';

export interface ExpiryCondition {
  /** Start of the retention period of one offset, in ms. */
  baseTimestampMs(offset: CommittedOffset): number;
  /** True for topics whose offsets are kept whatever their age (still subscribed). */
  isSubscribed(topic: string): boolean;
}

const NOTHING_SUBSCRIBED = (): boolean => false;

/** Is this offset expired at `nowMs` under `condition`? */
export function isOffsetExpired(offset: CommittedOffset, condition: ExpiryCondition, nowMs: number, retentionMs: number): boolean {
  if (offset.expireTimestampMs !== null) return nowMs >= offset.expireTimestampMs;
  return nowMs - condition.baseTimestampMs(offset) >= retentionMs;
}

export const ExpiryConditions = {
  /** A group with no protocol type: a standalone consumer committing offsets. */
  standalone(): ExpiryCondition {
    return { baseTimestampMs: (o) => o.commitTimestampMs, isSubscribed: NOTHING_SUBSCRIBED };
  },

  /** An Empty classic group; `emptySinceMs` is its current state timestamp, null if unknown. */
  classicEmpty(emptySinceMs: number | null): ExpiryCondition {
    return { baseTimestampMs: (o) => emptySinceMs ?? o.commitTimestampMs, isSubscribed: NOTHING_SUBSCRIBED };
  },

  /** A Stable classic group of protocol type "consumer" whose members' subscriptions are known. */
  classicStableConsumer(subscribedTopics: ReadonlySet<string>): ExpiryCondition {
    return { baseTimestampMs: (o) => o.commitTimestampMs, isSubscribed: (t) => subscribedTopics.has(t) };
  },

  /** A consumer group (KIP-848), in any state; `subscribedTopics` is the union of its members'. */
  consumerGroup(subscribedTopics: ReadonlySet<string>): ExpiryCondition {
    return { baseTimestampMs: (o) => o.commitTimestampMs, isSubscribed: (t) => subscribedTopics.has(t) };
  },
} as const;

/** What a classic group tells about itself for expiry; see `classicGroupExpiry`. */
export interface ClassicGroupExpiryFacts {
  /** "" or null when the group has none (standalone consumers). */
  protocolType: string | null;
  state: 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';
  /** When the group last changed state (became Empty, for an Empty group); null if unknown. */
  currentStateTimestampMs: number | null;
  /** The topics its members subscribe to, when the group could parse their subscriptions. */
  subscribedTopics: ReadonlySet<string> | null;
}

/** The condition for a classic group, or null when its offsets must be kept (see the header). */
export function classicGroupExpiry(g: ClassicGroupExpiryFacts): ExpiryCondition | null {
  if (g.protocolType === null || g.protocolType === '') return ExpiryConditions.standalone();
  if (g.state === 'Empty') return ExpiryConditions.classicEmpty(g.currentStateTimestampMs);
  if (g.protocolType === 'consumer' && g.state === 'Stable' && g.subscribedTopics !== null) {
    return ExpiryConditions.classicStableConsumer(g.subscribedTopics);
  }
  return null;
}
