// Heartbeat (key 12), v0-4, classic groups. Resets the member's session timer. REBALANCE_IN_PROGRESS
// tells the member to rejoin; UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION and FENCED_INSTANCE_ID (v3+)
// fence it.
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const heartbeatHandler: ApiHandler = {
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  handle: (ctx: BrokerContext, req: G.HeartbeatRequest, info: RequestInfo): G.HeartbeatResponse => ctx.groups.heartbeat(req, info),
};
