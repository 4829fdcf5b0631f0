/**
 * Input and output of the Node.js child-process drivers (kafkajs-driver.ts,
 * platformatic-driver.ts); the same line formats as driver.py and
 * AcceptanceClient.java.
 *
 * Input on stdin, one record per line: space separated tokens
 * "key value headerCount [headerName headerValue]...", each byte string "~"
 * for null or ":" followed by its base64.
 *
 * Output on stdout, one JSON object per line, bytes as lowercase hex:
 *   produce: {"index":i,"partition":p,"offset":o} or {"index":i,"error":"..."}
 *   consume: {"partition":p,"offset":o,"key":hex|null,"value":hex|null,"headers":[[name,hex|null],...]}
 *   last on success: {"event":"done",...}; on failure {"event":"error","message":...}
 *
 * group-consume runs until stdin closes (then leaves the group and exits 0) or
 * the process is killed; see GROUP_CONSUME_USAGE for its lines.
 */
import { once } from 'node:events';

export interface InputRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: [string, Buffer | null][];
}

function decodeToken(tok: string): Buffer | null {
  if (tok === '~') return null;
  if (!tok.startsWith(':')) throw new Error(`bad record token: ${tok.slice(0, 20)}`);
  return Buffer.from(tok.slice(1), 'base64');
}

export async function readStdinRecords(): Promise<InputRecord[]> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const out: InputRecord[] = [];
  for (const line of Buffer.concat(chunks).toString('latin1').split('\n')) {
    if (!line) continue;
    const t = line.split(' ');
    const n = Number(t[2]);
    if (!Number.isInteger(n) || t.length !== 3 + 2 * n) throw new Error(`bad record line ${out.length + 1}`);
    const headers: [string, Buffer | null][] = [];
    for (let i = 0; i < n; i++) {
      const name = decodeToken(t[3 + 2 * i]!);
      if (name === null) throw new Error(`null header name on record line ${out.length + 1}`);
      headers.push([name.toString('utf8'), decodeToken(t[4 + 2 * i]!)]);
    }
    out.push({ key: decodeToken(t[0]!), value: decodeToken(t[1]!), headers });
  }
  return out;
}

/** Parses "0=123,1=456" into a partition → count map. */
export function parseCounts(arg: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const part of arg.split(',')) {
    const [p, n] = part.split('=');
    if (p === undefined || n === undefined) throw new Error(`expected partition=count, got ${part}`);
    m.set(Number(p), Number(n));
  }
  return m;
}

const pending: string[] = [];
let pendingChars = 0;

/** Queues one JSON line; flushLines() writes them out. */
export function emit(obj: unknown): void {
  const line = JSON.stringify(obj) + '\n';
  pending.push(line);
  pendingChars += line.length;
}

export async function flushLines(): Promise<void> {
  if (pending.length === 0) return;
  const text = pending.join('');
  pending.length = 0;
  pendingChars = 0;
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

/** Flushes when enough output has queued up. */
export async function maybeFlush(): Promise<void> {
  if (pendingChars > 1 << 20) await flushLines();
}

export function hexOrNull(b: Buffer | null | undefined): string | null {
  return b === null || b === undefined ? null : b.toString('hex');
}

/** Runs main, prints its error as a JSON line, exits with its code once stdout is flushed. */
export function runMain(main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    async (code) => {
      await flushLines();
      process.exit(code);
    },
    async (err: unknown) => {
      const e = err as { name?: string; message?: string; stack?: string };
      emit({ event: 'error', message: `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}` });
      process.stderr.write(`${e?.stack ?? String(err)}\n`);
      await flushLines();
      process.exit(1);
    },
  );
}

/**
 * The group consumer mode, the same in every driver (driver.py and
 * AcceptanceClient.java included):
 *
 *   group-consume <bootstrap> <topic> <group> [session.timeout.ms=N] [heartbeat.interval.ms=N] [client.id=S]
 *
 * subscribes to <topic> in <group> (classic protocol, eager rebalancing, no
 * auto-commit, auto.offset.reset=earliest) and prints, one JSON line each:
 *   {"event":"assigned","partitions":[p,...],"memberId":s|null,"generation":n|null,"protocol":s|null}
 *       the member's whole assignment after each rebalance (what the client
 *       knows of member id, generation and protocol; null where it does not say)
 *   {"event":"revoked","partitions":[p,...]}   before a rebalance (eager: everything)
 *   {"event":"lost","partitions":[p,...]}      partitions lost without a revoke
 *   a consume line (above) per record
 *   {"event":"committed","offsets":[[p,next],...]}   after each synchronous commit, which
 *       follows every non-empty batch and commits the offset after its last record
 *   {"event":"commit-failed","message":s}
 *   {"event":"closed"}   last, after stdin closed and the consumer left the group
 * Lines are flushed as they happen, so a test can watch the member while it runs.
 */
export const GROUP_CONSUME_USAGE =
  'group-consume <bootstrap> <topic> <group> [session.timeout.ms=N] [heartbeat.interval.ms=N] [client.id=S]';

/** The optional settings of group-consume. */
export interface GroupSettings {
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  clientId?: string;
}

/** Parses group-consume's trailing `name=value` settings; throws on an unknown name. */
export function parseGroupSettings(args: string[]): GroupSettings {
  const out: GroupSettings = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    const value = a.slice(eq + 1);
    const ms = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} needs a positive integer, got ${value}`);
      return n;
    };
    if (name === 'session.timeout.ms') out.sessionTimeoutMs = ms();
    else if (name === 'heartbeat.interval.ms') out.heartbeatIntervalMs = ms();
    else if (name === 'client.id' && value) out.clientId = value;
    else throw new Error(`unknown group-consume setting ${a}; usage: ${GROUP_CONSUME_USAGE}`);
  }
  return out;
}

/** Resolves when stdin reaches its end (the parent closed it, or exited). */
export function stdinClosed(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
    process.stdin.on('error', () => resolve());
    process.stdin.resume();
  });
}

/** What a Node driver can do; `runDriver` maps the command line onto it. */
export interface DriverModes {
  version(): Promise<number>;
  createTopic(bootstrap: string, topic: string, partitions: number): Promise<number>;
  produce(bootstrap: string, topic: string, codec: string): Promise<number>;
  consume(bootstrap: string, topic: string, counts: Map<number, number>): Promise<number>;
  /** Optional: a driver without it answers group-consume with a usage error. */
  groupConsume?(bootstrap: string, topic: string, group: string, settings: GroupSettings): Promise<number>;
}

/**
 * The drivers' shared command line: `version`, `create-topic|produce|consume <bootstrap> <topic> <arg>`,
 * or GROUP_CONSUME_USAGE.
 */
export function runDriver(script: string, modes: DriverModes): void {
  runMain(async (argv) => {
    const [mode, bootstrap, topic, arg] = argv;
    if (mode === 'version' && argv.length === 1) return modes.version();
    if (!mode || !bootstrap || !topic || !arg) {
      process.stderr.write(`usage: ${script} create-topic|produce|consume <bootstrap> <topic> <arg>\n       ${script} ${GROUP_CONSUME_USAGE}\n`);
      return 2;
    }
    switch (mode) {
      case 'create-topic':
        return modes.createTopic(bootstrap, topic, Number(arg));
      case 'produce':
        return modes.produce(bootstrap, topic, arg);
      case 'consume':
        return modes.consume(bootstrap, topic, parseCounts(arg));
      case 'group-consume':
        if (!modes.groupConsume) {
          process.stderr.write(`${script} has no group-consume mode\n`);
          return 2;
        }
        return modes.groupConsume(bootstrap, topic, arg, parseGroupSettings(argv.slice(4)));
      default:
        process.stderr.write(`unknown mode ${mode}\n`);
        return 2;
    }
  });
}
