import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { faultInjector, parseFaultRules } from './fault-plan.js';

describe('STRATA_FAULTS', () => {
  it('parses rules and refuses anything else with the grammar', () => {
    expect(parseFaultRules('roll:crash@3, append:enospc@10+')).toEqual([
      { point: 'roll', action: 'crash', hit: 3, andLater: false, logDir: null },
      { point: 'append', action: 'enospc', hit: 10, andLater: true, logDir: null },
    ]);
    expect(parseFaultRules('append:eio@2+:/data/d2, checkpoint:eio@1:rel/d:x')).toEqual([
      { point: 'append', action: 'eio', hit: 2, andLater: true, logDir: '/data/d2' },
      { point: 'checkpoint', action: 'eio', hit: 1, andLater: false, logDir: path.resolve('rel/d:x') },
    ]);
    expect(parseFaultRules('')).toEqual([]);
    for (const bad of ['roll', 'roll:crash', 'rolls:crash@1', 'roll:explode@1', 'roll:crash@0', 'roll:crash@x', 'roll:crash@1:', 'roll:crash@1+/d']) {
      expect(() => parseFaultRules(bad)).toThrow(/STRATA_FAULTS: .* is not a fault rule \(point:action@hit\[\+\]\[:logdir\]/);
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

  it('counts every matching rule on each hit, even when an earlier one fires', () => {
    const kills: number[] = [];
    const inject = faultInjector(parseFaultRules('append:eio@1,append:crash@2'), () => kills.push(1));
    expect(() => inject('append', 'a')).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(() => inject('append', 'a')).toThrow();
    expect(kills).toEqual([1]);
  });

  it('scopes a rule to one log directory: only hits there count, and only there it fires', () => {
    const inject = faultInjector(parseFaultRules('append:eio@2+:/data/d2,roll:eio@3'), () => {});
    const d1 = inject.forDir('/data/d1');
    const d2 = inject.forDir('/data/./d2');
    for (let i = 0; i < 5; i++) expect(() => d1('append', 'a')).not.toThrow();
    expect(() => inject('append', 'a')).not.toThrow();
    expect(() => d2('append', 'a')).not.toThrow();
    expect(() => d2('append', 'a')).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(() => d2('append', 'a')).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(() => d1('append', 'a')).not.toThrow();
    // An unscoped rule counts hits in every directory.
    d1('roll', 'r');
    d2('roll', 'r');
    expect(() => inject('roll', 'r')).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(inject.hits.get('append')).toBe(10);
  });
});
