// ListOffsets (key 2), v1-11. Timestamps: -2 earliest (the log start, remote part included), -1
// latest (the high watermark, or the last stable offset for read_committed), -3 the offset of the
// largest timestamp (v7+), -4 the first offset on local disk (v9+, KIP-1005), -5 the last offset in
// the bucket (v9+, KIP-1005; -1 when nothing is there or the topic is not tiered), otherwise the first
// offset whose timestamp is at least the one asked for, or offset -1 when there is none. Timestamp
// lookups search local segments only (not yet the remote time indexes). A partition in an offline
// log directory answers KAFKA_STORAGE_ERROR with offset -1.
import type * as G from '../protocol/generated/index.js';
import { defaultListOffsetsResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';
import { errorCodeOf } from './log-errors.js';

const EARLIEST = -2n;
const LATEST = -1n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;
const LATEST_TIERED = -5n;
const READ_COMMITTED = 1;

export const listOffsetsHandler: ApiHandler = {
  apiKey: 2,
  minVersion: 1,
  maxVersion: 11,
  handle: (ctx: BrokerContext, req: G.ListOffsetsRequest, info: RequestInfo): G.ListOffsetsResponse => {
    const res = defaultListOffsetsResponse();
    const epochs = info.version >= 4;
    res.topics = req.topics.map((t) => {
      const topic = ctx.topics.get(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((p) => {
          const out: G.ListOffsetsResponseListOffsetsPartitionResponse = {
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.NONE,
            timestamp: -1n,
            offset: -1n,
            leaderEpoch: -1,
          };
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
          const epoch = epochs ? partition.leaderEpoch : -1;
          try {
            switch (p.timestamp) {
              case EARLIEST:
                out.offset = BigInt(log.logStartOffset);
                out.leaderEpoch = epoch;
                break;
              case EARLIEST_LOCAL:
                out.offset = BigInt(log.localLogStartOffset);
                out.leaderEpoch = epoch;
                break;
              case LATEST:
                out.offset = BigInt(req.isolationLevel === READ_COMMITTED ? log.lastStableOffset : log.highWatermark);
                out.leaderEpoch = epoch;
                break;
              case LATEST_TIERED: {
                const tiered = topic !== undefined && log.config.remoteStorageEnable ? (ctx.tiered?.latestTieredOffset(topic.id, p.partitionIndex) ?? -1) : -1;
                if (tiered >= 0) {
                  out.offset = BigInt(tiered);
                  out.leaderEpoch = epoch;
                }
                break;
              }
              case MAX_TIMESTAMP: {
                const found = log.maxTimestampOffset();
                if (found !== null) {
                  out.offset = BigInt(found.offset);
                  out.timestamp = BigInt(found.timestamp);
                  out.leaderEpoch = epochs ? found.leaderEpoch : -1;
                }
                break;
              }
              default: {
                const found = log.offsetForTimestamp(Number(p.timestamp));
                if (found !== null && found.offset < log.highWatermark) {
                  out.offset = BigInt(found.offset);
                  out.timestamp = BigInt(found.timestamp);
                  out.leaderEpoch = epochs ? found.leaderEpoch : -1;
                }
              }
            }
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
