import { describe, expect, it } from 'vitest';
import { nextRequestedRate } from './rate.js';

describe('nextRequestedRate', () => {
  it('asks for more than the target to make up for the per-message cost', () => {
    // -r 100000 waits 10 us a message; 80,000/s sent means 2.5 us of cost on top.
    const next = nextRequestedRate(100_000, 100_000, 80_000)!;
    // It must wait floor(1e6 / next) = round(10 - 2.5) = 8 us (7.5 rounds to 8).
    expect(Math.floor(1e6 / next)).toBe(8);
    expect(1e6 / (8 + 2.5)).toBeCloseTo(95_238, 0);
  });

  it('follows the truncation of the wait to whole microseconds', () => {
    // -r 71000 waits floor(14.08) = 14 us; 55,000/s sent means a cost of about 4.18 us.
    const next = nextRequestedRate(71_000, 71_000, 55_000)!;
    expect(Math.floor(1e6 / next)).toBe(10);
  });

  it('gives up when the cost alone is longer than the target interval', () => {
    expect(nextRequestedRate(400_000, 400_000, 200_000)).toBeNull();
  });
});
