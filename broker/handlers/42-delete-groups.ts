// DeleteGroups (key 42), v0-2. Deletes empty groups with their committed offsets (tombstones in
// __consumer_offsets). NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND when it does not
// exist.
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const deleteGroupsHandler: ApiHandler = {
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  handle: (ctx: BrokerContext, req: G.DeleteGroupsRequest, info: RequestInfo): Promise<G.DeleteGroupsResponse> => ctx.groups.deleteGroups(req, info),
};
