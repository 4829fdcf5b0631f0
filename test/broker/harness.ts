// Runs `bin/strata broker` as a child process for the acceptance tests: its own data directory,
// listeners on port 0 (the ports are read from its structured start-up log), and bounded waits.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STRATA = path.join(REPO_ROOT, 'bin/strata');
const START_TIMEOUT_MS = 30_000;

export interface BrokerProcess {
  proc: ChildProcess;
  dataDir: string;
  port: number;
  httpPort: number;
  bootstrap: string;
  /** Every log line so far, parsed where it was JSON. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** Sends the signal and resolves with the exit code (or the signal's name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Calls `onEntry` with each line of a process's structured log, parsed (a line that is not JSON
 *  comes as { msg: line, unparsed: true }). */
export function onJsonLines(stream: NodeJS.ReadableStream, onEntry: (entry: Record<string, unknown>) => void): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        entry = { msg: line, unparsed: true };
      }
      onEntry(entry);
    }
  });
}

export function newDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'strata-broker-'));
}

export async function startBroker(
  opts: { dataDir?: string; logDirs?: string[]; overrides?: string[]; port?: number; env?: Record<string, string> } = {},
): Promise<BrokerProcess> {
  const dataDir = opts.dataDir ?? newDataDir();
  const args = [
    STRATA,
    'broker',
    '--override',
    `listeners=PLAINTEXT://127.0.0.1:${opts.port ?? 0}`,
    '--override',
    `log.dirs=${opts.logDirs?.join(',') ?? dataDir}`,
    '--override',
    'strata.http.listener=127.0.0.1:0',
    ...(opts.overrides ?? []).flatMap((o) => ['--override', o]),
  ];
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } }) });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let port = -1;
  let httpPort = -1;
  const exited = new Promise<number | string>((resolve) => proc.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  const started = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`)), START_TIMEOUT_MS);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited (${code}) before it started:\n${stderr}`));
    });
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    onJsonLines(proc.stderr!, (entry) => {
      logs.push(entry);
      if (entry.msg === 'kafka listener started' && port < 0) port = entry.port as number;
      if (entry.msg === 'http endpoint listening') httpPort = entry.port as number;
      if (entry.msg === 'broker started') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  proc.stdout!.resume();
  await started;
  return {
    proc,
    dataDir,
    port,
    httpPort,
    bootstrap: `127.0.0.1:${port}`,
    logs,
    stderr: () => stderr,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const kill = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(kill);
      return code;
    },
  };
}

/** Runs `bin/strata` with arguments and collects its output (for start-up failures). */
export function runStrata(args: string[], timeoutMs = 20_000): Promise<ProcessRun> {
  return runProcess(process.execPath, [STRATA, ...args], { timeoutMs });
}

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`), with `input` on stdin, and collects its output. */
export function runProcess(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ProcessRun> {
  return new Promise((resolve) => {
    const proc = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], ...(opts.env === undefined ? {} : { env: { ...process.env, ...opts.env } }) });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.on('error', () => {}); // a command that exits without reading its input
    proc.stdin.end(opts.input ?? '');
  });
}
