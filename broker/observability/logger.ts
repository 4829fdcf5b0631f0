// Structured logs: one JSON object per line on stderr (or `text` for people at a terminal), with a
// level, a message and fields. Kept dependency-free; every subsystem takes a Logger, so tests can
// capture what was logged.
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 };

export interface Logger {
  trace(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  format: 'json' | 'text';
  write?: (line: string) => void;
  nowMs?: () => number;
}

function errorFields(v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, code: (v as { code?: unknown }).code, stack: v.stack };
  if (typeof v === 'bigint') return v.toString();
  return v;
}

export function createLogger(opts: LoggerOptions, bound: LogFields = {}): Logger {
  const min = RANK[opts.level];
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const now = opts.nowMs ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const all: LogFields = { ...bound, ...fields };
    for (const k of Object.keys(all)) all[k] = errorFields(all[k]);
    if (opts.format === 'json') {
      write(JSON.stringify({ time: new Date(now()).toISOString(), level, msg, ...all }) + '\n');
    } else {
      const rest = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      write(`${new Date(now()).toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${rest ? ' ' + rest : ''}\n`);
    }
  };
  return {
    trace: (m, f) => emit('trace', m, f),
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = createLogger({ level: 'error', format: 'json', write: () => {} });
