// The fixed-rate latency run's calibration, kept apart so it is tested.
//
// rdkafka_performance -r R does not send R messages a second. After each message it polls until
// floor(10^6 / R) microseconds have passed, on top of the time producing the message took, and that
// cost changes with the wait itself (a 1 us wait spins in a non-blocking poll; a longer one sleeps).
// Measured here: -r 120,114 sent 67,761/s, -r 400,000 sent 107,385/s, -r 666,667 sent 219,640/s. So
// -r is searched for: probes against Kafka in its warm-up session, each next -r chosen from the
// probes so far, and the probe that came closest to the target is used for every run.
//
// -r above 10^6 makes the wait zero: the limiter is off and the producer sends as fast as its core
// allows. So -r is never asked above MAX_REQUESTED_RATE, and when even that falls short of the
// target, the target is beyond what the client core can offer: the fixed-rate runs then offer what
// that probe sent (clientCeiling), and the report says so.

/** The highest -r that still waits after each message (1 us). */
export const MAX_REQUESTED_RATE = 1_000_000;

export interface Probe {
  requested: number;
  achieved: number;
}

/** Whether a probe is close enough to the target to stop searching. */
export function closeEnough(target: number, achieved: number, tolerance = 0.05): boolean {
  return Math.abs(achieved - target) <= target * tolerance;
}

/**
 * The next -r to try. Sending rate grows with -r, so once one probe fell short and another overshot,
 * the next lies between them (geometric middle); before that, scale the last -r by how far it missed.
 */
export function nextProbeRate(target: number, probes: readonly Probe[]): number {
  const last = probes.at(-1);
  if (last === undefined) return clamp(target);
  const under = probes.filter((p) => p.achieved < target).sort((a, b) => b.requested - a.requested)[0];
  const over = probes.filter((p) => p.achieved >= target).sort((a, b) => a.requested - b.requested)[0];
  if (under !== undefined && over !== undefined) return clamp(Math.sqrt(under.requested * over.requested));
  return clamp(last.requested * (target / Math.max(last.achieved, 1)));
}

function clamp(rate: number): number {
  return Math.min(MAX_REQUESTED_RATE, Math.max(1, Math.round(rate)));
}

/**
 * When the probe at MAX_REQUESTED_RATE fell short of the target (and was not close enough), what it
 * sent: the most the client core offers with the limiter on. Undefined while the target is reachable.
 */
export function clientCeiling(target: number, probes: readonly Probe[]): number | undefined {
  const top = probes.find((p) => p.requested === MAX_REQUESTED_RATE);
  if (top === undefined || top.achieved >= target || closeEnough(target, top.achieved)) return undefined;
  return top.achieved;
}

/** The probe whose sending rate came closest to the target. */
export function bestProbe(target: number, probes: readonly Probe[]): Probe | undefined {
  return [...probes].sort((a, b) => Math.abs(a.achieved - target) - Math.abs(b.achieved - target))[0];
}
