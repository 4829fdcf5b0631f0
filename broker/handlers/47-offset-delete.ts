// OffsetDelete (key 47), v0. Deletes committed offsets of a group for partitions it is not
// consuming: GROUP_SUBSCRIBED_TO_TOPIC per partition when a member is subscribed to the topic,
// GROUP_ID_NOT_FOUND for an unknown group.
import type * as G from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const offsetDeleteHandler: ApiHandler = {
  apiKey: 47,
  minVersion: 0,
  maxVersion: 0,
  handle: (ctx: BrokerContext, req: G.OffsetDeleteRequest, info: RequestInfo): Promise<G.OffsetDeleteResponse> => ctx.groups.offsetDelete(req, info),
};
