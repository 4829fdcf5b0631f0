// DescribeCluster (key 60), v0-2: this broker, the cluster id, and itself as controller.
import type * as G from '../protocol/generated/index.js';
import { defaultDescribeClusterResponse } from '../protocol/generated/index.js';
import type { ApiHandler, BrokerContext } from './context.js';

export const describeClusterHandler: ApiHandler = {
  apiKey: 60,
  minVersion: 0,
  maxVersion: 2,
  handle: (ctx: BrokerContext, _req: G.DescribeClusterRequest): G.DescribeClusterResponse => {
    const res = defaultDescribeClusterResponse();
    res.clusterId = ctx.identity.clusterId;
    res.controllerId = ctx.identity.nodeId;
    res.brokers = [{ brokerId: ctx.identity.nodeId, host: ctx.identity.host, port: ctx.identity.port, rack: ctx.identity.rack, isFenced: false }];
    res.clusterAuthorizedOperations = -2147483648;
    return res;
  },
};
