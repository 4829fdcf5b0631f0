// ListOffsets (key 2), v1-11. Timestamps: -2 earliest (the log start, remote part included), -1
// latest (the high watermark, or the last stable offset for read_committed), -3 the offset of the
// largest timestamp (v7+), -4 the first offset on local disk (v9+, KIP-1005), -5 the last offset in
// the bucket (v9+, KIP-1005; -1 when nothing is there or the topic is not tiered), otherwise the first
// offset whose timestamp is at least the one asked for, or offset -1 when there is none. For a tiered
// partition with data below its local log start, timestamp lookups search the bucket's segments first (their uploaded time indexes, read
// through the remote cache), then the local ones, as Kafka's KIP-405 does; -3 compares the largest
// remote and local timestamps (the earlier offset on a tie), which Kafka 4.1 does from local
// segments only (KAFKA-17552). A remote lookup that fails answers KAFKA_STORAGE_ERROR. A partition
// in an offline log directory answers KAFKA_STORAGE_ERROR with offset -1.
import type * as G from '../protocol/generated/index.js';
import { defaultListOffsetsResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';
import { errorCodeOf } from './log-errors.js';
import type { PartitionLogLike } from '../cluster/topics.js';

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
  handle: (ctx: BrokerContext, req: G.ListOffsetsRequest, info: RequestInfo): G.ListOffsetsResponse | Promise<G.ListOffsetsResponse> => {
    const res = defaultListOffsetsResponse();
    const epochs = info.version >= 4;
    /** Lookups in the bucket, answered before the response goes (only tiered timestamp lookups). */
    const remote: Promise<void>[] = [];
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
          // Only offsets below the local log start need the bucket; above it the local search sees
          // everything the bucket holds (and works before the manifest is loaded).
          const tiered = topic !== undefined && log.config.remoteStorageEnable && log.logStartOffset < log.localLogStartOffset ? ctx.tiered : null;
          if (tiered !== null && topic !== undefined && (p.timestamp === MAX_TIMESTAMP || p.timestamp >= 0n)) {
            const where = { topic: t.name, topicId: topic.id, partition: p.partitionIndex, log };
            remote.push(tieredLookup(ctx, tiered, where, p.timestamp, out, epochs));
            return out;
          }
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
    return remote.length === 0 ? res : Promise.all(remote).then(() => res);
  },
};

/** A timestamp or MAX_TIMESTAMP lookup of a tiered partition: the bucket, then local segments. */
async function tieredLookup(
  ctx: BrokerContext,
  tiered: NonNullable<BrokerContext['tiered']>,
  where: { topic: string; topicId: string; partition: number; log: PartitionLogLike },
  timestamp: bigint,
  out: G.ListOffsetsResponseListOffsetsPartitionResponse,
  epochs: boolean,
): Promise<void> {
  const log = where.log;
  let found: { offset: number; timestamp: number; leaderEpoch: number } | null = null;
  try {
    if (timestamp === MAX_TIMESTAMP) {
      const remote = await tiered.maxTimestampOffset(where);
      const local = log.maxTimestampOffset();
      found = remote === null ? local : local === null || remote.timestamp > local.timestamp || (remote.timestamp === local.timestamp && remote.offset <= local.offset) ? remote : local;
    } else {
      const target = Number(timestamp);
      found = (await tiered.offsetForTimestamp(where, target, log.logStartOffset)) ?? log.offsetForTimestamp(target);
    }
  } catch (e) {
    const code = (e as { errorCode?: unknown }).errorCode;
    out.errorCode = typeof code === 'number' ? code : errorCodeOf(ctx, e, { topic: where.topic, partition: where.partition });
    if (typeof code === 'number') ctx.log.warn('remote offset lookup failed', { topic: where.topic, partition: where.partition, err: e });
    return;
  }
  if (found !== null && found.offset < log.highWatermark) {
    out.offset = BigInt(found.offset);
    out.timestamp = BigInt(found.timestamp);
    out.leaderEpoch = epochs ? found.leaderEpoch : -1;
  }
}
