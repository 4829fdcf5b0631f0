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
