// CreatePartitions (key 37), v0-3: grows a topic to Count partitions. A count not above the current
// one is INVALID_PARTITIONS, as is one past TOPIC_PARTITIONS_MAX; assignments may name only this
// broker (INVALID_REPLICA_ASSIGNMENT); a topic listed twice is INVALID_REQUEST. ValidateOnly changes
// nothing.
import type * as G from '../protocol/generated/index.js';
import { defaultCreatePartitionsResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext } from './context.js';
import { TOPIC_PARTITIONS_MAX } from './19-create-topics.js';

export const createPartitionsHandler: ApiHandler = {
  apiKey: 37,
  minVersion: 0,
  maxVersion: 3,
  handle: (ctx: BrokerContext, req: G.CreatePartitionsRequest): G.CreatePartitionsResponse => {
    const res = defaultCreatePartitionsResponse();
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    res.results = req.topics.map((t) => {
      const out = { name: t.name, errorCode: ErrorCode.NONE as number, errorMessage: null as string | null };
      const fail = (code: number, message: string) => Object.assign(out, { errorCode: code, errorMessage: message });
      const topic = ctx.topics.get(t.name);
      if ((counts.get(t.name) ?? 0) > 1) return fail(ErrorCode.INVALID_REQUEST, `topic '${t.name}' is listed more than once in the request`);
      if (topic === undefined) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic '${t.name}' does not exist`);
      const current = topic.partitions.length;
      if (t.count <= current) {
        return fail(ErrorCode.INVALID_PARTITIONS, `topic currently has ${current} partitions, which is higher than or equal to the requested ${t.count}`);
      }
      if (t.count > TOPIC_PARTITIONS_MAX) return fail(ErrorCode.INVALID_PARTITIONS, `number of partitions must be at most ${TOPIC_PARTITIONS_MAX}`);
      if (t.assignments !== null) {
        if (t.assignments.length !== t.count - current) {
          return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `${t.assignments.length} assignments given for ${t.count - current} new partitions`);
        }
        if (t.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== ctx.identity.nodeId)) {
          return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `assignments may name only broker ${ctx.identity.nodeId}`);
        }
      }
      if (!req.validateOnly) {
        ctx.topics.addPartitions(t.name, t.count);
        ctx.metrics.partitions.set(ctx.topics.partitionCount());
      }
      return out;
    });
    return res;
  },
};
