// npm run bench:codec: MB/s for decoding and encoding Produce and Fetch requests and responses that
// carry 1 KiB records, through the generated codecs and the frame glue.
//
// Records travel through the codecs as raw bytes (a view on decode, a by-reference chunk on encode),
// so the codec figures measure the protocol framing around them. The "with record validation" lines
// add what a broker does to every produced batch: a CRC-32C check and a walk over every record.
import { cpus } from 'node:os';
import { decodeRequestFrame, decodeResponseFrame, encodeRequestFrame, encodeResponseFrame } from '../broker/protocol/frame.js';
import { ApiKey, type ApiSpec, apiSpec, defaultFetchResponsePartitionData, defaultProduceResponsePartitionProduceResponse } from '../broker/protocol/generated/index.js';
import type * as G from '../broker/protocol/generated/index.js';
import { CompressionCodec, buildBatch, readRecords, verifyBatchCrc } from '../broker/protocol/records/index.js';

const RECORD_BYTES = 1024;
const RECORDS_PER_BATCH = 16;
const PARTITIONS = 6;
const RUN_MS = Number(process.env.STRATA_BENCH_RUN_MS ?? 1000);
const REPEATS = Number(process.env.STRATA_BENCH_REPEATS ?? 5);

function batchOf1KiBRecords(baseOffset: bigint): Buffer {
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  return buildBatch({
    baseOffset,
    partitionLeaderEpoch: 0,
    compression: CompressionCodec.None,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    records: Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ key: Buffer.from(`key-${i}`), value, headers: [] })),
  });
}

const batch = batchOf1KiBRecords(0n);
const topicId = Buffer.alloc(16, 7).toString('base64url');

function produceRequest(): G.ProduceRequest {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [{ name: 'bench', topicId, partitionData: Array.from({ length: PARTITIONS }, (_, index) => ({ index, records: batch })) }],
  };
}

function produceResponse(): G.ProduceResponse {
  const spec = apiSpec(ApiKey.Produce)!;
  const res = spec.defaultResponse() as G.ProduceResponse;
  res.responses = [
    {
      name: 'bench',
      topicId,
      partitionResponses: Array.from({ length: PARTITIONS }, (_, index) => ({
        ...defaultProduceResponsePartitionProduceResponse(),
        index,
        baseOffset: 1000n,
        logStartOffset: 0n,
      })),
    },
  ];
  return res;
}

function fetchRequest(): G.FetchRequest {
  const spec = apiSpec(ApiKey.Fetch)!;
  const req = spec.defaultRequest() as G.FetchRequest;
  req.maxWaitMs = 500;
  req.minBytes = 1;
  req.maxBytes = 52428800;
  req.topics = [
    {
      topic: 'bench',
      topicId,
      partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({
        partition,
        currentLeaderEpoch: 0,
        fetchOffset: 1000n,
        lastFetchedEpoch: -1,
        logStartOffset: -1n,
        partitionMaxBytes: 1048576,
        replicaDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA',
        highWatermark: 9223372036854775807n,
      })),
    },
  ];
  return req;
}

function fetchResponse(): G.FetchResponse {
  const spec = apiSpec(ApiKey.Fetch)!;
  const res = spec.defaultResponse() as G.FetchResponse;
  res.responses = [
    {
      topic: 'bench',
      topicId,
      partitions: Array.from({ length: PARTITIONS }, (_, partitionIndex) => ({
        ...defaultFetchResponsePartitionData(),
        partitionIndex,
        highWatermark: 2000n,
        lastStableOffset: 2000n,
        logStartOffset: 0n,
        records: Buffer.concat([batch, batch, batch, batch]),
      })),
    },
  ];
  return res;
}

interface Case {
  name: string;
  version: number;
  /** Bytes moved per operation: the whole frame. */
  bytes: number;
  op: () => void;
}

function cases(): Case[] {
  const produce = apiSpec(ApiKey.Produce)!;
  const fetch = apiSpec(ApiKey.Fetch)!;
  const out: Case[] = [];
  const frameBytes = (chunks: Buffer[]) => chunks.reduce((n, c) => n + c.length, 0);
  const add = (spec: ApiSpec, version: number, kind: 'request' | 'response', value: unknown) => {
    const label = `${spec.name} ${kind} v${version}`;
    if (kind === 'request') {
      const chunks = encodeRequestFrame(spec, version, 1, 'bench', value);
      const frame = Buffer.concat(chunks).subarray(4);
      out.push({ name: `decode ${label}`, version, bytes: frame.length, op: () => void decodeRequestFrame(frame) });
      out.push({ name: `encode ${label}`, version, bytes: frameBytes(chunks), op: () => void encodeRequestFrame(spec, version, 1, 'bench', value) });
    } else {
      const chunks = encodeResponseFrame(spec, version, 1, value);
      const frame = Buffer.concat(chunks).subarray(4);
      out.push({ name: `decode ${label}`, version, bytes: frame.length, op: () => void decodeResponseFrame(spec, version, frame) });
      out.push({ name: `encode ${label}`, version, bytes: frameBytes(chunks), op: () => void encodeResponseFrame(spec, version, 1, value) });
    }
  };
  for (const v of [7, produce.maxVersion]) add(produce, v, 'request', produceRequest());
  add(produce, produce.maxVersion, 'response', produceResponse());
  for (const v of [11, fetch.maxVersion]) {
    add(fetch, v, 'request', fetchRequest());
    add(fetch, v, 'response', fetchResponse());
  }
  // What a broker does on top of decoding a produce: check every batch and walk every record.
  const produceFrame = Buffer.concat(encodeRequestFrame(produce, produce.maxVersion, 1, 'bench', produceRequest())).subarray(4);
  out.push({
    name: `decode Produce request v${produce.maxVersion} with record validation`,
    version: produce.maxVersion,
    bytes: produceFrame.length,
    op: () => {
      const req = decodeRequestFrame(produceFrame).body as G.ProduceRequest;
      for (const t of req.topicData)
        for (const p of t.partitionData) {
          verifyBatchCrc(p.records!);
          readRecords(p.records!, { maxDecompressedBytes: 1 << 24 });
        }
    },
  });
  return out;
}

function measure(c: Case): { mbPerSec: number; opsPerSec: number } {
  const runs: number[] = [];
  for (let rep = 0; rep < REPEATS; rep++) {
    let ops = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(RUN_MS) * 1_000_000n;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < 64; i++) c.op();
      ops += 64;
      now = process.hrtime.bigint();
    }
    runs.push(ops / (Number(now - start) / 1e9));
  }
  runs.sort((a, b) => a - b);
  const opsPerSec = runs[Math.floor(runs.length / 2)]!;
  return { opsPerSec, mbPerSec: (opsPerSec * c.bytes) / 1e6 };
}

function main(): void {
  const all = cases();
  process.stderr.write(`bench:codec: ${all.length} cases, ${REPEATS} runs of ${RUN_MS} ms each, median reported\n`);
  const rows: string[] = [];
  all.forEach((c, i) => {
    for (let w = 0; w < 2000; w++) c.op(); // warm the JIT
    const r = measure(c);
    process.stderr.write(`  [${i + 1}/${all.length}] ${c.name}: ${r.mbPerSec.toFixed(0)} MB/s\n`);
    rows.push(`| ${c.name} | ${(c.bytes / 1024).toFixed(1)} | ${r.opsPerSec.toFixed(0)} | ${r.mbPerSec.toFixed(0)} |`);
  });
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    `\nCodec throughput, ${RECORDS_PER_BATCH} x ${RECORD_BYTES} B records per batch, ${PARTITIONS} partitions per message\n` +
      `${cpu}, ${cpus().length} cores, Node ${process.version}\n\n` +
      '| case | frame KiB | ops/s | MB/s |\n|---|---:|---:|---:|\n' +
      rows.join('\n') +
      '\n',
  );
}

main();
