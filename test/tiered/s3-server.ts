// A real S3-compatible server for tests: versitygw (hack/peers/install-versitygw.sh) serving a
// temporary directory on 127.0.0.1, with one bucket. It can be stopped and started again on the
// same port and data, to play an outage.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../broker/tiered/s3-store.js';
import { peersCacheDir } from '../golden/clients/paths.js';

export const VERSITYGW_VERSION = '1.8.0';
export const S3_ACCESS_KEY = 'strata-test';
export const S3_SECRET_KEY = 'strata-test-secret';

export function versitygwBinary(): string {
  return join(peersCacheDir(), `versitygw-${VERSITYGW_VERSION}`, 'bin', 'versitygw');
}

/** Why the server cannot run here, or null. */
export function s3ServerProblem(): string | null {
  return existsSync(versitygwBinary()) ? null : `versitygw missing at ${versitygwBinary()} (run: bash hack/peers/install-versitygw.sh)`;
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

/** The environment a broker process reads its S3 credentials from. */
export const S3_ENV = { AWS_ACCESS_KEY_ID: S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: S3_SECRET_KEY, AWS_REGION: 'us-east-1' };

export class S3Server {
  private proc: ChildProcess | undefined;
  private stderr = '';
  readonly endpoint: string;

  private constructor(
    readonly port: number,
    readonly root: string,
    readonly bucket: string,
  ) {
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  /** Starts a server with an empty bucket `bucket`. */
  static async start(bucket = 'strata-test'): Promise<S3Server> {
    const root = mkdtempSync(join(tmpdir(), 'strata-s3-'));
    for (const d of ['data', 'meta']) mkdirSync(join(root, d));
    const server = new S3Server(await freePort(), root, bucket);
    await server.resume();
    const client = server.client();
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
    return server;
  }

  /** An SDK client for the test's own checks. */
  client(): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
      maxAttempts: 1,
    });
  }

  /** Strata's object store on this server under `prefix`, for the test's own reads. */
  store(prefix: string): S3ObjectStore {
    return new S3ObjectStore({
      endpoint: this.endpoint,
      region: 'us-east-1',
      bucket: this.bucket,
      prefix,
      pathStyle: true,
      requestTimeoutMs: 5000,
      maxAttempts: 2,
      credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
    });
  }

  /**
   * The overrides of a broker tiering into this server's bucket under `prefix` (through `endpoint`
   * when a proxy stands in front), with the background tasks and retention checks run often so a
   * test sees uploads and deletions within seconds. `extra` comes last, so it can override.
   */
  brokerOverrides(prefix: string, options: { endpoint?: string; requestTimeoutMs?: number; extra?: string[] } = {}): string[] {
    return [
      'remote.log.storage.system.enable=true',
      'strata.tiered.store=s3',
      `strata.tiered.s3.endpoint=${options.endpoint ?? this.endpoint}`,
      `strata.tiered.s3.bucket=${this.bucket}`,
      `strata.tiered.s3.prefix=${prefix}`,
      'strata.tiered.s3.path.style=true',
      `strata.tiered.s3.request.timeout.ms=${options.requestTimeoutMs ?? 5000}`,
      'remote.log.manager.task.interval.ms=300',
      'remote.log.manager.task.retry.backoff.max.ms=2000',
      'log.retention.check.interval.ms=300',
      'auto.create.topics.enable=false',
      ...(options.extra ?? []),
    ];
  }

  /** Starts (again) on the same port and data; resolves once it answers HTTP. */
  async resume(): Promise<void> {
    if (this.proc !== undefined) return;
    const proc = spawn(versitygwBinary(), ['--port', `127.0.0.1:${this.port}`, 'posix', '--sidecar', join(this.root, 'meta'), join(this.root, 'data')], {
      env: { ...process.env, ROOT_ACCESS_KEY: S3_ACCESS_KEY, ROOT_SECRET_KEY: S3_SECRET_KEY },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    proc.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-4000)));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`versitygw exited ${proc.exitCode}: ${this.stderr}`);
      try {
        await fetch(this.endpoint, { signal: AbortSignal.timeout(1000) });
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`versitygw did not answer on ${this.endpoint} within 20 s: ${this.stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Stops the server (SIGKILL: an outage, not a shutdown); the data stays. */
  async pause(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return;
    this.proc = undefined;
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
  }

  async stop(): Promise<void> {
    await this.pause();
    rmSync(this.root, { recursive: true, force: true });
  }
}
