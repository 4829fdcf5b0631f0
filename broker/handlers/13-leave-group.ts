// LeaveGroup (key 13), v0-5. v0-2 name one member; v3+ a batch of members, each with its own error
// (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID for a static member named by a stale member id). The group
// rebalances without the leavers.
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const leaveGroupHandler: ApiHandler = {
  apiKey: 13,
  minVersion: 0,
  maxVersion: 5,
  handle: (ctx: BrokerContext, req: G.LeaveGroupRequest, info: RequestInfo): Promise<G.LeaveGroupResponse> => ctx.groups.leaveGroup(req, info),
};
