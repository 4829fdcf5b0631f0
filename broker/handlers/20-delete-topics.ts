// DeleteTopics (key 20), v1-6. v6 may name topics by id. Unknown topics: UNKNOWN_TOPIC_OR_PARTITION
// (UNKNOWN_TOPIC_ID by id); delete.topic.enable=false: TOPIC_DELETION_DISABLED. With tiered storage
// on, the topic's remote objects are deleted afterwards in the background; the answer never waits.
import type * as G from '../protocol/generated/index.js';
import { defaultDeleteTopicsResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export const deleteTopicsHandler: ApiHandler = {
  apiKey: 20,
  minVersion: 1,
  maxVersion: 6,
  handle: (ctx: BrokerContext, req: G.DeleteTopicsRequest, info: RequestInfo): G.DeleteTopicsResponse => {
    const res = defaultDeleteTopicsResponse();
    const asked = info.version >= 6 ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId })) : req.topicNames.map((name) => ({ name: name as string | null, topicId: ZERO_UUID }));
    res.responses = asked.map((a) => {
      const byId = a.name === null && a.topicId !== ZERO_UUID;
      const topic = byId ? ctx.topics.getById(a.topicId) : a.name === null ? undefined : ctx.topics.get(a.name);
      const out = { name: topic?.name ?? a.name, topicId: topic?.id ?? a.topicId, errorCode: ErrorCode.NONE as number, errorMessage: null as string | null };
      if (topic === undefined) out.errorCode = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (!ctx.settings.deleteTopicEnable) out.errorCode = ErrorCode.TOPIC_DELETION_DISABLED;
      else {
        ctx.topics.delete(topic.name);
        // Its objects in the bucket go in the background, as Kafka deletes them after the topic.
        ctx.tiered?.topicDeleted(topic.name, topic.id);
        ctx.metrics.partitions.set(ctx.topics.partitionCount());
      }
      return out;
    });
    return res;
  },
};
