import { describe, expect, it } from 'vitest';
import { faultInjector, parseFaultRules } from './fault-plan.js';

describe('STRATA_FAULTS', () => {
  it('parses rules and refuses anything else with the grammar', () => {
    expect(parseFaultRules('roll:crash@3, append:enospc@10+')).toEqual([
      { point: 'roll', action: 'crash', hit: 3, andLater: false },
      { point: 'append', action: 'enospc', hit: 10, andLater: true },
    ]);
    expect(parseFaultRules('')).toEqual([]);
    for (const bad of ['roll', 'roll:crash', 'rolls:crash@1', 'roll:explode@1', 'roll:crash@0', 'roll:crash@x']) {
      expect(() => parseFaultRules(bad)).toThrow(/STRATA_FAULTS: .* is not a fault rule \(point:action@hit/);
    }
  });

  it('fires on the chosen hit of its point, or from it on, counting hits per point', () => {
    const kills: number[] = [];
    const inject = faultInjector(parseFaultRules('append:enospc@2+,roll:crash@2,flush:eio@1'), () => kills.push(1));
    expect(() => inject('append', 'a')).not.toThrow();
    for (let i = 0; i < 3; i++) expect(() => inject('append', 'a')).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    inject('roll', 'r');
    expect(kills).toEqual([]);
    // The kill function is a test double here, so the injector goes on to throw.
    expect(() => inject('roll', 'r')).toThrow();
    expect(kills).toEqual([1]);
    inject('roll', 'r');
    expect(() => inject('flush', 'f')).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(() => inject('flush', 'f')).not.toThrow();
    expect(inject.hits.get('append')).toBe(4);
  });
});
