// Samplers for a broker process seen through /proc: resident memory and CPU time.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SEC = 100;

/** User plus system CPU seconds the process has used so far, or NaN once it has exited. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its closing ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the name.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC;
  } catch {
    return Number.NaN;
  }
}

/** Samples VmRSS every 200 ms and keeps the peak; `reset()` starts a new window. */
export class RssSampler {
  peakKiB = 0;
  private timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 200);
  }
  private sample(): void {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      if (m) this.peakKiB = Math.max(this.peakKiB, Number(m[1]));
    } catch {
      // The process has exited; the peak so far stands.
    }
  }
  /** Peak of the window so far, in MiB, then a new window begins. */
  reset(): number {
    this.sample();
    const peak = this.peakKiB / 1024;
    this.peakKiB = 0;
    return peak;
  }
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    return this.peakKiB / 1024;
  }
}
