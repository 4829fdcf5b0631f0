import { describe, expect, it } from 'vitest';
import { bestProbe, closeEnough, nextProbeRate } from './rate.js';

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
});
