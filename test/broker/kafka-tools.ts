// Kafka 4.1.1's own command-line tools, run from the reference jars against the broker process:
// long-running tools (VerifiableProducer, VerifiableConsumer) whose JSON events are collected as
// they arrive, one-shot tools (ConsumerGroupCommand) whose output is collected whole, and a parser
// for the tables the latter prints.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KAFKA_TOOLS_LOG4J_CONFIG, peersCacheDir, which } from '../acceptance/clients/paths.js';

export const KAFKA_REF_VERSION = '4.1.1';

/** The reference broker's jars (broker, kafka-tools, log4j2), cached by hack/peers/install.sh. */
export function kafkaRefLibDir(): string {
  return join(peersCacheDir(), `kafka-ref-${KAFKA_REF_VERSION}`, 'lib');
}

/** Why Kafka's tools cannot run here, or null. */
export function kafkaRefToolsProblem(): string | null {
  if (!which('java')) return 'java is not on PATH';
  if (!existsSync(join(kafkaRefLibDir(), '.complete'))) return `Kafka ${KAFKA_REF_VERSION} jars missing in ${kafkaRefLibDir()} (run: bash hack/peers/install.sh)`;
  return null;
}

function javaArgs(mainClass: string, args: string[]): string[] {
  // The repository's log4j2 config sends the tools' own logging to stderr, so stdout carries only
  // what a tool prints on purpose (JSON events, tables). The reference broker's config writes to
  // stdout, which would interleave warnings with the events.
  return ['-cp', join(kafkaRefLibDir(), '*'), `-Dlog4j2.configurationFile=file:${KAFKA_TOOLS_LOG4J_CONFIG}`, mainClass, ...args];
}

export type ToolEvent = Record<string, unknown> & { name: string; timestamp: number };

/** Every tool started by this module that has not exited yet, so a failed test can stop them all. */
const running = new Set<ToolProcess>();

/** A tool that runs until stopped, printing one JSON event per line on stdout. */
export class ToolProcess {
  readonly events: ToolEvent[] = [];
  /** stdout lines that were not JSON events (kept for failure messages). */
  readonly otherLines: string[] = [];
  private stderrText = '';
  readonly exited: Promise<number | string>;
  private readonly proc: ChildProcess;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly label: string,
    mainClass: string,
    args: string[],
  ) {
    this.proc = spawn('java', javaArgs(mainClass, args), { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    let pending = '';
    this.proc.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        this.addLine(line);
      }
      for (const l of this.listeners) l();
    });
    this.proc.stderr!.on('data', (chunk: Buffer) => {
      // Bounded: only the tail is kept for failure messages.
      this.stderrText = (this.stderrText + chunk.toString()).slice(-20_000);
    });
    // 'close', not 'exit': 'exit' can come before the last of stdout is read, and a tool's final
    // event (shutdown_complete) would then be missed.
    this.exited = new Promise((resolve) =>
      this.proc.on('close', (code, signal) => {
        running.delete(this);
        resolve(code ?? signal ?? -1);
        for (const l of this.listeners) l();
      }),
    );
  }

  private addLine(line: string): void {
    if (line.startsWith('{')) {
      try {
        const ev = JSON.parse(line) as ToolEvent;
        if (typeof ev.name === 'string') {
          this.events.push(ev);
          return;
        }
      } catch {
        // not an event; kept below
      }
    }
    if (this.otherLines.length < 200) this.otherLines.push(line);
  }

  get hasExited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  stderr(): string {
    return this.stderrText;
  }

  named(name: string): ToolEvent[] {
    return this.events.filter((e) => e.name === name);
  }

  /** What to show when an expectation about this tool fails. */
  describe(): string {
    const tail = this.events.slice(-8).map((e) => JSON.stringify(e).slice(0, 300));
    return `${this.label}: ${this.events.length} events, last:\n${tail.join('\n')}\nother stdout: ${this.otherLines.slice(-5).join('\n')}\nstderr tail: ${this.stderrText.slice(-3000)}`;
  }

  /** Resolves once `condition()` holds (checked on every output chunk and on exit); rejects after `timeoutMs`. */
  waitFor(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
    return waitUntil(what, [this], condition, timeoutMs);
  }

  /** Sends the signal and waits for the process to exit (SIGKILL after 30 s). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
    if (!this.hasExited) this.proc.kill(signal);
    const kill = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
    const code = await this.exited;
    clearTimeout(kill);
    return code;
  }

  /** @internal */
  onOutput(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * Resolves once `condition()` holds, re-checking whenever one of `tools` prints or exits (and every
 * 250 ms, for conditions that also depend on other state); rejects after `timeoutMs` with the tools'
 * recent output.
 */
export function waitUntil(what: string, tools: ToolProcess[], condition: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const unsubscribe: (() => void)[] = [];
    const done = (err?: Error) => {
      clearTimeout(timer);
      clearInterval(poll);
      for (const u of unsubscribe) u();
      if (err) reject(err);
      else resolve();
    };
    const check = () => {
      let ok = false;
      try {
        ok = condition();
      } catch (e) {
        done(e as Error);
        return;
      }
      if (ok) done();
    };
    const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${tools.map((t) => t.describe()).join('\n---\n')}`)), timeoutMs);
    const poll = setInterval(check, 250);
    for (const t of tools) unsubscribe.push(t.onOutput(check));
    check();
  });
}

/** Kills every tool this module started that is still running (for afterEach/afterAll). */
export async function stopAllTools(): Promise<void> {
  await Promise.all([...running].map((t) => t.stop('SIGKILL')));
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion (killed after `timeoutMs`) and returns its output. */
export function runTool(mainClass: string, args: string[], timeoutMs = 60_000): Promise<ToolRun> {
  return new Promise((resolve) => {
    const proc = spawn('java', javaArgs(mainClass, args), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Parses the tables ConsumerGroupCommand prints: a header line starting with GROUP, then one row per
 * line until a blank line. Columns are split on runs of spaces; the one header holding a space,
 * "COORDINATOR (ID)", and its value ("host:port  (id)") are joined back into one column. Every table
 * in the output is returned, in order.
 */
export function parseTables(stdout: string): Record<string, string>[][] {
  const tables: Record<string, string>[][] = [];
  let header: string[] | null = null;
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (line === '') {
      header = null;
      continue;
    }
    if (/^GROUP\s/.test(line) || line === 'GROUP') {
      header = line.replace('COORDINATOR (ID)', 'COORDINATOR').split(/\s+/);
      tables.push([]);
      continue;
    }
    if (header === null) continue;
    const cells = (header.includes('COORDINATOR') ? line.replace(/(\S+)\s+(\(\d+\))/, '$1$2') : line).split(/\s+/);
    if (cells.length !== header.length) throw new Error(`row has ${cells.length} cells, header ${header.length}: ${JSON.stringify(line)} under ${header.join(' ')}`);
    tables[tables.length - 1]!.push(Object.fromEntries(header.map((h, i) => [h, cells[i]!])));
  }
  return tables;
}
