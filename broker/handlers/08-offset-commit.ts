// OffsetCommit (key 8), v2-10 (v0-1 were removed in Kafka 4.0). Commits for a classic group are
// checked against its generation and member (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
// REBALANCE_IN_PROGRESS); v9+ commits from a consumer-protocol member carry its member epoch
// (STALE_MEMBER_EPOCH). A commit with generation -1 and no member id is a standalone commit, allowed
// while the group has no members. Per partition: UNKNOWN_TOPIC_OR_PARTITION, or
// OFFSET_METADATA_TOO_LARGE beyond offset.metadata.max.bytes. v10 names topics by id
// (UNKNOWN_TOPIC_ID). The answer waits for the write to __consumer_offsets.
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const offsetCommitHandler: ApiHandler = {
  apiKey: 8,
  minVersion: 2,
  maxVersion: 10,
  handle: (ctx: BrokerContext, req: G.OffsetCommitRequest, info: RequestInfo): Promise<G.OffsetCommitResponse> => ctx.groups.offsetCommit(req, info),
};
