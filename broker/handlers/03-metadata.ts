// Metadata (key 3), v0-13. One broker, leader of every partition at epoch 0. A request naming
// unknown topics creates them when auto.create.topics.enable is on and the client allows it
// (AllowAutoTopicCreation, v4+); otherwise UNKNOWN_TOPIC_OR_PARTITION. Kafka answers
// LEADER_NOT_AVAILABLE for a topic it has just auto-created, because its controller creates it
// asynchronously, and clients then wait for their next metadata refresh (librdkafka: up to a
// second). Strata creates the topic before answering, so it describes it at once, leader and all. Topics can be named by id from v10 (UNKNOWN_TOPIC_ID).
// A partition in an offline log directory is described as Kafka 4.1 does once its only replica is
// offline: LEADER_NOT_AVAILABLE, leader -1, ISR empty, this broker in OfflineReplicas. Kafka's
// controller also bumps the leader epoch; Strata keeps it, because a client that cached the bumped
// epoch would ignore the lower one after a restart (librdkafka skips metadata with an older epoch).
import type * as G from '../protocol/generated/index.js';
import { defaultMetadataResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { Topic } from '../cluster/topics.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';
import { autoCreateTopic } from './topic-admin.js';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Kafka's marker for "authorized operations not requested". */
const OPERATIONS_NOT_REQUESTED = -2147483648;

function describeTopic(ctx: BrokerContext, t: Topic): G.MetadataResponseMetadataResponseTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.id,
    isInternal: t.name.startsWith('__'),
    partitions: t.partitions.map((p) =>
      p.offline
        ? {
            // Kafka's answer once its only replica's log directory is offline: no leader, an empty
            // ISR, and this broker among the offline replicas.
            errorCode: ErrorCode.LEADER_NOT_AVAILABLE,
            partitionIndex: p.index,
            leaderId: -1,
            leaderEpoch: p.leaderEpoch,
            replicaNodes: [ctx.identity.nodeId],
            isrNodes: [],
            offlineReplicas: [ctx.identity.nodeId],
          }
        : {
            errorCode: ErrorCode.NONE,
            partitionIndex: p.index,
            leaderId: ctx.identity.nodeId,
            leaderEpoch: p.leaderEpoch,
            replicaNodes: [ctx.identity.nodeId],
            isrNodes: [ctx.identity.nodeId],
            offlineReplicas: [],
          },
    ),
    topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
  };
}

function missing(name: string | null, topicId: string, errorCode: number): G.MetadataResponseMetadataResponseTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED };
}

export const metadataHandler: ApiHandler = {
  apiKey: 3,
  minVersion: 0,
  maxVersion: 13,
  handle: (ctx: BrokerContext, req: G.MetadataRequest, info: RequestInfo): G.MetadataResponse => {
    const res = defaultMetadataResponse();
    res.brokers = [{ nodeId: ctx.identity.nodeId, host: ctx.identity.host, port: ctx.identity.port, rack: ctx.identity.rack }];
    res.clusterId = ctx.identity.clusterId;
    res.controllerId = ctx.identity.nodeId;
    res.clusterAuthorizedOperations = OPERATIONS_NOT_REQUESTED;
    // v0 uses an empty list for "all topics"; v1+ uses null.
    if (req.topics === null || (info.version === 0 && req.topics.length === 0)) {
      res.topics = ctx.topics.all().map((t) => describeTopic(ctx, t));
      return res;
    }
    const allowAutoCreate = info.version < 4 || req.allowAutoTopicCreation;
    res.topics = req.topics.map((rt) => {
      if (rt.name === null || rt.name === '') {
        const t = ctx.topics.getById(rt.topicId);
        return t === undefined ? missing(null, rt.topicId, ErrorCode.UNKNOWN_TOPIC_ID) : describeTopic(ctx, t);
      }
      const t = ctx.topics.get(rt.name);
      if (t !== undefined) return describeTopic(ctx, t);
      if (allowAutoCreate && ctx.settings.autoCreateTopics) {
        const created = autoCreateTopic(ctx, rt.name);
        return created === null ? missing(rt.name, ZERO_UUID, ErrorCode.INVALID_TOPIC_EXCEPTION) : describeTopic(ctx, created);
      }
      return missing(rt.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });
    return res;
  },
};
