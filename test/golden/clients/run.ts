import { spawn } from 'node:child_process';

export interface ClientRun {
  /** Exit code, or null when the process was killed by a signal or never started. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** The driver killed the client because timeoutMs elapsed. */
  timedOut: boolean;
  /** The caller's AbortSignal fired and the driver killed the client. */
  aborted: boolean;
  /** Signal that ended the process, if any. */
  signal: NodeJS.Signals | null;
  /** The command line that was run (for diagnostics). */
  command: string[];
  /** Raw stdout bytes, only when runBounded was called with rawStdout: true (stdout is then ''). */
  stdoutBytes?: Buffer;
}

export interface RunOptions {
  /** Kill the client (SIGKILL) as soon as this fires, e.g. once a test has seen what it needs. */
  signal?: AbortSignal;
  /** Extra environment variables for the client process. */
  env?: Record<string, string>;
}

const MAX_CAPTURE = 1 << 20;

/** Options of runBounded beyond RunOptions. */
export interface BoundedRunOptions extends RunOptions {
  /** Written to the client's stdin, which is then closed. */
  stdin?: string | Buffer;
  timeoutMs: number;
  cwd?: string;
  /** Keep at most this many characters (bytes with rawStdout) of stdout and of stderr; default 1 MiB. */
  maxCapture?: number;
  /** Capture stdout as bytes in ClientRun.stdoutBytes instead of decoding it as UTF-8. */
  rawStdout?: boolean;
}

/**
 * Runs a client process with optional stdin, bounded by timeoutMs: on timeout
 * (or abort) the process gets SIGKILL. Never rejects; failures to start are
 * reported as exitCode null with the error in stderr.
 */
export function runBounded(cmd: string, args: string[], opts: BoundedRunOptions): Promise<ClientRun> {
  return new Promise((resolvePromise) => {
    const command = [cmd, ...args];
    const maxCapture = opts.maxCapture ?? MAX_CAPTURE;
    let stdout = '';
    const stdoutChunks: Buffer[] = [];
    let stdoutBytesLen = 0;
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const run: ClientRun = { exitCode, stdout, stderr, timedOut, aborted, signal, command };
      if (opts.rawStdout) run.stdoutBytes = Buffer.concat(stdoutChunks);
      resolvePromise(run);
    };

    if (opts.signal?.aborted) {
      aborted = true;
      finish(null, null);
      return;
    }

    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, {
        cwd: opts.cwd,
        env: { ...process.env, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (err) {
      stderr = `failed to start ${cmd}: ${String(err)}`;
      finish(null, null);
      return;
    }

    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    const onAbort = () => {
      aborted = true;
      kill();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    if (opts.rawStdout) {
      child.stdout!.on('data', (d: Buffer) => {
        if (stdoutBytesLen < maxCapture) {
          stdoutChunks.push(d);
          stdoutBytesLen += d.length;
        }
      });
    } else {
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        if (stdout.length < maxCapture) stdout += d;
      });
    }
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      if (stderr.length < maxCapture) stderr += d;
    });
    child.on('error', (err) => {
      stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}failed to run ${cmd}: ${err.message}\n`;
      // 'close' may not follow a spawn error; settle here in that case.
      if (child.pid === undefined) finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));

    // A client that exits early closes its stdin: ignore EPIPE.
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.stdin ?? '');
  });
}
