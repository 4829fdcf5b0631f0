// The topics a member of a "consumer" group subscribes to, read from its JoinGroup metadata.
// Every ConsumerProtocolSubscription version starts with an int16 version and then the version-0
// fields (topics, user data), so reading that prefix works for versions this broker has never seen,
// as Kafka reads it. Used for OffsetDelete (GROUP_SUBSCRIBED_TO_TOPIC) and offset expiry.

import { decodeConsumerProtocolSubscription } from '../../protocol/generated/consumer-protocol-subscription.js';
import { Reader } from '../../protocol/primitives.js';

/** Kafka's protocol type for consumers (the Java client, librdkafka). */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** The subscribed topics in `metadata`, or null when it is not a consumer subscription. */
export function subscribedTopicsOf(metadata: Buffer): string[] | null {
  try {
    const r = new Reader(metadata);
    r.int16(); // the subscription's version; the version-0 prefix follows in every version
    return decodeConsumerProtocolSubscription(r, 0).topics;
  } catch {
    // A malformed subscription is the client's business: the group then does not know its
    // topics, and offset deletion and expiry fall back to treating every topic as subscribed.
    return null;
  }
}
