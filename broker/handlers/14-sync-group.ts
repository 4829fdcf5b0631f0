// SyncGroup (key 14), v0-5. The leader sends the assignment of every member; every member gets its
// own part once the leader's SyncGroup arrives. v5 checks the protocol type and name against the
// group's (INCONSISTENT_GROUP_PROTOCOL). REBALANCE_IN_PROGRESS when a new rebalance began meanwhile.
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const syncGroupHandler: ApiHandler = {
  apiKey: 14,
  minVersion: 0,
  maxVersion: 5,
  handle: (ctx: BrokerContext, req: G.SyncGroupRequest, info: RequestInfo): Promise<G.SyncGroupResponse> => ctx.groups.syncGroup(req, info),
};
