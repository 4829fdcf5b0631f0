import { describe, expect, it } from 'vitest';
import { MAX_REQUESTED_RATE, bestProbe, clientCeiling, closeEnough, nextProbeRate } from './rate.js';

describe('fixed-rate calibration', () => {
  it('starts at the target, then scales the request by how far the last probe missed', () => {
    expect(nextProbeRate(120_000, [])).toBe(120_000);
    expect(nextProbeRate(120_000, [{ requested: 120_000, achieved: 60_000 }])).toBe(240_000);
    expect(nextProbeRate(100_000, [{ requested: 100_000, achieved: 125_000 }])).toBe(80_000);
  });

  it('once the target is bracketed, tries the geometric middle of the tightest bracket', () => {
    const probes = [
      { requested: 120_114, achieved: 67_761 },
      { requested: 400_000, achieved: 107_385 },
      { requested: 666_667, achieved: 219_640 },
    ];
    expect(nextProbeRate(120_114, probes)).toBe(Math.round(Math.sqrt(400_000 * 666_667)));
  });

  it('keeps the probe closest to the target, and knows when one is close enough', () => {
    const probes = [
      { requested: 400_000, achieved: 107_385 },
      { requested: 666_667, achieved: 219_640 },
      { requested: 516_398, achieved: 118_000 },
    ];
    expect(bestProbe(120_114, probes)?.requested).toBe(516_398);
    expect(closeEnough(120_114, 118_000)).toBe(true);
    expect(closeEnough(120_114, 107_385)).toBe(false);
    expect(bestProbe(1, [])).toBeUndefined();
  });

  it('never asks above the highest -r that still limits, and names the client ceiling when that falls short', () => {
    // A target beyond the client core: the scaled request would turn the limiter off.
    const first = { requested: 189_000, achieved: 30_000 };
    expect(nextProbeRate(189_000, [first])).toBe(MAX_REQUESTED_RATE);
    expect(clientCeiling(189_000, [first])).toBeUndefined();
    const top = { requested: MAX_REQUESTED_RATE, achieved: 150_000 };
    expect(nextProbeRate(189_000, [first, top])).toBe(MAX_REQUESTED_RATE);
    expect(clientCeiling(189_000, [first, top])).toBe(150_000);
    // Reached, or close enough: no ceiling.
    expect(clientCeiling(150_000, [first, top])).toBeUndefined();
    expect(clientCeiling(155_000, [first, top])).toBeUndefined();
  });
});
