// OffsetFetch (key 9), v1-10 (v0 was removed in Kafka 4.0). A null topic list (v2+) fetches every
// committed offset of the group; v8+ asks for several groups at once; v9+ may carry a
// consumer-protocol member id and epoch (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID); v10 names topics by
// id. Partitions without a committed offset answer offset -1. Groups whose __consumer_offsets
// partition is still loading answer COORDINATOR_LOAD_IN_PROGRESS.
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const offsetFetchHandler: ApiHandler = {
  apiKey: 9,
  minVersion: 1,
  maxVersion: 10,
  handle: (ctx: BrokerContext, req: G.OffsetFetchRequest, info: RequestInfo): G.OffsetFetchResponse => ctx.groups.offsetFetch(req, info),
};
