// ConsumerGroupHeartbeat (key 68), v0-1: the consumer group protocol of KIP-848. Joining (member
// epoch 0), heartbeats, leaving (-1, or -2 for a static member) and subscription changes go through
// it, and the answer carries the member's target assignment as it reconciles. Advertised only when
// group.coordinator.rebalance.protocols includes consumer. FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID,
// UNRELEASED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED, UNSUPPORTED_ASSIGNOR, INVALID_REQUEST.
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const consumerGroupHeartbeatHandler: ApiHandler = {
  apiKey: 68,
  minVersion: 0,
  maxVersion: 1,
  handle: (ctx: BrokerContext, req: G.ConsumerGroupHeartbeatRequest, info: RequestInfo): Promise<G.ConsumerGroupHeartbeatResponse> => ctx.groups.consumerGroupHeartbeat(req, info),
};
