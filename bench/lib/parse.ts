// Parsers for the output of the load tools bench/run.ts drives. Each returns numbers or throws with
// the tail of the output, so a tool that failed or printed something unexpected stops the run
// instead of entering the report as a zero.

export interface ProduceResult {
  recordsPerSec: number;
  mbPerSec: number;
  avgMs: number;
  maxMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
}

function fail(tool: string, out: string): never {
  throw new Error(`no ${tool} summary in output:\n${out.slice(-2000)}`);
}

// The final summary line of Kafka's ProducerPerformance, e.g.
// "200000 records sent, 95238.1 records/sec (93.01 MB/sec), 150.23 ms avg latency, 400.00 ms max latency,
//  140 ms 50th, 300 ms 95th, 380 ms 99th, 399 ms 99.9th."
const PRODUCER_PERF =
  /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/;

export function parseProducerPerf(out: string, expectRecords: number): ProduceResult {
  const last = out.split('\n').filter((l) => PRODUCER_PERF.test(l)).at(-1);
  const m = last === undefined ? null : PRODUCER_PERF.exec(last);
  if (!m) fail('ProducerPerformance', out);
  if (Number(m[1]) !== expectRecords) throw new Error(`ProducerPerformance sent ${m[1]} records, expected ${expectRecords}`);
  return {
    recordsPerSec: Number(m[2]),
    mbPerSec: Number(m[3]),
    avgMs: Number(m[4]),
    maxMs: Number(m[5]),
    p50Ms: Number(m[6]),
    p95Ms: Number(m[7]),
    p99Ms: Number(m[8]),
    p999Ms: Number(m[9]),
  };
}

export interface ConsumeResult {
  records: number;
  mb: number;
  recordsPerSec: number;
  mbPerSec: number;
}

// Kafka's ConsumerPerformance prints a header line and one CSV line:
// "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms,
//  fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
// The fetch.* columns exclude the time spent joining the group, so they measure reading alone.
export function parseConsumerPerf(out: string, expectRecords: number): ConsumeResult {
  const lines = out.split('\n');
  const h = lines.findIndex((l) => l.startsWith('start.time'));
  if (h < 0 || lines[h + 1] === undefined) fail('ConsumerPerformance', out);
  const names = lines[h]!.split(',').map((s) => s.trim());
  const values = lines[h + 1]!.split(',').map((s) => s.trim());
  const col = (name: string): number => {
    const i = names.indexOf(name);
    const v = Number(values[i]);
    if (i < 0 || !Number.isFinite(v)) fail('ConsumerPerformance', out);
    return v;
  };
  const records = col('data.consumed.in.nMsg');
  if (records < expectRecords) throw new Error(`ConsumerPerformance read ${records} records, expected ${expectRecords}`);
  return { records, mb: col('data.consumed.in.MB'), recordsPerSec: col('fetch.nMsg.sec'), mbPerSec: col('fetch.MB.sec') };
}

export interface LatencyResult {
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
}

// Kafka's EndToEndLatency (one record in flight: produce, then poll until it arrives):
// "Avg latency: 0.7090 ms" and "Percentiles: 50th = 0, 99th = 5, 99.9th = 10" (whole milliseconds).
export function parseEndToEndLatency(out: string): LatencyResult {
  const avg = /Avg latency: ([\d.]+) ms/.exec(out);
  const pct = /Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)/.exec(out);
  if (!avg || !pct) fail('EndToEndLatency', out);
  return { avgMs: Number(avg[1]), p50Ms: Number(pct[1]), p99Ms: Number(pct[2]), p999Ms: Number(pct[3]) };
}

export interface RdkafkaProduceResult {
  delivered: number;
  failed: number;
  msgsPerSec: number;
  /**
   * The sending rate between the tool's second and its last once-a-second progress line (printed
   * without -q), leaving out connecting at the start and waiting for the last acks at the end;
   * undefined when there are too few lines.
   */
  steadyMsgsPerSec?: number;
}

// rdkafka_performance's producer summary, e.g.
// "% 1000000 messages produced (1024000000 bytes), 1000000 delivered (offset 166540, 0 failed) in 3294ms:
//  303548 msgs/s and 310.83 MB/s, 6473 produce failures, 0 in queue, no compression"
// ("produce failures" counts retries when the tool's own send queue was full, not lost messages.)
const RDKAFKA_PRODUCE =
  /^% (\d+) messages produced \((\d+) bytes\), (\d+) delivered \(offset (-?\d+), (\d+) failed\) in (\d+)ms: (\d+) msgs\/s and ([\d.]+) MB\/s/m;

export function parseRdkafkaProduce(out: string, expectRecords: number): RdkafkaProduceResult {
  const lines = [...out.matchAll(new RegExp(RDKAFKA_PRODUCE.source, 'gm'))];
  // The summary is the last line; the ones before it (without -q) are progress lines.
  const m = lines.at(-1);
  if (!m) fail('rdkafka_performance producer', out);
  const delivered = Number(m[3]);
  const failed = Number(m[5]);
  // One delivery more than asked has been seen at high -r; more delivered is no loss.
  if (delivered < expectRecords || failed !== 0) throw new Error(`rdkafka_performance delivered ${delivered} of ${expectRecords} messages, ${failed} failed`);
  const progress = lines.slice(0, -1);
  let steadyMsgsPerSec: number | undefined;
  if (progress.length >= 3) {
    const first = progress[1]!;
    const last = progress.at(-1)!;
    const ms = Number(last[6]) - Number(first[6]);
    if (ms > 0) steadyMsgsPerSec = Math.round(((Number(last[1]) - Number(first[1])) * 1000) / ms);
  }
  return { delivered, failed, msgsPerSec: Number(m[7]), ...(steadyMsgsPerSec === undefined ? {} : { steadyMsgsPerSec }) };
}

export interface RdkafkaConsumeResult {
  messages: number;
  msgsPerSec: number;
}

// rdkafka_performance's consumer summary (the last one printed), e.g.
// "% 2000000 messages (2048000000 bytes) consumed in 2644ms: 756346 msgs/s (774.50 MB/s)"
const RDKAFKA_CONSUME = /^% (\d+) messages \((\d+) bytes\) consumed in (\d+)ms: (\d+) msgs\/s/gm;

export function parseRdkafkaConsume(out: string, expectRecords: number): RdkafkaConsumeResult {
  const m = [...out.matchAll(RDKAFKA_CONSUME)].at(-1);
  if (!m) fail('rdkafka_performance consumer', out);
  const messages = Number(m[1]);
  if (messages < expectRecords) throw new Error(`rdkafka_performance consumed ${messages} of ${expectRecords} messages`);
  return { messages, msgsPerSec: Number(m[4]) };
}

/** Nearest-rank percentiles of latencies in microseconds (one per line, as `-A` writes them), in ms. */
export function latencyPercentilesMs(text: string, expectCount: number): { p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number } {
  const us = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number)
    .sort((a, b) => a - b);
  if (us.length < expectCount || us.some((v) => !Number.isFinite(v))) throw new Error(`latency file holds ${us.length} valid samples, expected ${expectCount}`);
  const rank = (p: number) => us[Math.max(0, Math.ceil(p * us.length) - 1)]! / 1000;
  return { p50Ms: rank(0.5), p99Ms: rank(0.99), p999Ms: rank(0.999), maxMs: us.at(-1)! / 1000 };
}
