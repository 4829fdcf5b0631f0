/**
 * A long-running consumer group member: one driver in its group-consume mode
 * (the lines it prints are described in driver-io.ts), watched while it runs.
 * The test reads what the member reports (its assignment, the records it
 * consumed, its commits), waits for conditions on it, and ends it either
 * gracefully (stdin closed: the client leaves the group and exits 0) or
 * abruptly (SIGKILL: no LeaveGroup, the coordinator must expire the session).
 *
 * Every member is bounded: it is killed after lifetimeMs whatever happens, and
 * at most MAX_EVENTS lines are kept (later lines are counted, not stored).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { driverCommand } from './index.js';
import { REPO_ROOT } from './paths.js';

/** The clients with a group-consume mode. */
export const GROUP_CLIENTS = ['java', 'confluent-kafka-python', 'kafkajs'] as const;
export type GroupClient = (typeof GROUP_CLIENTS)[number];

/** At most this many lines are kept per member: the tests consume a few thousand records. */
const MAX_EVENTS = 200_000;
/** Stderr kept per member (its end), for failure messages. */
const MAX_STDERR_CHARS = 64 << 10;

export interface GroupRecord {
  partition: number;
  offset: number;
  keyHex: string | null;
  valueHex: string | null;
  headers: [string, string | null][];
  /** Position of the line among the member's lines, to order records against rebalances. */
  seq: number;
}

export type GroupEvent =
  | { event: 'assigned'; partitions: number[]; memberId: string | null; generation: number | null; protocol: string | null; seq: number }
  | { event: 'revoked' | 'lost'; partitions: number[]; seq: number }
  | { event: 'committed'; offsets: [number, number][]; seq: number }
  | { event: 'commit-failed' | 'error'; message: string; seq: number }
  | { event: 'closed'; seq: number };

export interface GroupMemberOptions {
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** The client id the member sends; DescribeGroups shows it. */
  clientId: string;
  /** The member is killed (SIGKILL) after this long, whatever happens. */
  lifetimeMs: number;
}

export class GroupMember {
  readonly events: GroupEvent[] = [];
  readonly records: GroupRecord[] = [];
  /** Lines that were neither JSON events nor records, or were dropped over MAX_EVENTS. */
  readonly problems: string[] = [];
  /** Resolves with the exit code, or the signal's name. */
  readonly exited: Promise<number | string>;
  private readonly proc: ChildProcess;
  private stderrText = '';
  private pending = '';
  private seq = 0;
  private readonly listeners = new Set<() => void>();
  private readonly lifetime: NodeJS.Timeout;

  constructor(
    readonly client: GroupClient,
    readonly clientId: string,
    bootstrap: string,
    topic: string,
    group: string,
    opts: GroupMemberOptions,
  ) {
    const settings = [`client.id=${clientId}`];
    if (opts.sessionTimeoutMs !== undefined) settings.push(`session.timeout.ms=${opts.sessionTimeoutMs}`);
    if (opts.heartbeatIntervalMs !== undefined) settings.push(`heartbeat.interval.ms=${opts.heartbeatIntervalMs}`);
    const [cmd, argv] = driverCommand(client, 'group-consume', [bootstrap, topic, group, ...settings]);
    this.proc = spawn(cmd, argv, {
      cwd: REPO_ROOT,
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('error', (e) => {
        this.stderrText += `failed to run ${cmd}: ${e.message}\n`;
        if (this.proc.pid === undefined) resolve('spawn-failed');
      });
      this.proc.on('close', (code, signal) => {
        clearTimeout(this.lifetime);
        resolve(code ?? signal ?? -1);
        this.notify();
      });
    });
    this.lifetime = setTimeout(() => this.proc.kill('SIGKILL'), opts.lifetimeMs);
    this.proc.stdin!.on('error', () => {}); // a member that died closed its stdin
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (chunk: string) => {
      this.stderrText = (this.stderrText + chunk).slice(-MAX_STDERR_CHARS);
    });
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  stderr(): string {
    return this.stderrText;
  }

  /**
   * The partitions the member holds now, by its own account: its last assignment minus what it
   * revoked or lost since; nothing once it closed. Null before its first assignment.
   */
  assignment(): number[] | null {
    let current: Set<number> | null = null;
    for (const e of this.events) {
      if (e.event === 'assigned') current = new Set(e.partitions);
      else if ((e.event === 'revoked' || e.event === 'lost') && current) for (const p of e.partitions) current.delete(p);
      else if (e.event === 'closed' && current) current.clear();
    }
    return current === null ? null : [...current].sort((a, b) => a - b);
  }

  /** The last 'assigned' event, if any. */
  lastAssigned(): Extract<GroupEvent, { event: 'assigned' }> | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.event === 'assigned') return e;
    }
    return undefined;
  }

  /** The line position of the last assignment change (assigned, revoked, lost), or -1. */
  lastRebalanceSeq(): number {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.event === 'assigned' || e.event === 'revoked' || e.event === 'lost') return e.seq;
    }
    return -1;
  }

  /** Resolves once `condition()` holds (checked at every line the member prints and every `pollMs`); rejects at the deadline. */
  waitFor(condition: () => boolean, timeoutMs: number, what: string, pollMs = 250): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let ok = false;
        try {
          ok = condition();
        } catch (e) {
          done();
          reject(e as Error);
          return;
        }
        if (ok) {
          done();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.clientId}: ${what} did not happen within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      const poll = setInterval(check, pollMs);
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** SIGKILL: the client gets no chance to leave the group. */
  async kill(): Promise<number | string> {
    if (this.running) this.proc.kill('SIGKILL');
    return this.exited;
  }

  /** Closes stdin, so the member leaves the group and exits; SIGKILL after timeoutMs. */
  async stop(timeoutMs: number): Promise<number | string> {
    this.proc.stdin!.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** A summary for failure messages: state, current assignment, counts, the end of stderr. */
  describe(): string {
    const counts = `${this.records.length} records, ${this.events.filter((e) => e.event === 'committed').length} commits`;
    const failures = this.events.filter((e) => e.event === 'commit-failed' || e.event === 'error').slice(-5);
    return [
      `${this.client} member ${this.clientId}: ${this.running ? 'running' : `exited (${this.proc.exitCode ?? this.proc.signalCode})`}, assignment ${JSON.stringify(this.assignment())}, ${counts}`,
      ...failures.map((e) => `  ${JSON.stringify(e)}`),
      ...this.problems.slice(0, 5).map((p) => `  stdout: ${p}`),
      `  stderr (end): ${this.stderrText.slice(-2000)}`,
    ].join('\n');
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private onStdout(chunk: string): void {
    this.pending += chunk;
    let nl;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      if (line.trim()) this.onLine(line);
    }
    this.notify();
  }

  private onLine(line: string): void {
    const seq = this.seq++;
    if (this.events.length + this.records.length >= MAX_EVENTS) {
      if (this.problems.length < 10) this.problems.push(`over ${MAX_EVENTS} lines: dropped ${line.slice(0, 100)}`);
      return;
    }
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      if (this.problems.length < 100) this.problems.push(line.slice(0, 200));
      return;
    }
    if (typeof o.partition === 'number' && typeof o.offset === 'number') {
      this.records.push({
        partition: o.partition,
        offset: o.offset,
        keyHex: (o.key as string | null) ?? null,
        valueHex: (o.value as string | null) ?? null,
        headers: ((o.headers as [string, string | null][] | undefined) ?? []).map(([k, v]) => [k, v ?? null]),
        seq,
      });
    } else if (typeof o.event === 'string') {
      this.events.push({ ...o, seq } as GroupEvent);
    } else if (this.problems.length < 100) {
      this.problems.push(line.slice(0, 200));
    }
  }
}

/** Starts `client` as a member of `group`, consuming `topic`. */
export function startGroupMember(client: GroupClient, bootstrap: string, topic: string, group: string, opts: GroupMemberOptions): GroupMember {
  return new GroupMember(client, opts.clientId, bootstrap, topic, group, opts);
}
