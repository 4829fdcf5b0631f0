// JoinGroup (key 11), v0-9. v0 stays advertised because librdkafka checks for it before it turns
// group support on. The answer is delayed until the rebalance completes (or the rebalance timeout
// passes). v4+ with an empty member id gets MEMBER_ID_REQUIRED and a member id to rejoin with; v5+
// carries group.instance.id (static membership, FENCED_INSTANCE_ID for a replaced member).
// INVALID_SESSION_TIMEOUT outside group.min/max.session.timeout.ms, GROUP_MAX_SIZE_REACHED beyond
// group.max.size, INCONSISTENT_GROUP_PROTOCOL when protocols do not match the group's.
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const joinGroupHandler: ApiHandler = {
  apiKey: 11,
  minVersion: 0,
  maxVersion: 9,
  handle: (ctx: BrokerContext, req: G.JoinGroupRequest, info: RequestInfo): Promise<G.JoinGroupResponse> => ctx.groups.joinGroup(req, info),
};
