// Runs acked-producer.ts in a child process and collects its acknowledgements as they arrive.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../harness.js';

export interface Ack {
  baseOffset: number;
  first: number;
  count: number;
}

export interface AckedRun {
  acks: Ack[];
  /** Resolves with the exit code once the producer is done. */
  done: Promise<{ code: number | null; stderr: string }>;
  kill(): void;
}

export function startAckedProducer(bootstrap: string, topic: string, records: number, batch: number, timeoutMs: number): AckedRun {
  const script = path.join(REPO_ROOT, 'test/broker/clients/acked-producer.ts');
  const proc = spawn(process.execPath, ['--import', 'tsx', script, bootstrap, topic, String(records), String(batch)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
  });
  const acks: Ack[] = [];
  let pending = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => {
    pending += c.toString();
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      acks.push(JSON.parse(pending.slice(0, nl)) as Ack);
      pending = pending.slice(nl + 1);
    }
  });
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const done = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
  return { acks, done, kill: () => proc.kill('SIGKILL') };
}

export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
