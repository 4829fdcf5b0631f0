import { describe, expect, it } from 'vitest';
import { latencyPercentilesMs, parseConsumerPerf, parseEndToEndLatency, parseProducerPerf, parseRdkafkaConsume, parseRdkafkaProduce } from './parse.js';

// Output captured from Kafka 4.1.1's tools run against Strata on this machine.
const PRODUCER_OUT = `505938 records sent, 101126.9 records/sec (98.76 MB/sec), 9.3 ms avg latency, 606.0 ms max latency.
600000 records sent, 105708.2 records/sec (103.23 MB/sec), 8.52 ms avg latency, 606.00 ms max latency, 6 ms 50th, 28 ms 95th, 51 ms 99th, 77 ms 99.9th.
`;

const E2E_OUT = `Avg latency: 0.7090 ms
Percentiles: 50th = 0, 99th = 5, 99.9th = 10
`;

describe('bench tool output parsers', () => {
  it('reads the final ProducerPerformance summary, not the progress lines', () => {
    expect(parseProducerPerf(PRODUCER_OUT, 600000)).toEqual({
      recordsPerSec: 105708.2,
      mbPerSec: 103.23,
      avgMs: 8.52,
      maxMs: 606,
      p50Ms: 6,
      p95Ms: 28,
      p99Ms: 51,
      p999Ms: 77,
    });
  });

  it('refuses a ProducerPerformance run that sent fewer records than asked, or printed no summary', () => {
    expect(() => parseProducerPerf(PRODUCER_OUT, 1_000_000)).toThrow(/sent 600000 records, expected 1000000/);
    expect(() => parseProducerPerf(PRODUCER_OUT.split('\n')[0]!, 600000)).toThrow(/no ProducerPerformance summary/);
  });

  it('reads EndToEndLatency averages and percentiles', () => {
    expect(parseEndToEndLatency(E2E_OUT)).toEqual({ avgMs: 0.709, p50Ms: 0, p99Ms: 5, p999Ms: 10 });
    expect(() => parseEndToEndLatency('Avg latency: 0.7 ms\n')).toThrow(/no EndToEndLatency summary/);
  });
});

describe('ConsumerPerformance output parser', () => {
  // Captured from Kafka 4.1.1's ConsumerPerformance against Strata.
  const out = `start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-11-22 07:23:10:275, 2026-11-22 07:23:10:813, 0.0848, 0.1576, 20000, 37174.7212, 357, 181, 0.4684, 110497.2376
`;
  it('takes the fetch-time rates, which leave out joining the group', () => {
    expect(parseConsumerPerf(out, 20000)).toEqual({ records: 20000, mb: 0.0848, recordsPerSec: 110497.2376, mbPerSec: 0.4684 });
    expect(() => parseConsumerPerf(out, 30000)).toThrow(/read 20000 records, expected 30000/);
    expect(() => parseConsumerPerf('WARN nothing\n', 1)).toThrow(/no ConsumerPerformance summary/);
  });
});

describe('rdkafka_performance output parsers', () => {
  // Captured from rdkafka_performance (librdkafka 2.12.0) against Strata.
  const produced =
    '% 1000000 messages produced (1024000000 bytes), 1000000 delivered (offset 166540, 0 failed) in 3294ms: 303548 msgs/s and 310.83 MB/s, 6473 produce failures, 0 in queue, no compression\n';
  const consumed =
    '% 0 messages (0 bytes) consumed in 0ms: 0 msgs/s (0.00 MB/s)\n% 2000000 messages (2048000000 bytes) consumed in 2644ms: 756346 msgs/s (774.50 MB/s)\n% Average application fetch latency: 1us\n';

  it('reads the producer summary and refuses undelivered messages', () => {
    expect(parseRdkafkaProduce(produced, 1_000_000)).toEqual({ delivered: 1_000_000, failed: 0, msgsPerSec: 303548 });
    expect(() => parseRdkafkaProduce(produced.replace('0 failed', '3 failed'), 1_000_000)).toThrow(/3 failed/);
    expect(() => parseRdkafkaProduce(produced, 2_000_000)).toThrow(/delivered 1000000 of 2000000/);
  });

  it('takes the steady sending rate from the progress lines, between the second and the last', () => {
    // Captured from rdkafka_performance -r 40000 -l (without -q) against Strata.
    const withProgress = [
      '% Sending 200000 messages of size 1024 bytes',
      '% 38058 messages produced (38971392 bytes), 37948 delivered (offset 6364, 0 failed) in 1000ms: 37947 msgs/s and 38.86 MB/s, 0 produce failures, 110 in queue, no compression',
      '% 77171 messages produced (79023104 bytes), 77039 delivered (offset 13157, 0 failed) in 2000ms: 38518 msgs/s and 39.44 MB/s, 0 produce failures, 132 in queue, no compression',
      '% 116273 messages produced (119063552 bytes), 116116 delivered (offset 19310, 0 failed) in 3000ms: 38704 msgs/s and 39.63 MB/s, 0 produce failures, 157 in queue, no compression',
      '% 155393 messages produced (159122432 bytes), 155277 delivered (offset 25908, 0 failed) in 4000ms: 38818 msgs/s and 39.75 MB/s, 0 produce failures, 116 in queue, no compression',
      '% 200000 messages produced (204800000 bytes), 200000 delivered (offset 33369, 0 failed) in 5144ms: 38873 msgs/s and 39.81 MB/s, 0 produce failures, 0 in queue, no compression',
      '',
    ].join('\n');
    // (155393 - 77171) messages over 2000 ms.
    expect(parseRdkafkaProduce(withProgress, 200_000)).toEqual({ delivered: 200_000, failed: 0, msgsPerSec: 38873, steadyMsgsPerSec: 39111 });
  });

  it('reads the last consumer summary and refuses a short read', () => {
    expect(parseRdkafkaConsume(consumed, 2_000_000)).toEqual({ messages: 2_000_000, msgsPerSec: 756346 });
    expect(() => parseRdkafkaConsume(consumed, 3_000_000)).toThrow(/consumed 2000000 of 3000000/);
  });

  it('computes nearest-rank percentiles from per-message latencies in microseconds', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => String((i + 1) * 10)).reverse().join('\n');
    expect(latencyPercentilesMs(lines, 1000)).toEqual({ p50Ms: 5, p99Ms: 9.9, p999Ms: 9.99, maxMs: 10 });
    expect(() => latencyPercentilesMs('100\n200\n', 3)).toThrow(/2 valid samples, expected 3/);
  });
});
