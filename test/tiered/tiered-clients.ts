// Real clients, checks and the broker fixture shared by the tiered storage acceptance tests (tiered-broker.test.ts,
// tiered-faults.test.ts, tiered-disable.test.ts), running for as long as the test says: a steady producer and a tail consumer in confluent-kafka-python,
// stopped through their stdin, streamed readers (kcat, Kafka's ConsoleConsumer) checked line by
// line, and the broker's metrics by label. Records are generated from (partition, index), so a
// reader is checked while it streams without the test holding the data.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type BrokerProcess, REPO_ROOT, type ProcessRun, newDataDir, startBroker } from '../broker/harness.js';
import { runTool } from '../broker/kafka-tools.js';
import { S3_ENV, S3Server } from './s3-server.js';

export const VALUE_BYTES = 1000;

/** Record i of partition p: printable, no newline, distinct per record. */
export function valueOf(p: number, i: number): string {
  const head = `p${p}-${String(i).padStart(10, '0')}-`;
  const fill = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(VALUE_BYTES / 36));
  const start = (i * 7 + p) % 36;
  return head + fill.slice(start, start + VALUE_BYTES - head.length);
}

/** confluent-kafka-python, acks=all and idempotent: `rate` records a second round-robin over the
 *  partitions, values valueOf(p, i), until a line arrives on stdin (or `maxSeconds`); then flushes
 *  and prints the acknowledged and sent counts per partition and the first delivery errors. */
const STEADY_PRODUCE_PY = `
import sys, time, json, threading
from confluent_kafka import Producer
bootstrap, topic, parts, rate, size, max_seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
fill = 'abcdefghijklmnopqrstuvwxyz0123456789' * (size // 36 + 1)
def value(p, i):
    head = 'p%d-%010d-' % (p, i)
    start = (i * 7 + p) % 36
    return (head + fill[start:start + size - len(head)]).encode()
stop = threading.Event()
def wait_stop():
    sys.stdin.readline()
    stop.set()
threading.Thread(target=wait_stop, daemon=True).start()
errors = []
acked = [0] * parts
def report(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        acked[msg.partition()] += 1
pr = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'linger.ms': 5, 'enable.idempotence': True})
sent = [0] * parts
start = time.time()
n = 0
while not stop.is_set() and time.time() - start < max_seconds:
    due = int((time.time() - start) * rate)
    while n < due:
        p = n % parts
        pr.produce(topic, value=value(p, sent[p]), partition=p, on_delivery=report)
        sent[p] += 1
        n += 1
    pr.poll(0.01)
left = pr.flush(60)
print(json.dumps({'acked': acked, 'sent': sent, 'errors': errors[:5], 'left': left}), flush=True)
`;

/** A tail consumer of a new, empty topic: assigned at offset 0 of every partition (its end, so
 *  no race with the first records as OFFSET_END would have); checks that offsets are dense and
 *  values well formed. A JSON list of end offsets on stdin tells it to finish once it has read up
 *  to them (or `graceSeconds` later); prints what it saw and any error the client surfaced. */
const TAIL_CONSUME_PY = `
import sys, time, json, threading
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic, parts, grace, max_seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
target = []
told = threading.Event()
def wait_target():
    target.append(json.loads(sys.stdin.readline() or 'null'))
    told.set()
threading.Thread(target=wait_target, daemon=True).start()
c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'tail', 'enable.auto.commit': False, 'enable.partition.eof': False})
c.assign([TopicPartition(topic, p, 0) for p in range(parts)])
print('assigned', flush=True)
nxt = [None] * parts
count = 0
errors = []
start = time.time()
deadline = None
while time.time() - start < max_seconds:
    if told.is_set():
        t = target[0]
        if deadline is None:
            deadline = time.time() + grace
        if t is None or all((nxt[p] or 0) >= t[p] for p in range(parts)) or time.time() > deadline:
            break
    m = c.poll(0.2)
    if m is None:
        continue
    if m.error() is not None:
        errors.append(str(m.error()))
        continue
    p, o = m.partition(), m.offset()
    if nxt[p] is not None and o != nxt[p]:
        errors.append('partition %d: offset %d after %d' % (p, o, nxt[p] - 1))
    if not m.value().startswith(('p%d-%010d-' % (p, o)).encode()):
        errors.append('partition %d: offset %d has value %r' % (p, o, m.value()[:20]))
    nxt[p] = o + 1
    count += 1
c.close()
print(json.dumps({'next': nxt, 'count': count, 'errors': errors[:5]}), flush=True)
`;

/** A child process whose stdin the test writes to, and whose run it awaits. */
export class Driven {
  readonly done: Promise<ProcessRun>;
  private stdout = '';
  private constructor(private readonly proc: ChildProcess, timeoutMs: number) {
    let stderr = '';
    proc.stdout!.on('data', (c: Buffer) => (this.stdout += c.toString()));
    proc.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20_000)));
    proc.stdin!.on('error', () => {});
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    this.done = new Promise((resolve) =>
      proc.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: this.stdout, stderr });
      }),
    );
  }

  static python(script: string, args: string[], timeoutMs: number): Driven {
    return new Driven(spawn('/usr/bin/python3', ['-c', script, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] }), timeoutMs);
  }

  /** Whether stdout has printed `text` yet. */
  printed(text: string): boolean {
    return this.stdout.includes(text);
  }

  /** Writes one line to stdin and closes it. */
  tell(line: string): void {
    this.proc.stdin!.end(`${line}\n`);
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

export interface ProduceReport {
  acked: number[];
  sent: number[];
  errors: string[];
  left: number;
}

export interface TailReport {
  next: (number | null)[];
  count: number;
  errors: string[];
}

export function steadyProducer(bootstrap: string, topic: string, partitions: number, recordsPerSecond: number, maxSeconds: number): Driven {
  return Driven.python(STEADY_PRODUCE_PY, [bootstrap, topic, String(partitions), String(recordsPerSecond), String(VALUE_BYTES), String(maxSeconds)], (maxSeconds + 120) * 1000);
}

export function tailConsumer(bootstrap: string, topic: string, partitions: number, graceSeconds: number, maxSeconds: number): Driven {
  return Driven.python(TAIL_CONSUME_PY, [bootstrap, topic, String(partitions), String(graceSeconds), String(maxSeconds)], (maxSeconds + 60) * 1000);
}

/** The last line of a run's stdout, as JSON. */
export function lastJson<T>(run: ProcessRun): T {
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as T;
}

/**
 * Streams a reader's stdout line by line; `check` sees each line. Resolves with the exit code.
 * Bounded by `timeoutMs` (SIGKILL).
 */
export function streamLines(cmd: string, args: string[], check: (line: string) => void, timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const proc: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    let stderr = '';
    proc.stdout!.setEncoding('latin1');
    proc.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      let nl;
      let from = 0;
      while ((nl = pending.indexOf('\n', from)) >= 0) {
        check(pending.slice(from, nl));
        from = nl + 1;
      }
      pending = pending.slice(from);
    });
    proc.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-10_000)));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('close', (code) => {
      clearTimeout(timer);
      if (pending !== '') check(pending);
      resolve({ code, stderr });
    });
  });
}

/** What a reader saw of one partition: records in order from `first`, each checked on arrival. */
export class PartitionCheck {
  next: number;
  bad: string[] = [];
  constructor(
    readonly p: number,
    first: number,
  ) {
    this.next = first;
  }
  see(offset: number, value: string): void {
    if (this.bad.length >= 5) return;
    if (offset !== this.next) this.bad.push(`p${this.p}: offset ${offset}, expected ${this.next}`);
    else if (value !== valueOf(this.p, offset)) this.bad.push(`p${this.p}: value at ${offset} differs: ${value.slice(0, 40)}...`);
    this.next = offset + 1;
  }
}

/** Every sample of metric `name` from the broker's /metrics, with its labels. */
export async function metricSamples(httpPort: number, name: string): Promise<{ labels: Record<string, string>; value: number }[]> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    const labels: Record<string, string> = {};
    const open = line.indexOf('{');
    if (open === name.length) {
      for (const m of line.slice(open + 1, line.lastIndexOf('}')).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    }
    out.push({ labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return out;
}

/** The sum of the samples of `name` whose labels include `where`. */
export async function metricSum(httpPort: number, name: string, where: Record<string, string> = {}): Promise<number> {
  return (await metricSamples(httpPort, name)).filter((s) => Object.entries(where).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);
}

export async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A broker process tiering into a fresh S3 server: what a tiered acceptance test runs against. */
export interface TieredBroker {
  s3: S3Server;
  broker: BrokerProcess;
  dataDir: string;
}

/** Starts the S3 server, then the broker with `overrides(s3)` and the S3 credentials. */
export async function startTieredBroker(overrides: (s3: S3Server) => string[]): Promise<TieredBroker> {
  const s3 = await S3Server.start();
  const dataDir = newDataDir();
  try {
    return { s3, broker: await startBroker({ dataDir, overrides: overrides(s3), env: S3_ENV }), dataDir };
  } catch (e) {
    // Nothing is returned for the caller to stop: stop the server here.
    await stopTieredBroker({ s3, dataDir });
    throw e;
  }
}

/** Stops what startTieredBroker started (any part may be missing after a failed start) and removes
 *  the data directory, the read cache's disk tier beside it, and `scratch`. */
export async function stopTieredBroker(t: Partial<TieredBroker>, scratch: readonly string[] = []): Promise<void> {
  await t.broker?.stop('SIGKILL');
  await t.s3?.stop();
  for (const d of [...(t.dataDir === undefined ? [] : [t.dataDir, `${t.dataDir}-remote-cache`]), ...scratch]) rmSync(d, { recursive: true, force: true });
}

/** ListOffsets through Kafka's GetOffsetShell: partition → offset for one timestamp spec. */
export async function listOffsets(bootstrap: string, topic: string, time: string): Promise<number[]> {
  const r = await runTool('org.apache.kafka.tools.GetOffsetShell', ['--bootstrap-server', bootstrap, '--topic', topic, '--time', time]);
  if (r.code !== 0) throw new Error(`GetOffsetShell --time ${time} failed (${r.code}): ${r.stderr}`);
  const out: number[] = [];
  for (const line of r.stdout.trim().split('\n')) {
    const [, p, o] = line.split(':');
    out[Number(p)] = Number(o);
  }
  return out;
}

/** Sizes of a partition's local .log files, of those starting above `afterOffset` when given. */
export function localLogBytes(dataDir: string, topic: string, p: number, afterOffset = -1): number {
  const dir = join(dataDir, `${topic}-${p}`);
  return readdirSync(dir)
    .filter((f) => /^\d{20}\.log$/.test(f) && Number(f.slice(0, 20)) > afterOffset)
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}
