// Faults armed from outside the process, for crash and disk-failure tests of a real broker:
//
//   STRATA_FAULTS="roll:crash@3,append:enospc@10+"
//
// Each rule is `point:action@hit`: the log's fault point (append, index-write, roll, flush,
// checkpoint, delete, clean), what happens there, and on which hit of that point (counted across all
// partitions of the process) — `@3` the third hit only, `@3+` the third and every later one.
// Actions: `crash` kills the process with SIGKILL on the spot (no flush, no cleanup: what a power
// cut or an OOM kill leaves), `enospc` and `eio` throw the error a full or failing disk gives.
// Not for production: the broker logs a warning at start-up when faults are armed.
import type { FaultInjector, FaultPoint } from './types.js';

export const FAULTS_ENV = 'STRATA_FAULTS';
const POINTS: readonly FaultPoint[] = ['append', 'index-write', 'roll', 'flush', 'checkpoint', 'delete', 'clean'];
const ACTIONS = ['crash', 'enospc', 'eio'] as const;
type FaultAction = (typeof ACTIONS)[number];

export interface FaultRule {
  point: FaultPoint;
  action: FaultAction;
  hit: number;
  andLater: boolean;
}

export const FAULTS_GRAMMAR = `point:action@hit[+], comma-separated; point one of ${POINTS.join(', ')}; action one of ${ACTIONS.join(', ')}; hit a positive integer`;

/** Parses STRATA_FAULTS; throws with the grammar on anything else. */
export function parseFaultRules(text: string): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([a-z-]+):([a-z]+)@(\d+)(\+?)$/.exec(part);
    if (m === null || !POINTS.includes(m[1] as FaultPoint) || !ACTIONS.includes(m[2] as FaultAction) || Number(m[3]) < 1) {
      throw new Error(`${FAULTS_ENV}: '${part}' is not a fault rule (${FAULTS_GRAMMAR})`);
    }
    rules.push({ point: m[1] as FaultPoint, action: m[2] as FaultAction, hit: Number(m[3]), andLater: m[4] === '+' });
  }
  return rules;
}

function errnoError(code: 'ENOSPC' | 'EIO', point: string, detail: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: injected at fault point ${point} (${detail})`);
  e.code = code;
  e.errno = code === 'ENOSPC' ? -28 : -5;
  return e;
}

/** The injector for a set of rules; hits are counted per point across every log that uses it. */
export function faultInjector(rules: readonly FaultRule[], kill: () => void = () => process.kill(process.pid, 'SIGKILL')): FaultInjector & { hits: Map<FaultPoint, number> } {
  const hits = new Map<FaultPoint, number>();
  const inject = (point: FaultPoint, detail: string): void => {
    const n = (hits.get(point) ?? 0) + 1;
    hits.set(point, n);
    for (const r of rules) {
      if (r.point !== point || n < r.hit || (n > r.hit && !r.andLater)) continue;
      if (r.action === 'crash') {
        process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: 'injected crash', point, hit: n, detail })}\n`);
        kill();
      }
      throw errnoError(r.action === 'enospc' ? 'ENOSPC' : 'EIO', point, detail);
    }
  };
  return Object.assign(inject, { hits });
}
