// Java `.properties` text, read the way java.util.Properties.load reads it for Kafka's
// kafka-server-start, so that a Kafka server.properties means the same thing to Strata:
//   - lines end at \n, \r or \r\n; leading spaces, tabs and form feeds are skipped;
//   - a line whose first non-blank character is # or ! is a comment (and never continues);
//   - a line ending in an odd number of backslashes continues on the next line, whose leading
//     blanks are skipped (a # there is data, not a comment, unless nothing came before it);
//   - the key ends at the first unescaped =, : or blank; blanks around one = or : are skipped;
//     the rest of the line, trailing blanks included, is the value (the loader trims it, as
//     Kafka's ConfigDef does);
//   - escapes: \t \n \r \f, \uXXXX, and a backslash before any other character stands for
//     that character (\= \: \# \\ and "\ " for a space in a key).
// Differences, both deliberate: the text is UTF-8 (Java's load(InputStream) reads ISO-8859-1,
// which only matters for non-ASCII bytes, and \uXXXX works in both), and a line with a value but
// an empty key is an error rather than a key named "" (Java also makes an empty key of a lone
// backslash on the last line; Strata ignores it). Checked against Java's Properties.load on
// thousands of random lines of separators, blanks, backslashes and comment marks.

import { ConfigError } from './errors.js';

export interface PropertyEntry {
  readonly key: string;
  readonly value: string;
  /** 1-based line where the entry starts. */
  readonly line: number;
}

/** A config file is small; anything near this is not a config file. */
export const PROPERTIES_TEXT_MAX_CHARS = 4 * 1024 * 1024;

const BLANK = new Set([' ', '\t', '\f']);

function skipBlanks(s: string): string {
  let i = 0;
  while (i < s.length && BLANK.has(s[i]!)) i++;
  return s.slice(i);
}

function trailingBackslashes(s: string): number {
  let n = 0;
  while (n < s.length && s[s.length - 1 - n] === '\\') n++;
  return n;
}

/** Parses properties text into entries in file order (a repeated key appears twice; the loader
 *  decides what that means). `source` names the text in error messages. */
export function parseProperties(text: string, source = 'properties'): PropertyEntry[] {
  if (text.length > PROPERTIES_TEXT_MAX_CHARS) {
    throw new ConfigError(`${source}: ${text.length} characters, more than the ${PROPERTIES_TEXT_MAX_CHARS} a config file may have`, null);
  }
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split(/\r\n|\r|\n/);
  const entries: PropertyEntry[] = [];
  let i = 0;
  while (i < lines.length) {
    const startLine = i + 1;
    const first = skipBlanks(lines[i++]!);
    if (first === '' || first[0] === '#' || first[0] === '!') continue;
    // A lone backslash continues nothing: Java then reads the next line as a fresh one, where a
    // leading # or ! still starts a comment.
    if (first === '\\') continue;
    // Join continuation lines, remembering where each physical line starts in the joined text
    // so that an escape error can name its own line.
    let logical = '';
    const starts: { offset: number; line: number }[] = [];
    let part = first;
    let partLine = startLine;
    for (;;) {
      starts.push({ offset: logical.length, line: partLine });
      if (trailingBackslashes(part) % 2 === 1) {
        logical += part.slice(0, -1);
        // At the end of the text a continuation simply ends, as in Java.
        if (i >= lines.length) break;
        partLine = i + 1;
        part = skipBlanks(lines[i++]!);
        continue;
      }
      logical += part;
      break;
    }
    const lineAt = (offset: number): number => {
      let line = startLine;
      for (const s of starts) if (s.offset <= offset) line = s.line;
      return line;
    };
    entries.push(splitEntry(logical, startLine, lineAt, source));
  }
  return entries;
}

function splitEntry(s: string, line: number, lineAt: (offset: number) => number, source: string): PropertyEntry {
  let keyEnd = 0;
  let valueStart = s.length;
  let hasSeparator = false;
  let escaped = false;
  for (; keyEnd < s.length; keyEnd++) {
    const c = s[keyEnd]!;
    if (!escaped && (c === '=' || c === ':')) {
      valueStart = keyEnd + 1;
      hasSeparator = true;
      break;
    }
    if (!escaped && BLANK.has(c)) {
      valueStart = keyEnd + 1;
      break;
    }
    escaped = c === '\\' ? !escaped : false;
  }
  // After a blank-terminated key, one = or : may still follow ("key = value").
  for (; valueStart < s.length; valueStart++) {
    const c = s[valueStart]!;
    if (BLANK.has(c)) continue;
    if (!hasSeparator && (c === '=' || c === ':')) {
      hasSeparator = true;
      continue;
    }
    break;
  }
  const key = unescape(s, 0, keyEnd, lineAt, source);
  const value = unescape(s, valueStart, s.length, lineAt, source);
  if (key === '') throw new ConfigError(`${source} line ${line}: an entry with no key`, null, { line });
  return { key, value, line };
}

const SIMPLE_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescape(s: string, from: number, to: number, lineAt: (offset: number) => number, source: string): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[++i];
    if (e === undefined || i >= to) break; // a lone backslash at the end of a key or value stands for nothing
    if (e === 'u') {
      const hex = s.slice(i + 1, i + 5);
      if (i + 4 >= to || !/^[0-9A-Fa-f]{4}$/.test(hex)) {
        const line = lineAt(i);
        throw new ConfigError(`${source} line ${line}: malformed escape '\\u${s.slice(i + 1, Math.min(i + 5, to))}'; \\u takes exactly four hex digits`, null, { line });
      }
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += SIMPLE_ESCAPES[e] ?? e;
    }
  }
  return out;
}
