import { describe, expect, it } from 'vitest';
import { parseEndToEndLatency, parseProducerPerf } from './parse.js';

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
