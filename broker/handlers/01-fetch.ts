// Fetch (key 1), v4-18. Consumers only: no fetch sessions (every response answers with session id 0,
// so clients keep sending full fetches), no replica fetching yet.
// Per partition the read stops at the high watermark (read_uncommitted) or the last stable offset
// (read_committed); LastStableOffset is always set, and AbortedTransactions is an empty list for
// read_committed (no transactions exist yet) and null otherwise, as Kafka sends it. Size limits:
// PartitionMaxBytes per partition and MaxBytes for the response, except that the first batch of the
// first partition with data is returned whole even when larger, so a consumer can always progress.
// Long poll: when fewer than MinBytes are ready the request waits, up to MaxWaitMs, for appends to any
// of its partitions. A partition in an offline log directory answers KAFKA_STORAGE_ERROR.
// Tiered topics: an offset in [log start, local log start) is read from the bucket. Every such
// partition of the request is read at once (each gets its share of MaxBytes up front); the answer
// waits for them up to remote.fetch.max.wait.ms, then a partition still being read gets no records
// and no error (as Kafka's DelayedRemoteFetch on expiry: the client simply fetches again), and one
// whose read failed gets KAFKA_STORAGE_ERROR, which clients retry. A request with remote reads is
// answered without a long poll.
import type * as G from '../protocol/generated/index.js';
import { defaultFetchResponse, defaultFetchResponsePartitionData } from '../protocol/generated/index.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { ApiHandler, BrokerContext, RequestInfo } from './context.js';
import { errorCodeOf } from './log-errors.js';
import type { BufferLease } from '../net/read-buffers.js';

const READ_COMMITTED = 1;
/** A ceiling on one request's wait, whatever MaxWaitMs says. */
const FETCH_WAIT_MAX_MS = 30_000;

/** A partition of the request to be read from the bucket. */
interface RemoteJob {
  out: G.FetchResponsePartitionData;
  topic: string;
  run: () => Promise<{ records: Buffer; bytes: number }>;
}

function readAll(ctx: BrokerContext, req: G.FetchRequest, info: RequestInfo, lease: BufferLease): { res: G.FetchResponse; bytes: number; keys: string[]; remote: RemoteJob[] } {
  const res = defaultFetchResponse();
  const remote: RemoteJob[] = [];
  const committed = req.isolationLevel === READ_COMMITTED;
  let budget = info.version >= 3 ? req.maxBytes : Number.MAX_SAFE_INTEGER;
  let total = 0;
  const keys: string[] = [];
  res.responses = req.topics.map((t) => {
    const topic = info.version >= 13 ? ctx.topics.getById(t.topicId) : ctx.topics.get(t.topic);
    return {
      topic: t.topic,
      topicId: t.topicId,
      partitions: t.partitions.map((p) => {
        const out: G.FetchResponsePartitionData = { ...defaultFetchResponsePartitionData(), partitionIndex: p.partition };
        out.abortedTransactions = committed ? [] : null;
        const partition = topic?.partitions[p.partition];
        if (topic === undefined || partition === undefined) {
          out.errorCode = info.version >= 13 && topic === undefined ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          out.records = Buffer.alloc(0);
          return out;
        }
        if (partition.offline) {
          // As Kafka answers for a partition in an offline log directory: the offsets stay -1.
          out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
          out.highWatermark = -1n;
          out.lastStableOffset = -1n;
          out.logStartOffset = -1n;
          out.records = Buffer.alloc(0);
          return out;
        }
        keys.push(`${topic.name}:${p.partition}`);
        const log = partition.log;
        out.highWatermark = BigInt(log.highWatermark);
        out.lastStableOffset = BigInt(log.lastStableOffset);
        out.logStartOffset = BigInt(log.logStartOffset);
        const fetchOffset = Number(p.fetchOffset);
        const upTo = committed ? log.lastStableOffset : log.highWatermark;
        if (fetchOffset < log.logStartOffset || fetchOffset > log.logEndOffset) {
          out.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
          out.records = Buffer.alloc(0);
          return out;
        }
        if (fetchOffset >= upTo || budget <= 0) {
          out.records = Buffer.alloc(0);
          return out;
        }
        const tiered = ctx.tiered;
        if (fetchOffset < log.localLogStartOffset && tiered !== null) {
          const share = Math.min(p.partitionMaxBytes, budget);
          const minOne = total === 0 && remote.length === 0;
          budget -= share;
          out.records = Buffer.alloc(0);
          const where = { topic: topic.name, topicId: topic.id, partition: p.partition, log };
          remote.push({ out, topic: topic.name, run: () => tiered.read(where, fetchOffset, share, upTo, minOne) });
          return out;
        }
        try {
          const read = log.read(fetchOffset, Math.min(p.partitionMaxBytes, budget), upTo, total === 0, false, lease.alloc);
          out.records = read.records;
          total += read.bytes;
          budget -= read.bytes;
          if (read.bytes > 0) ctx.metrics.bytesOut.inc({ topic: topic.name }, read.bytes);
        } catch (e) {
          out.errorCode = errorCodeOf(ctx, e, { topic: topic.name, partition: p.partition, client: info.header.clientId });
          out.records = Buffer.alloc(0);
        }
        return out;
      }),
    };
  });
  return { res, bytes: total, keys, remote };
}

/** Runs the remote reads together, bounded by remote.fetch.max.wait.ms; returns the bytes read. */
async function readRemote(ctx: BrokerContext, jobs: RemoteJob[], info: RequestInfo): Promise<number> {
  const waitMs = ctx.tiered!.fetchMaxWaitMs;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((r) => (timer = setTimeout(r, waitMs)));
  let bytes = 0;
  const settled = jobs.map((job) =>
    job.run().then(
      (r) => ({ job, ok: true as const, r }),
      (e: unknown) => ({ job, ok: false as const, e }),
    ),
  );
  const results: ({ job: RemoteJob; ok: true; r: { records: Buffer; bytes: number } } | { job: RemoteJob; ok: false; e: unknown } | null)[] = jobs.map(() => null);
  settled.forEach((p, i) => void p.then((x) => (results[i] = x)));
  await Promise.race([Promise.all(settled), expired]);
  clearTimeout(timer);
  for (const x of results) {
    // Still running at the deadline: no records, no error; its result is dropped when it lands.
    if (x === null) continue;
    if (x.ok) {
      x.job.out.records = x.r.records;
      bytes += x.r.bytes;
      if (x.r.bytes > 0) ctx.metrics.bytesOut.inc({ topic: x.job.topic }, x.r.bytes);
    } else {
      const code = (x.e as { errorCode?: unknown }).errorCode;
      if (typeof code !== 'number' || code === ErrorCode.KAFKA_STORAGE_ERROR) {
        ctx.log.warn('remote fetch failed', { topic: x.job.topic, partition: x.job.out.partitionIndex, client: info.header.clientId, err: x.e });
      }
      x.job.out.errorCode = typeof code === 'number' ? code : ErrorCode.KAFKA_STORAGE_ERROR;
    }
  }
  return bytes;
}

export const fetchHandler: ApiHandler = {
  apiKey: 1,
  minVersion: 4,
  maxVersion: 18,
  handle: async (ctx: BrokerContext, req: G.FetchRequest, info: RequestInfo): Promise<G.FetchResponse> => {
    const deadline = ctx.nowMs() + Math.min(Math.max(req.maxWaitMs, 0), FETCH_WAIT_MAX_MS);
    for (;;) {
      // Record data is read into pooled buffers; they go back once the response is written, or at
      // once for a read that a long poll discards.
      const lease = ctx.readBuffers.lease();
      const { res, bytes: localBytes, keys, remote } = readAll(ctx, req, info, lease);
      const bytes = localBytes + (remote.length > 0 ? await readRemote(ctx, remote, info) : 0);
      if (remote.length > 0) {
        info.onResponseReleased(() => lease.release());
        return res;
      }
      const hasError = res.responses.some((t) => t.partitions.some((p) => p.errorCode !== ErrorCode.NONE));
      const left = deadline - ctx.nowMs();
      if (bytes >= req.minBytes || hasError || left <= 0 || keys.length === 0 || !(await ctx.fetchWakeup.wait(keys, left))) {
        info.onResponseReleased(() => lease.release());
        return res;
      }
      lease.release();
    }
  },
};
