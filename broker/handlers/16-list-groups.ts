// ListGroups (key 16), v0-5. Every group, filtered by state (v4+) and by type (v5+: classic,
// consumer); v5 reports each group's type.
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const listGroupsHandler: ApiHandler = {
  apiKey: 16,
  minVersion: 0,
  maxVersion: 5,
  handle: (ctx: BrokerContext, req: G.ListGroupsRequest, info: RequestInfo): G.ListGroupsResponse => ctx.groups.listGroups(req, info),
};
