// DeleteRecords (key 21), v0-2: moves each partition's log start offset forward. Offset -1 means the
// high watermark; an offset past the high watermark is OFFSET_OUT_OF_RANGE. Answers the new low
// watermark (the log start offset). A partition in an offline log directory: KAFKA_STORAGE_ERROR.
import type * as G from '../protocol/generated/index.js';
import { defaultDeleteRecordsResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext } from './context.js';
import { errorCodeOf } from './log-errors.js';

export const deleteRecordsHandler: ApiHandler = {
  apiKey: 21,
  minVersion: 0,
  maxVersion: 2,
  handle: (ctx: BrokerContext, req: G.DeleteRecordsRequest): G.DeleteRecordsResponse => {
    const res = defaultDeleteRecordsResponse();
    res.topics = req.topics.map((t) => {
      const topic = ctx.topics.get(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((p) => {
          const out = { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.NONE as number };
          const partition = topic?.partitions[p.partitionIndex];
          if (partition === undefined) {
            out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            return out;
          }
          if (partition.offline) {
            out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
            return out;
          }
          const log = partition.log;
          const target = p.offset === -1n ? log.highWatermark : Number(p.offset);
          if (target < 0 || target > log.highWatermark) {
            out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
            return out;
          }
          try {
            out.lowWatermark = BigInt(log.deleteRecordsBefore(target));
          } catch (e) {
            out.errorCode = errorCodeOf(ctx, e, { topic: t.name, partition: p.partitionIndex });
          }
          return out;
        }),
      };
    });
    return res;
  },
};
