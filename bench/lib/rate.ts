// The fixed-rate latency run's arithmetic, kept apart so it is tested.

/**
 * rdkafka_performance -r R does not send R messages a second: after each message it waits
 * floor(10^6 / R) microseconds, on top of the time producing the message took (a few microseconds
 * in latency mode). So it sends at 10^6 / (floor(10^6 / R) + c) for a per-message cost c. Probing
 * Kafka in its warm-up session measures c, and the -r that yields the target follows. If c alone
 * exceeds the target's interval, the client cannot offer the target and the report says so.
 */
export function nextRequestedRate(target: number, requested: number, achieved: number): number | null {
  const cost = 1e6 / achieved - Math.floor(1e6 / requested);
  const sleepUs = Math.round(1e6 / target - cost);
  if (sleepUs < 1) return null;
  // The middle of the -r values whose floor(10^6 / R) is sleepUs.
  return Math.round(1e6 / (sleepUs + 0.5));
}
