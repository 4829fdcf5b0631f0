// Faults armed from outside the process, for crash and disk-failure tests of a real broker:
//
//   STRATA_FAULTS="roll:crash@3,append:enospc@10+,append:eio@5+:/var/lib/strata/d2"
//
// Each rule is `point:action@hit[+][:logdir]`: the log's fault point (append, index-write, roll,
// flush, writeback, checkpoint, delete, clean), what happens there, and on which hit of that point — `@3` the
// third hit only, `@3+` the third and every later one. Without a log directory, hits are counted
// across all partitions of the process; with one (the rest of the rule after the colon, a path as
// given in log.dirs, compared once resolved), only hits in partitions of that directory and in the
// files written directly in it (meta.properties, the replicated metadata) count, and only there does
// the rule fire. Paths may not contain commas.
// Actions: `crash` kills the process with SIGKILL on the spot (no flush, no cleanup: what a power
// cut or an OOM kill leaves), `enospc` and `eio` throw the error a full or failing disk gives.
// Not for production: the broker logs a warning at start-up when faults are armed.
import path from 'node:path';
import type { FaultInjector, FaultPoint } from './types.js';

export const FAULTS_ENV = 'STRATA_FAULTS';
const POINTS: readonly FaultPoint[] = ['append', 'index-write', 'roll', 'flush', 'writeback', 'checkpoint', 'delete', 'clean'];
const ACTIONS = ['crash', 'enospc', 'eio'] as const;
type FaultAction = (typeof ACTIONS)[number];

export interface FaultRule {
  point: FaultPoint;
  action: FaultAction;
  hit: number;
  andLater: boolean;
  /** The resolved log directory the rule is scoped to, or null for every directory. */
  logDir: string | null;
}

export const FAULTS_GRAMMAR = `point:action@hit[+][:logdir], comma-separated; point one of ${POINTS.join(', ')}; action one of ${ACTIONS.join(', ')}; hit a positive integer; logdir a path`;

/** Parses STRATA_FAULTS; throws with the grammar on anything else. */
export function parseFaultRules(text: string): FaultRule[] {
  const rules: FaultRule[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const m = /^([a-z-]+):([a-z]+)@(\d+)(\+?)(?::(.+))?$/.exec(part);
    if (m === null || !POINTS.includes(m[1] as FaultPoint) || !ACTIONS.includes(m[2] as FaultAction) || Number(m[3]) < 1) {
      throw new Error(`${FAULTS_ENV}: '${part}' is not a fault rule (${FAULTS_GRAMMAR})`);
    }
    rules.push({ point: m[1] as FaultPoint, action: m[2] as FaultAction, hit: Number(m[3]), andLater: m[4] === '+', logDir: m[5] === undefined ? null : path.resolve(m[5]) });
  }
  return rules;
}

function errnoError(code: 'ENOSPC' | 'EIO', point: string, detail: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: injected at fault point ${point} (${detail})`);
  e.code = code;
  e.errno = code === 'ENOSPC' ? -28 : -5;
  return e;
}

/**
 * The injector for a set of rules. Called directly it stands for a log outside any known directory
 * (only unscoped rules apply); `forDir(logDir)` gives the injector for logs and files of one log
 * directory. Each rule counts the hits it sees: an unscoped rule every hit of its point, a scoped
 * one the hits in its directory. `hits` counts every hit per point.
 */
export function faultInjector(
  rules: readonly FaultRule[],
  kill: () => void = () => process.kill(process.pid, 'SIGKILL'),
): FaultInjector & { hits: Map<FaultPoint, number>; forDir(logDir: string): FaultInjector } {
  const hits = new Map<FaultPoint, number>();
  const seen = rules.map(() => 0);
  const inject = (point: FaultPoint, detail: string, logDir: string | null): void => {
    hits.set(point, (hits.get(point) ?? 0) + 1);
    // Every matching rule counts this hit before any of them fires.
    const counts = rules.map((r, i) => (r.point === point && (r.logDir === null || r.logDir === logDir) ? ++seen[i]! : 0));
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      const n = counts[i]!;
      if (n === 0 || n < r.hit || (n > r.hit && !r.andLater)) continue;
      if (r.action === 'crash') {
        process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: 'injected crash', point, hit: n, detail, logDir })}\n`);
        kill();
      }
      throw errnoError(r.action === 'enospc' ? 'ENOSPC' : 'EIO', point, detail);
    }
  };
  const forDirs = new Map<string, FaultInjector>();
  const forDir = (logDir: string): FaultInjector => {
    const abs = path.resolve(logDir);
    let f = forDirs.get(abs);
    if (f === undefined) {
      f = (point, detail) => inject(point, detail, abs);
      forDirs.set(abs, f);
    }
    return f;
  };
  return Object.assign((point: FaultPoint, detail: string) => inject(point, detail, null), { hits, forDir });
}
