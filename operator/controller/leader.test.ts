import { describe, expect, it } from 'vitest';
import { decideLease, leadershipLost, LEASE_DURATION_MS, RENEW_DEADLINE_MS, type LeaseInput } from './leader.js';

const ME = 'operator-a_1';
const OTHER = 'operator-b_2';
const T0 = 1_700_000_000_000;
const input = (over: Partial<LeaseInput>): LeaseInput => ({ current: undefined, observedAtMs: T0, nowMs: T0, identity: ME, leaseDurationMs: LEASE_DURATION_MS, ...over });

describe('decideLease', () => {
  it('creates the lease when there is none, holding it from now', () => {
    expect(decideLease(input({ nowMs: T0 + 5 }))).toEqual({
      action: 'create',
      record: { holderIdentity: ME, leaseDurationSeconds: 15, acquireTimeMs: T0 + 5, renewTimeMs: T0 + 5, leaseTransitions: 0 },
    });
  });

  it('renews its own lease, keeping the acquire time and the transition count', () => {
    const current = { holderIdentity: ME, leaseDurationSeconds: 15, acquireTimeMs: T0, renewTimeMs: T0 + 2000, leaseTransitions: 3 };
    expect(decideLease(input({ current, nowMs: T0 + 4000 }))).toEqual({
      action: 'renew',
      record: { holderIdentity: ME, leaseDurationSeconds: 15, acquireTimeMs: T0, renewTimeMs: T0 + 4000, leaseTransitions: 3 },
    });
  });

  it('waits while another holder\'s lease runs, counted from when this candidate saw it change', () => {
    // The holder's renewTime is far in the past by its clock: only the local observation counts.
    const current = { holderIdentity: OTHER, leaseDurationSeconds: 15, acquireTimeMs: 0, renewTimeMs: 0, leaseTransitions: 1 };
    expect(decideLease(input({ current, observedAtMs: T0, nowMs: T0 + 14_999 }))).toEqual({ action: 'wait', holder: OTHER, expiresAtMs: T0 + 15_000 });
  });

  it('takes over an expired lease, counting one more transition', () => {
    const current = { holderIdentity: OTHER, leaseDurationSeconds: 15, acquireTimeMs: T0, renewTimeMs: T0, leaseTransitions: 1 };
    expect(decideLease(input({ current, observedAtMs: T0, nowMs: T0 + 15_000 }))).toEqual({
      action: 'acquire',
      record: { holderIdentity: ME, leaseDurationSeconds: 15, acquireTimeMs: T0 + 15_000, renewTimeMs: T0 + 15_000, leaseTransitions: 2 },
    });
  });

  it('uses the duration the holder wrote, so a 1 s release expires after 1 s', () => {
    const current = { holderIdentity: OTHER, leaseDurationSeconds: 1, leaseTransitions: 0 };
    expect(decideLease(input({ current, nowMs: T0 + 999 }))).toMatchObject({ action: 'wait', expiresAtMs: T0 + 1000 });
    expect(decideLease(input({ current, nowMs: T0 + 1000 }))).toMatchObject({ action: 'acquire' });
  });

  it('takes a released lease (no holder) at once', () => {
    const current = { leaseDurationSeconds: 1, renewTimeMs: T0, leaseTransitions: 4 };
    expect(decideLease(input({ current, observedAtMs: T0, nowMs: T0 }))).toMatchObject({ action: 'acquire', record: { holderIdentity: ME, leaseTransitions: 5 } });
  });

  it('falls back to its own duration when the holder wrote none', () => {
    const current = { holderIdentity: OTHER };
    expect(decideLease(input({ current, nowMs: T0 + LEASE_DURATION_MS - 1 }))).toMatchObject({ action: 'wait' });
    expect(decideLease(input({ current, nowMs: T0 + LEASE_DURATION_MS }))).toMatchObject({ action: 'acquire', record: { leaseTransitions: 1 } });
  });
});

describe('leadershipLost', () => {
  it('holds until the renew deadline has passed since the last renewal', () => {
    expect(leadershipLost(T0, T0 + RENEW_DEADLINE_MS, RENEW_DEADLINE_MS)).toBe(false);
    expect(leadershipLost(T0, T0 + RENEW_DEADLINE_MS + 1, RENEW_DEADLINE_MS)).toBe(true);
  });
});
