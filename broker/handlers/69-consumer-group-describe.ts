// ConsumerGroupDescribe (key 69), v0. Consumer-protocol groups with their members, target and
// current assignments. GROUP_ID_NOT_FOUND for unknown groups, and for classic groups as Kafka
// answers (the group is not a consumer group).
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const consumerGroupDescribeHandler: ApiHandler = {
  apiKey: 69,
  minVersion: 0,
  maxVersion: 0,
  handle: (ctx: BrokerContext, req: G.ConsumerGroupDescribeRequest, info: RequestInfo): G.ConsumerGroupDescribeResponse => ctx.groups.consumerGroupDescribe(req, info),
};
