// DescribeLogDirs (key 35), v1-4, as Kafka 4.1 serves it (v5 adds cordoning, KIP-1066, which 4.1
// does not have). One result per configured log directory, in log.dirs order, with its absolute
// path: an offline directory answers KAFKA_STORAGE_ERROR with no topics and sizes -1; an online one
// lists each partition it holds with its size on disk and an offset lag of 0 (this broker is the
// only replica, so the log end is the high watermark), and from v4 the volume's total and usable
// bytes. Topics = null describes every partition; otherwise only those named, and a topic with
// none of its named partitions in a directory is left out of that directory's list, as in Kafka.
// Partitions in an offline directory are never listed (Kafka drops them from its log manager).
import type * as G from '../protocol/generated/index.js';
import { defaultDescribeLogDirsResponse } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';

export const describeLogDirsHandler: ApiHandler = {
  apiKey: 35,
  minVersion: 1,
  maxVersion: 4,
  handle: (ctx: BrokerContext, req: G.DescribeLogDirsRequest, info: RequestInfo): G.DescribeLogDirsResponse => {
    const res = defaultDescribeLogDirsResponse();
    const wanted = req.topics === null ? null : new Map(req.topics.map((t) => [t.topic, new Set(t.partitions)]));
    res.results = ctx.logDirs.dirs.map((d): G.DescribeLogDirsResponseDescribeLogDirsResult => {
      const out: G.DescribeLogDirsResponseDescribeLogDirsResult = { errorCode: ErrorCode.NONE, logDir: d.path, topics: [], totalBytes: -1n, usableBytes: -1n, isCordoned: false };
      if (!d.online) return { ...out, errorCode: ErrorCode.KAFKA_STORAGE_ERROR };
      if (info.version >= 4) {
        try {
          const space = ctx.logDirs.spaceOf(d.path);
          out.totalBytes = BigInt(space.totalBytes);
          out.usableBytes = BigInt(space.usableBytes);
        } catch (e) {
          ctx.log.warn('cannot read a log directory volume size', { dir: d.path, err: e });
          return { ...out, errorCode: ErrorCode.KAFKA_STORAGE_ERROR };
        }
      }
      for (const t of ctx.topics.all()) {
        const only = wanted === null ? null : wanted.get(t.name);
        if (only === undefined) continue;
        const partitions = t.partitions
          .filter((p) => p.logDir === d.path && !p.offline && (only === null || only.has(p.index)))
          .map((p) => ({ partitionIndex: p.index, partitionSize: BigInt(p.log.sizeBytes()), offsetLag: BigInt(Math.max(0, p.log.highWatermark - p.log.logEndOffset)), isFutureKey: false }));
        if (partitions.length > 0) out.topics.push({ name: t.name, partitions });
      }
      return out;
    });
    return res;
  },
};
