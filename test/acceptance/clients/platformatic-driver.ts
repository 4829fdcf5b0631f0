/**
 * Child-process driver for @platformatic/kafka in Strata's acceptance tests
 * (see index.ts; input and output formats in driver-io.ts):
 *   node --import tsx platformatic-driver.ts create-topic <bootstrap> <topic> <partitions>
 *   node --import tsx platformatic-driver.ts produce      <bootstrap> <topic> <codec>   (records on stdin)
 *   node --import tsx platformatic-driver.ts consume      <bootstrap> <topic> <p>=<count>[,...]
 *   node --import tsx platformatic-driver.ts version      (no broker: prints the client library's version)
 *
 * @platformatic/kafka compresses zstd with node:zlib's zstd functions, which
 * Node.js only has from 22.15 / 23.8 on. On older Node.js (the project runs
 * on 20) the driver puts zstd-napi, a project dependency, into the library's
 * codec table instead; the wire format (a standard zstd frame) is the same.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import {
  Admin,
  compressionsAlgorithms,
  Consumer,
  defaultPartitioner,
  IS_CONTROL,
  ProduceAcks,
  Producer,
  type CompressionAlgorithmValue,
  type MessageToProduce,
} from '@platformatic/kafka';
import { compress as zstdCompress, decompress as zstdDecompress } from 'zstd-napi';
import { emit, flushLines, hexOrNull, maybeFlush, readStdinRecords, runDriver } from './driver-io.js';

/** Records per producer.send(): one Produce request with one batch per partition. */
const SEND_CHUNK = 500;

const CODECS = new Set(['none', 'gzip', 'snappy', 'lz4', 'zstd']);

function installZstdFallback(): void {
  if (typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function') return;
  const zstd = compressionsAlgorithms.zstd as unknown as {
    compressSync(data: unknown): Buffer;
    decompressSync(data: unknown): Buffer;
    available: boolean;
  };
  const bytes = (data: unknown): Buffer => (Buffer.isBuffer(data) ? data : (data as { buffer: Buffer }).buffer);
  zstd.compressSync = (data) => zstdCompress(bytes(data));
  zstd.decompressSync = (data) => zstdDecompress(bytes(data));
  zstd.available = true;
}

function baseOptions(bootstrap: string, clientId: string) {
  return { clientId, bootstrapBrokers: [bootstrap], timeout: 30000, retries: 5, retryDelay: 200 };
}

async function createTopic(bootstrap: string, topic: string, partitions: number): Promise<number> {
  const admin = new Admin(baseOptions(bootstrap, 'strata-acceptance-platformatic-admin'));
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    emit({ event: 'created', topic, partitions });
    return 0;
  } finally {
    await admin.close();
  }
}

/**
 * Producer with the library's default partitioner (murmur2 of the key; not
 * the Java formula), acks -1, not idempotent (the library's default). Each
 * send() is one Produce request with one batch per partition; records go in
 * chunks of SEND_CHUNK. The partitioner is wrapped to learn where each record
 * went; its offset is the batch's baseOffset plus its position in the batch.
 */
async function produce(bootstrap: string, topic: string, codec: string): Promise<number> {
  if (!CODECS.has(codec)) throw new Error(`unknown codec ${codec}`);
  installZstdFallback();
  const input = await readStdinRecords();

  const raw = new Map<MessageToProduce<Buffer, Buffer, Buffer, Buffer>, number>();
  const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
    ...baseOptions(bootstrap, 'strata-acceptance-platformatic'),
    acks: ProduceAcks.ALL,
    compression: codec as CompressionAlgorithmValue,
    autocreateTopics: false,
    partitioner: (message, key) => {
      const p = defaultPartitioner(message, key);
      raw.set(message, p);
      return p;
    },
  });
  let failed = 0;
  try {
    const md = await producer.metadata({ topics: [topic] });
    const partitionsCount = md.topics.get(topic)?.partitionsCount;
    if (!partitionsCount) throw new Error(`no metadata for ${topic}`);
    for (let start = 0; start < input.length; start += SEND_CHUNK) {
      const chunk = input.slice(start, start + SEND_CHUNK);
      const messages: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = chunk.map((r) => ({
        topic,
        key: r.key ?? undefined,
        value: r.value as Buffer,
        headers: new Map(r.headers.map(([name, v]) => [Buffer.from(name, 'utf8'), v as Buffer])),
      }));
      raw.clear();
      try {
        const res = await producer.send({ messages });
        const base = new Map<number, bigint>();
        for (const o of res.offsets ?? []) if (o.topic === topic) base.set(o.partition, o.offset);
        const position = new Map<number, number>();
        messages.forEach((m, i) => {
          const r = raw.get(m);
          // The library reduces the partitioner's answer modulo the partition count.
          const p = r === undefined ? undefined : r % partitionsCount;
          const b = p === undefined ? undefined : base.get(p);
          if (p === undefined || b === undefined) {
            failed++;
            emit({ index: start + i, error: 'no partition or base offset for this record' });
            return;
          }
          const k = position.get(p) ?? 0;
          position.set(p, k + 1);
          emit({ index: start + i, partition: p, offset: Number(b + BigInt(k)) });
        });
      } catch (err) {
        const e = err as Error;
        chunk.forEach((_, i) => emit({ index: start + i, error: `${e.name}: ${e.message}` }));
        failed += chunk.length;
      }
      await maybeFlush();
    }
  } finally {
    await producer.close();
  }
  emit({ event: 'done', records: input.length, failed });
  return failed === 0 ? 0 : 1;
}

/**
 * No group: Consumer.consume() always joins one, so this uses the same
 * client's listOffsets() (earliest) and fetch() against each partition's
 * leader, until each partition has its expected count. Records before the
 * requested offset (a compressed batch is returned whole) and control
 * batches are skipped, as the library's own stream does.
 */
async function consume(bootstrap: string, topic: string, expected: Map<number, number>): Promise<number> {
  installZstdFallback();
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    ...baseOptions(bootstrap, 'strata-acceptance-platformatic-consumer'),
    groupId: 'strata-acceptance-platformatic-unused',
  });
  let total = 0;
  try {
    const partitions = [...expected.keys()];
    const md = await consumer.metadata({ topics: [topic] });
    const tmd = md.topics.get(topic);
    if (!tmd) throw new Error(`no metadata for ${topic}`);
    const earliest = await consumer.listOffsets({ topics: [topic], partitions: { [topic]: partitions }, timestamp: -2n });
    const next = new Map<number, bigint>(partitions.map((p) => [p, earliest.get(topic)?.[p] ?? 0n]));
    const seen = new Map<number, number>(partitions.map((p) => [p, 0]));
    const open = () => partitions.filter((p) => seen.get(p)! < expected.get(p)!);

    while (open().length > 0) {
      const byLeader = new Map<number, number[]>();
      for (const p of open()) {
        const leader = tmd.partitions[p]!.leader;
        byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
      }
      await Promise.all(
        [...byLeader].map(async ([node, parts]) => {
          const requested = new Map(parts.map((p) => [p, next.get(p)!]));
          const response = await consumer.fetch({
            node,
            maxWaitTime: 500,
            minBytes: 1,
            maxBytes: 10 << 20,
            topics: [
              {
                topicId: tmd.id,
                partitions: parts.map((partition) => ({
                  partition,
                  currentLeaderEpoch: -1,
                  fetchOffset: requested.get(partition)!,
                  lastFetchedEpoch: -1,
                  partitionMaxBytes: 1 << 20,
                })),
              },
            ],
          });
          for (const t of response.responses) {
            for (const pr of t.partitions) {
              if (pr.errorCode !== 0) {
                process.stderr.write(`fetch ${topic}/${pr.partitionIndex}: error ${pr.errorCode}\n`);
                continue;
              }
              const p = pr.partitionIndex;
              const from = requested.get(p)!;
              for (const batch of pr.records ?? []) {
                const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
                if (last + 1n > next.get(p)!) next.set(p, last + 1n);
                if (batch.attributes & IS_CONTROL) continue;
                for (const r of batch.records) {
                  const offset = batch.firstOffset + BigInt(r.offsetDelta);
                  if (offset < from) continue;
                  const got = seen.get(p)!;
                  if (got >= expected.get(p)!) break;
                  seen.set(p, got + 1);
                  total++;
                  emit({
                    partition: p,
                    offset: Number(offset),
                    key: hexOrNull(r.key),
                    value: hexOrNull(r.value),
                    headers: r.headers.map(([k, v]) => [k === null ? null : k.toString('utf8'), hexOrNull(v)]),
                  });
                }
              }
            }
          }
        }),
      );
      await maybeFlush();
    }
  } finally {
    await consumer.close(true);
  }
  emit({ event: 'done', records: total });
  await flushLines();
  return 0;
}

/** No broker: proves the library and the zstd fallback load, and names the version. */
async function version(): Promise<number> {
  installZstdFallback();
  const probe = Buffer.from('strata');
  const zstd = compressionsAlgorithms.zstd;
  if (!zstd.decompressSync(zstd.compressSync(probe)).equals(probe)) throw new Error('zstd round trip failed');
  // The package exports no ./package.json; read it next to its dist/ directory.
  const main = fileURLToPath(import.meta.resolve('@platformatic/kafka'));
  const pkg = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { name: string; version: string };
  emit({ event: 'version', version: `${pkg.name} ${pkg.version}` });
  return 0;
}

runDriver('platformatic-driver.ts', { version, createTopic, produce, consume });
