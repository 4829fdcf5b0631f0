// DescribeGroups (key 15), v0-6. Classic groups with their members, subscriptions and assignments;
// consumer-protocol groups are described too (protocol type "consumer"), as Kafka does. An unknown
// group is answered with state Dead (v0-5) or GROUP_ID_NOT_FOUND (v6).
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const describeGroupsHandler: ApiHandler = {
  apiKey: 15,
  minVersion: 0,
  maxVersion: 6,
  handle: (ctx: BrokerContext, req: G.DescribeGroupsRequest, info: RequestInfo): G.DescribeGroupsResponse => ctx.groups.describeGroups(req, info),
};
