// The tiered read case of `npm run bench`: consumer catch-up throughput from the bucket against the
// same read from local disk, on one Strata broker.
//
// A versitygw S3 server (hack/peers/install-versitygw.sh) serves a bucket from the case's work
// directory. The broker gets two topics of the bench's shape (6 partitions, RF 1, 1 KiB records):
// `cold`, tiered, with small segments and local.retention.bytes=0, and `warm`, untiered, with the
// same segments. rdkafka_performance writes the same number of records into each (acks=all); then
// the case waits until the upload backlog is zero and local retention has left only each cold
// partition's active segment on disk. Each repetition restarts the broker (so the remote read cache,
// which is in memory, starts empty) and reads each topic from the beginning with
// rdkafka_performance, same settings as the main consume case: `cold` comes from the bucket (all but
// the active segments), `warm` from the local log.
//
// Kafka has no column here: its tiered storage needs a RemoteStorageManager plugin, and none ships
// in its jars.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { cpuSeconds } from './lib/proc.js';

const MiB = 1024 * 1024;
const RECORD_SIZE = 1024;
const COLD = 'cold';
const WARM = 'warm';
/** Small segments, so all but a small tail of each partition goes to the bucket. */
const SEGMENT_BYTES = 4 * MiB;
const BUCKET = 'strata-bench';
const ACCESS_KEY = 'strata-bench';
const SECRET_KEY = 'strata-bench-secret';
const START_TIMEOUT_MS = 60_000;
/** Bound on the wait for uploads and local retention. */
const SETTLE_TIMEOUT_MS = 15 * 60_000;

/** What the case needs from bench/run.ts (its clients, pinning and process handling). */
export interface BenchTools {
  root: string;
  brokerCore: string;
  clientCore: string;
  partitions: number;
  progress(msg: string): void;
  createTopic(bootstrap: string, topic: string, configs: string[]): Promise<void>;
  produce(bootstrap: string, topic: string, records: number): Promise<void>;
  /** rdkafka_performance -C of `records` from the beginning of every partition: records/s. */
  consume(bootstrap: string, topic: string, records: number): Promise<number>;
  stopBroker(child: ChildProcess): Promise<void>;
  /** Tells run.ts which broker process to kill if the bench is interrupted. */
  setLive(child: ChildProcess | undefined): void;
}

export const TIERED_METRICS = [
  { key: 'tiered.bucket.mbPerSec', label: 'tiered catch-up from the bucket, rdkafka_performance MiB/s', digits: 1 },
  { key: 'tiered.local.mbPerSec', label: 'same catch-up of an untiered topic from local disk MiB/s', digits: 1 },
  { key: 'tiered.bucketOverLocal', label: 'tiered catch-up: bucket / local', digits: 2 },
  { key: 'tiered.remoteShare', label: 'tiered catch-up: bytes read from the bucket / topic bytes', digits: 2 },
  { key: 'tiered.bucket.cpuSecPerGB', label: 'broker CPU s per GB, catch-up from the bucket', digits: 2 },
  { key: 'tiered.local.cpuSecPerGB', label: 'broker CPU s per GB, catch-up from local disk', digits: 2 },
] as const;

export interface TieredResult {
  config: { mb: number; records: number; recordSize: number; segmentBytes: number; localRetentionBytes: number; partitions: number; reps: number; s3: string };
  /** The cold topic once settled: bytes in the bucket and still on local disk. */
  settled: { remoteBytes: number; localBytes: number; settleSeconds: number };
  /** One entry per repetition, keyed as TIERED_METRICS. */
  runs: Record<string, number>[];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(intervalMs);
  }
}

interface Strata {
  child: ChildProcess;
  bootstrap: string;
  httpPort: number;
}

/** Starts Strata pinned to the broker core, listeners on port 0 (read back from its log). */
async function startStrata(tools: BenchTools, logsDir: string, s3Endpoint: string, logFile: string): Promise<Strata> {
  const child = spawn(
    'taskset',
    [
      '-c', tools.brokerCore, process.execPath, join(tools.root, 'bin/strata'), 'broker',
      '--override', `log.dirs=${logsDir}`,
      '--override', 'listeners=PLAINTEXT://127.0.0.1:0',
      '--override', 'strata.http.listener=127.0.0.1:0',
      '--override', 'remote.log.storage.system.enable=true',
      '--override', 'strata.tiered.store=s3',
      '--override', `strata.tiered.s3.endpoint=${s3Endpoint}`,
      '--override', `strata.tiered.s3.bucket=${BUCKET}`,
      '--override', 'strata.tiered.s3.path.style=true',
      '--override', 'remote.log.manager.task.interval.ms=500',
      '--override', 'log.retention.check.interval.ms=500',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_REGION: 'us-east-1' } },
  );
  tools.setLive(child);
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(log);
  let port = -1;
  let httpPort = -1;
  let pending = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Strata did not start within ${START_TIMEOUT_MS} ms (log: ${logFile})`)), START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Strata exited (${code}) during start-up (log: ${logFile})`));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      log.write(chunk);
      pending += chunk.toString();
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let entry: { msg?: string; port?: number };
        try {
          entry = JSON.parse(line) as { msg?: string; port?: number };
        } catch {
          continue;
        }
        if (entry.msg === 'kafka listener started' && port < 0) port = entry.port!;
        if (entry.msg === 'http endpoint listening') httpPort = entry.port!;
        if (entry.msg === 'broker started') {
          clearTimeout(timer);
          resolve();
        }
      }
    });
  });
  return { child, bootstrap: `127.0.0.1:${port}`, httpPort };
}

async function metricSum(httpPort: number, name: string, topic: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(`topic="${topic}"`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** The .log files of each partition of `topic` in the log directory: count and bytes. */
function localLogs(logsDir: string, topic: string, partitions: number): { files: number; bytes: number }[] {
  return Array.from({ length: partitions }, (_, p) => {
    const dir = join(logsDir, `${topic}-${p}`);
    const logs = readdirSync(dir).filter((f) => /^\d{20}\.log$/.test(f));
    return { files: logs.length, bytes: logs.reduce((n, f) => n + statSync(join(dir, f)).size, 0) };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The case's figures: the median of each over the repetitions. */
export function tieredMedians(r: TieredResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of TIERED_METRICS) out[m.key] = median(r.runs.map((x) => x[m.key]!));
  return out;
}

export async function tieredReadCase(tools: BenchTools, opts: { mb: number; reps: number }): Promise<TieredResult> {
  const versitygw = execFileSync('bash', [join(tools.root, 'hack/peers/install-versitygw.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const work = mkdtempSync(join(tmpdir(), 'strata-bench-tiered-'));
  const logsDir = join(work, 'logs');
  const logFile = join(work, 'broker.log');
  for (const d of ['s3/data', 's3/meta', 'logs']) mkdirSync(join(work, d), { recursive: true });
  let s3: ChildProcess | undefined;
  let broker: Strata | undefined;
  const records = Math.ceil((opts.mb * 1e6) / RECORD_SIZE);
  let ok = false;
  try {
    // The S3 server shares the client core: the broker keeps its own core, as in the other cases.
    const s3Port = await freePort();
    const endpoint = `http://127.0.0.1:${s3Port}`;
    s3 = spawn('taskset', ['-c', tools.clientCore, versitygw, '--port', `127.0.0.1:${s3Port}`, 'posix', '--sidecar', join(work, 's3/meta'), join(work, 's3/data')], {
      env: { ...process.env, ROOT_ACCESS_KEY: ACCESS_KEY, ROOT_SECRET_KEY: SECRET_KEY },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    await until('versitygw answers', async () => fetch(endpoint, { signal: AbortSignal.timeout(1000) }).then(() => true, () => false), 30_000, 100);
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
    try {
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
    } finally {
      client.destroy();
    }

    broker = await startStrata(tools, logsDir, endpoint, logFile);
    await tools.createTopic(broker.bootstrap, COLD, ['remote.storage.enable=true', `segment.bytes=${SEGMENT_BYTES}`, 'local.retention.bytes=0']);
    await tools.createTopic(broker.bootstrap, WARM, [`segment.bytes=${SEGMENT_BYTES}`]);
    tools.progress(`tiered: producing ${records.toLocaleString('en-US')} records of ${RECORD_SIZE} B into each of ${COLD} (tiered) and ${WARM}`);
    await tools.produce(broker.bootstrap, COLD, records);
    await tools.produce(broker.bootstrap, WARM, records);
    const settleStart = performance.now();
    const b = broker;
    await until(
      'the upload backlog is empty and local retention left only the active segments',
      async () => (await metricSum(b.httpPort, 'strata_remote_copy_lag_segments', COLD)) === 0 && localLogs(logsDir, COLD, tools.partitions).every((l) => l.files === 1),
      SETTLE_TIMEOUT_MS,
    );
    const settled = {
      remoteBytes: await metricSum(b.httpPort, 'strata_remote_copy_bytes_total', COLD),
      localBytes: localLogs(logsDir, COLD, tools.partitions).reduce((n, l) => n + l.bytes, 0),
      settleSeconds: (performance.now() - settleStart) / 1000,
    };
    tools.progress(`tiered: settled in ${settled.settleSeconds.toFixed(1)} s: ${(settled.remoteBytes / MiB).toFixed(0)} MiB in the bucket, ${(settled.localBytes / MiB).toFixed(1)} MiB local`);
    const gb = (records * RECORD_SIZE) / 1e9;
    const runs: Record<string, number>[] = [];
    for (let i = 0; i < opts.reps; i++) {
      // A fresh broker process: the remote read cache is empty.
      await tools.stopBroker(broker.child);
      broker = await startStrata(tools, logsDir, endpoint, logFile);
      const pid = broker.child.pid!;
      const remoteBefore = await metricSum(broker.httpPort, 'strata_remote_fetch_bytes_total', COLD);
      let cpu = cpuSeconds(pid);
      const bucketRate = await tools.consume(broker.bootstrap, COLD, records);
      const bucketCpu = cpuSeconds(pid) - cpu;
      const remoteRead = (await metricSum(broker.httpPort, 'strata_remote_fetch_bytes_total', COLD)) - remoteBefore;
      cpu = cpuSeconds(pid);
      const localRate = await tools.consume(broker.bootstrap, WARM, records);
      const localCpu = cpuSeconds(pid) - cpu;
      const run = {
        'tiered.bucket.mbPerSec': (bucketRate * RECORD_SIZE) / MiB,
        'tiered.local.mbPerSec': (localRate * RECORD_SIZE) / MiB,
        'tiered.bucketOverLocal': bucketRate / localRate,
        'tiered.remoteShare': remoteRead / (settled.remoteBytes + settled.localBytes),
        'tiered.bucket.cpuSecPerGB': bucketCpu / gb,
        'tiered.local.cpuSecPerGB': localCpu / gb,
      };
      runs.push(run);
      tools.progress(
        `tiered ${i + 1}/${opts.reps}: from the bucket ${run['tiered.bucket.mbPerSec'].toFixed(1)} MiB/s (${run['tiered.remoteShare'].toFixed(2)} of the bytes remote), ` +
          `from local disk ${run['tiered.local.mbPerSec'].toFixed(1)} MiB/s, ratio ${run['tiered.bucketOverLocal'].toFixed(2)}`,
      );
    }
    ok = true;
    return {
      config: { mb: opts.mb, records, recordSize: RECORD_SIZE, segmentBytes: SEGMENT_BYTES, localRetentionBytes: 0, partitions: tools.partitions, reps: opts.reps, s3: 'versitygw (posix backend) on 127.0.0.1, pinned to the client core' },
      settled,
      runs,
    };
  } catch (e) {
    throw new Error(`tiered read case failed: ${(e as Error).message} (broker log kept: ${logFile})`, { cause: e });
  } finally {
    if (broker !== undefined) await tools.stopBroker(broker.child);
    tools.setLive(undefined);
    if (s3 !== undefined && s3.exitCode === null) {
      const exited = new Promise((r) => s3!.once('exit', r));
      s3.kill('SIGKILL');
      await exited;
    }
    if (ok) rmSync(work, { recursive: true, force: true });
    else rmSync(join(work, 's3'), { recursive: true, force: true });
  }
}
