// OffsetForLeaderEpoch (key 23), v2-4: the end offset of a leader epoch, which consumers use to
// detect log truncation after a leader change. A CurrentLeaderEpoch newer than this broker's is
// UNKNOWN_LEADER_EPOCH, an older one FENCED_LEADER_EPOCH; -1 skips the check. A partition in an
// offline log directory: KAFKA_STORAGE_ERROR.
import type * as G from '../protocol/generated/index.js';
import { defaultOffsetForLeaderEpochResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext } from './context.js';
import { errorCodeOf } from './log-errors.js';

export const offsetForLeaderEpochHandler: ApiHandler = {
  apiKey: 23,
  minVersion: 2,
  maxVersion: 4,
  handle: (ctx: BrokerContext, req: G.OffsetForLeaderEpochRequest): G.OffsetForLeaderEpochResponse => {
    const res = defaultOffsetForLeaderEpochResponse();
    res.topics = req.topics.map((t) => {
      const topic = ctx.topics.get(t.topic);
      return {
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const out = { errorCode: ErrorCode.NONE as number, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
          const partition = topic?.partitions[p.partition];
          if (partition === undefined) out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          else if (partition.offline) out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
          else if (p.currentLeaderEpoch > partition.leaderEpoch) out.errorCode = ErrorCode.UNKNOWN_LEADER_EPOCH;
          else if (p.currentLeaderEpoch !== -1 && p.currentLeaderEpoch < partition.leaderEpoch) out.errorCode = ErrorCode.FENCED_LEADER_EPOCH;
          else {
            try {
              const r = partition.log.endOffsetForEpoch(p.leaderEpoch);
              out.leaderEpoch = r.leaderEpoch;
              out.endOffset = BigInt(r.endOffset);
            } catch (e) {
              out.errorCode = errorCodeOf(ctx, e, { topic: t.topic, partition: p.partition });
            }
          }
          return out;
        }),
      };
    });
    return res;
  },
};
