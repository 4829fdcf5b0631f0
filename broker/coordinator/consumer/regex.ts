// Topic regular expressions for `SubscribedTopicRegex` (ConsumerGroupHeartbeat v1+).
//
// Kafka compiles these with RE2/J and matches whole topic names. JavaScript's RegExp backtracks,
// so a hostile pattern could pin the coordinator; instead this file parses RE2 syntax itself and
// matches with a Thompson NFA (a Pike VM without captures), whose cost is linear in the name:
// O(name length × program size), both bounded below. It answers only "does the whole name
// match", which is all a subscription needs.
//
// Supported (RE2 syntax): literals and escaped punctuation; `.`; classes `[...]`, `[^...]` with
// ranges, Perl classes (`\d \D \s \S \w \W`), POSIX classes (`[[:alpha:]]`, `[[:^digit:]]`) and
// Unicode classes (`\pL`, `\p{Greek}`, `\PL`, `\p{^L}`); `\a \f \t \n \r \v`, octal `\123`, hex
// `\x7F` and `\x{10FFFF}`; `\Q...\E`; alternation; groups `(re)`, `(?:re)`, `(?P<name>re)`,
// `(?<name>re)`; flags `(?imsU)`, `(?i-s:re)`; repetition `* + ? {n} {n,} {n,m}` and their lazy
// forms; anchors `^ $ \A \z` and word boundaries `\b \B`.
// Refused, as RE2/J refuses them (with RE2/J's descriptions): backreferences, look-around,
// possessive and doubled repetition operators, `\C`, `\Z`, repetition counts over 1000.
// Limits: see `TOPIC_REGEX_LIMITS`; exceeding one is an invalid expression. The expectations in
// regex.test.ts were checked against RE2/J 1.8, the version Kafka 4.1 ships.

export const TOPIC_REGEX_LIMITS = {
  /** Longest expression accepted, in UTF-16 units. */
  sourceLengthMax: 4096,
  /** Largest compiled program, in instructions (repetitions are expanded). */
  programSizeMax: 5000,
  /** Largest `{n,m}` count, as in RE2. */
  repeatCountMax: 1000,
  /** Deepest nesting of groups, as in RE2. */
  nestingDepthMax: 1000,
} as const;

export interface TopicRegex {
  readonly source: string;
  /** True when the whole of `name` matches (Java's `Matcher.matches()`). */
  matches(name: string): boolean;
}

export type CompileResult = { ok: true; regex: TopicRegex } | { ok: false; message: string };

export function compileTopicRegex(source: string): CompileResult {
  if (source.length > TOPIC_REGEX_LIMITS.sourceLengthMax) {
    return { ok: false, message: `expression longer than ${TOPIC_REGEX_LIMITS.sourceLengthMax} characters` };
  }
  try {
    const ast = new Parser(source).parse();
    const prog = compile(ast);
    return { ok: true, regex: { source, matches: (name: string) => run(prog, name) } };
  } catch (e) {
    if (e instanceof RegexSyntaxError) return { ok: false, message: e.message };
    throw e;
  }
}

class RegexSyntaxError extends Error {}

// ---------------------------------------------------------------------------------------------
// Syntax tree

/** A test on one code point. `ranges` holds inclusive [lo, hi] pairs. */
interface CharClass {
  ranges: number[];
  /** Unicode property tests (each a one-character, non-backtracking JS RegExp). */
  props: RegExp[];
  negated: boolean;
  fold: boolean;
}

type AssertKind = 'beginText' | 'endText' | 'beginLine' | 'endLine' | 'wordBoundary' | 'notWordBoundary';

type Node =
  | { k: 'empty' }
  | { k: 'class'; cc: CharClass }
  | { k: 'any'; dotNl: boolean }
  | { k: 'cat'; items: Node[] }
  | { k: 'alt'; items: Node[] }
  | { k: 'repeat'; node: Node; min: number; max: number /* -1: unbounded */ }
  | { k: 'assert'; kind: AssertKind };

interface Flags {
  fold: boolean; // i
  multiLine: boolean; // m
  dotNl: boolean; // s
}

const NL = 0x0a;

const PERL_CLASSES: Record<string, number[]> = {
  d: [0x30, 0x39],
  s: [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20],
  w: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
};

const POSIX_CLASSES: Record<string, number[]> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0x00, 0x7f],
  blank: [0x09, 0x09, 0x20, 0x20],
  cntrl: [0x00, 0x1f, 0x7f, 0x7f],
  digit: [0x30, 0x39],
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x09, 0x0d, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};

function negateRanges(r: readonly number[]): number[] {
  const sorted: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) sorted.push([r[i]!, r[i + 1]!]);
  sorted.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push(next, lo - 1);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0x10ffff) out.push(next, 0x10ffff);
  return out;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

// ---------------------------------------------------------------------------------------------
// Parser (recursive descent over code points, depth-limited)

class Parser {
  private readonly s: number[];
  private i = 0;
  private depth = 0;

  constructor(private readonly source: string) {
    this.s = Array.from(source, (ch) => ch.codePointAt(0)!);
  }

  parse(): Node {
    const flags: Flags = { fold: false, multiLine: false, dotNl: false };
    const node = this.parseAlt(flags);
    if (this.i < this.s.length) {
      // Only an unmatched ')' stops the top level early.
      throw new RegexSyntaxError(`unexpected )`);
    }
    return node;
  }

  private peek(off = 0): number | undefined {
    return this.s[this.i + off];
  }

  private lookingAt(text: string): boolean {
    for (let j = 0; j < text.length; j++) if (this.s[this.i + j] !== text.charCodeAt(j)) return false;
    return true;
  }

  /** Alternation; `flags` may be changed by `(?i)` inside and stays changed to the group's end. */
  private parseAlt(flags: Flags): Node {
    const items: Node[] = [this.parseConcat(flags)];
    while (this.peek() === 0x7c /* | */) {
      this.i++;
      items.push(this.parseConcat(flags));
    }
    return items.length === 1 ? items[0]! : { k: 'alt', items };
  }

  private parseConcat(flags: Flags): Node {
    const items: Node[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === 0x7c /* | */ || c === 0x29 /* ) */) break;
      if (this.lookingAt('\\Q')) {
        // \Q...\E: literal text; a repetition after it applies to its last character, as in RE2.
        this.i += 2;
        const before = items.length;
        while (this.i < this.s.length && !this.lookingAt('\\E')) items.push(literal(this.s[this.i++]!, flags));
        if (this.lookingAt('\\E')) this.i += 2;
        if (items.length > before && this.parseRepeatOp(true) !== null) items.push(this.parseRepeats(items.pop()!));
        continue;
      }
      const atom = this.parseAtom(flags);
      if (atom === null) continue; // a flag group like (?i) adds nothing
      items.push(this.parseRepeats(atom));
    }
    if (items.length === 0) return { k: 'empty' };
    return items.length === 1 ? items[0]! : { k: 'cat', items };
  }

  /** A repetition operator after an atom; a second operator after the first is an error, as in RE2. */
  private parseRepeats(atom: Node): Node {
    const op = this.parseRepeatOp();
    if (op === null) return atom;
    if (this.peek() === 0x3f /* ? */) this.i++; // lazy: same language
    if (this.parseRepeatOp(true) !== null) {
      throw new RegexSyntaxError(`invalid nested repetition operator`);
    }
    return { k: 'repeat', node: atom, min: op.min, max: op.max };
  }

  /** Reads `* + ? {n} {n,} {n,m}` at the cursor; `{` that is not a count is left as a literal. */
  private parseRepeatOp(peekOnly = false): { min: number; max: number } | null {
    const c = this.peek();
    if (c === 0x2a /* * */) return this.consumeOp(1, peekOnly, { min: 0, max: -1 });
    if (c === 0x2b /* + */) return this.consumeOp(1, peekOnly, { min: 1, max: -1 });
    if (c === 0x3f /* ? */) return this.consumeOp(1, peekOnly, { min: 0, max: 1 });
    if (c !== 0x7b /* { */) return null;
    let j = this.i + 1;
    const readInt = (): number | null => {
      const start = j;
      while (isDigit(this.s[j])) j++;
      if (j === start) return null;
      const text = String.fromCodePoint(...this.s.slice(start, j));
      return text.length > 5 ? Number.MAX_SAFE_INTEGER : Number(text);
    };
    const min = readInt();
    if (min === null) return null;
    let max = min;
    if (this.s[j] === 0x2c /* , */) {
      j++;
      if (this.s[j] === 0x7d /* } */) max = -1;
      else {
        const m = readInt();
        if (m === null) return null;
        max = m;
      }
    }
    if (this.s[j] !== 0x7d /* } */) return null;
    if (peekOnly) return { min, max };
    if (min > TOPIC_REGEX_LIMITS.repeatCountMax || max > TOPIC_REGEX_LIMITS.repeatCountMax || (max !== -1 && max < min)) {
      throw new RegexSyntaxError(`invalid repeat count`);
    }
    this.i = j + 1;
    return { min, max };
  }

  private consumeOp(len: number, peekOnly: boolean, op: { min: number; max: number }): { min: number; max: number } {
    if (!peekOnly) this.i += len;
    return op;
  }

  private parseAtom(flags: Flags): Node | null {
    const c = this.peek()!;
    switch (c) {
      case 0x28 /* ( */:
        return this.parseGroup(flags);
      case 0x5b /* [ */:
        return { k: 'class', cc: this.parseClass(flags) };
      case 0x2e /* . */:
        this.i++;
        return { k: 'any', dotNl: flags.dotNl };
      case 0x5e /* ^ */:
        this.i++;
        return { k: 'assert', kind: flags.multiLine ? 'beginLine' : 'beginText' };
      case 0x24 /* $ */:
        this.i++;
        return { k: 'assert', kind: flags.multiLine ? 'endLine' : 'endText' };
      case 0x5c /* \ */:
        return this.parseEscapeAtom(flags);
      case 0x2a /* * */:
      case 0x2b /* + */:
      case 0x3f /* ? */:
        throw new RegexSyntaxError(`missing argument to repetition operator`);
      case 0x7b /* { */:
        if (this.parseRepeatOp(true) !== null) {
          throw new RegexSyntaxError(`missing argument to repetition operator`);
        }
        this.i++;
        return literal(c, flags);
      default:
        this.i++;
        return literal(c, flags);
    }
  }

  private parseGroup(flags: Flags): Node | null {
    this.i++; // (
    let inner: Flags = { ...flags };
    if (this.peek() === 0x3f /* ? */) {
      if (this.lookingAt('?P<') || (this.lookingAt('?<') && this.peek(2) !== 0x3d && this.peek(2) !== 0x21)) {
        this.i += this.peek(1) === 0x50 ? 3 : 2;
        const start = this.i;
        while (this.peek() !== undefined && this.peek() !== 0x3e /* > */) {
          const ch = this.peek()!;
          if (!(isAlnum(ch) || ch === 0x5f)) throw new RegexSyntaxError(`invalid named capture`);
          this.i++;
        }
        if (this.peek() !== 0x3e || this.i === start) throw new RegexSyntaxError(`invalid named capture`);
        this.i++;
      } else {
        // Flags: (?flags) or (?flags:re)
        this.i++;
        let negate = false;
        let sawFlag = false;
        const next: Flags = { ...flags };
        for (;;) {
          const ch = this.peek();
          if (ch === undefined) throw new RegexSyntaxError(`invalid or unsupported Perl syntax`);
          this.i++;
          if (ch === 0x69 /* i */) next.fold = !negate;
          else if (ch === 0x6d /* m */) next.multiLine = !negate;
          else if (ch === 0x73 /* s */) next.dotNl = !negate;
          else if (ch === 0x55 /* U */) {
            /* ungreedy: does not change what matches */
          } else if (ch === 0x2d /* - */ && !negate) {
            negate = true;
            sawFlag = false;
            continue;
          } else if (ch === 0x29 /* ) */ || ch === 0x3a /* : */) {
            if (negate && !sawFlag) throw new RegexSyntaxError(`invalid or unsupported Perl syntax`);
            if (ch === 0x29) {
              Object.assign(flags, next); // applies to the rest of the enclosing group
              return null;
            }
            inner = next;
            break;
          } else {
            throw new RegexSyntaxError(`invalid or unsupported Perl syntax`);
          }
          sawFlag = true;
        }
      }
    }
    if (++this.depth > TOPIC_REGEX_LIMITS.nestingDepthMax) {
      throw new RegexSyntaxError(`expression nests too deeply`);
    }
    const node = this.parseAlt(inner);
    this.depth--;
    if (this.peek() !== 0x29 /* ) */) throw new RegexSyntaxError(`missing closing )`);
    this.i++;
    return node;
  }

  private parseEscapeAtom(flags: Flags): Node {
    const c = this.peek(1);
    if (c === undefined) throw new RegexSyntaxError(`trailing backslash at end of expression`);
    switch (c) {
      case 0x41 /* A */:
        this.i += 2;
        return { k: 'assert', kind: 'beginText' };
      case 0x7a /* z */:
        this.i += 2;
        return { k: 'assert', kind: 'endText' };
      case 0x62 /* b */:
        this.i += 2;
        return { k: 'assert', kind: 'wordBoundary' };
      case 0x42 /* B */:
        this.i += 2;
        return { k: 'assert', kind: 'notWordBoundary' };
      default: {
        const cc = this.parseClassEscape(flags);
        if (cc !== null) return { k: 'class', cc };
        return literal(this.parseCharEscape(), flags);
      }
    }
  }

  /** `\d`, `\pL` and friends at the cursor (which is on the backslash), or null. */
  private parseClassEscape(flags: Flags): CharClass | null {
    const c = this.peek(1)!;
    const lower = String.fromCodePoint(c).toLowerCase();
    const perl = PERL_CLASSES[lower];
    if (perl !== undefined && (c === 0x64 || c === 0x44 || c === 0x73 || c === 0x53 || c === 0x77 || c === 0x57)) {
      this.i += 2;
      const upper = c === 0x44 || c === 0x53 || c === 0x57;
      return { ranges: upper ? negateRanges(perl) : [...perl], props: [], negated: false, fold: false };
    }
    if (c === 0x70 /* p */ || c === 0x50 /* P */) {
      this.i += 2;
      let name: string;
      if (this.peek() === 0x7b /* { */) {
        const end = this.s.indexOf(0x7d, this.i);
        if (end < 0) throw new RegexSyntaxError(`invalid character class range`);
        name = String.fromCodePoint(...this.s.slice(this.i + 1, end));
        this.i = end + 1;
      } else {
        const ch = this.peek();
        if (ch === undefined) throw new RegexSyntaxError(`invalid character class range`);
        name = String.fromCodePoint(ch);
        this.i++;
      }
      let negated = c === 0x50;
      if (name.startsWith('^')) {
        negated = !negated;
        name = name.slice(1);
      }
      return { ranges: [], props: [unicodeProperty(name, this.source)], negated, fold: flags.fold };
    }
    return null;
  }

  /** One escaped character (cursor on the backslash): control, octal, hex or punctuation. */
  private parseCharEscape(): number {
    const c = this.peek(1)!;
    this.i += 2;
    switch (c) {
      case 0x61 /* a */:
        return 0x07;
      case 0x66 /* f */:
        return 0x0c;
      case 0x74 /* t */:
        return 0x09;
      case 0x6e /* n */:
        return 0x0a;
      case 0x72 /* r */:
        return 0x0d;
      case 0x76 /* v */:
        return 0x0b;
      case 0x78 /* x */: {
        if (this.peek() === 0x7b /* { */) {
          this.i++;
          let v = 0;
          let n = 0;
          while (isHex(this.peek())) {
            v = v * 16 + parseInt(String.fromCodePoint(this.peek()!), 16);
            n++;
            this.i++;
            if (v > 0x10ffff) break;
          }
          if (n === 0 || this.peek() !== 0x7d || v > 0x10ffff) throw new RegexSyntaxError(`invalid escape sequence`);
          this.i++;
          return v;
        }
        if (!isHex(this.peek()) || !isHex(this.peek(1))) throw new RegexSyntaxError(`invalid escape sequence`);
        const v = parseInt(String.fromCodePoint(this.peek()!, this.peek(1)!), 16);
        this.i += 2;
        return v;
      }
      default:
        break;
    }
    if (c >= 0x30 && c <= 0x37) {
      // \0, or \1-\7 followed by another octal digit (a lone \1-\7 would be a backreference).
      if (c !== 0x30 && !(this.peek() !== undefined && this.peek()! >= 0x30 && this.peek()! <= 0x37)) {
        throw new RegexSyntaxError(`invalid escape sequence`);
      }
      let v = c - 0x30;
      for (let k = 0; k < 2; k++) {
        const d = this.peek();
        if (d === undefined || d < 0x30 || d > 0x37) break;
        v = v * 8 + (d - 0x30);
        this.i++;
      }
      return v;
    }
    if (c < 0x80 && !isAlnum(c)) return c; // escaped punctuation
    throw new RegexSyntaxError(`invalid escape sequence`);
  }

  private parseClass(flags: Flags): CharClass {
    this.i++; // [
    const cc: CharClass = { ranges: [], props: [], negated: false, fold: flags.fold };
    if (this.peek() === 0x5e /* ^ */) {
      cc.negated = true;
      this.i++;
    }
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new RegexSyntaxError(`missing closing ]`);
      if (c === 0x5d /* ] */ && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === 0x5b /* [ */ && this.peek(1) === 0x3a /* : */) {
        const end = this.findPosixEnd();
        if (end >= 0) {
          let name = String.fromCodePoint(...this.s.slice(this.i + 2, end));
          let neg = false;
          if (name.startsWith('^')) {
            neg = true;
            name = name.slice(1);
          }
          const r = POSIX_CLASSES[name];
          if (r === undefined) throw new RegexSyntaxError(`invalid character class range`);
          cc.ranges.push(...(neg ? negateRanges(r) : r));
          this.i = end + 2;
          continue;
        }
      }
      if (c === 0x5c /* \ */) {
        const sub = this.peek(1) === undefined ? null : this.parseClassEscape(flags);
        if (sub !== null) {
          if (sub.props.length > 0) {
            // A Unicode class inside brackets: fold its test into one property list entry.
            const prop = sub.props[0]!;
            cc.props.push(sub.negated ? negatedProperty(prop) : prop);
          } else {
            cc.ranges.push(...sub.ranges);
          }
          continue;
        }
      }
      const lo = this.parseClassChar();
      let hi = lo;
      if (this.peek() === 0x2d /* - */ && this.peek(1) !== undefined && this.peek(1) !== 0x5d /* ] */) {
        this.i++;
        hi = this.parseClassChar();
        if (hi < lo) throw new RegexSyntaxError(`invalid character class range`);
      }
      cc.ranges.push(lo, hi);
    }
    return cc;
  }

  private findPosixEnd(): number {
    for (let j = this.i + 2; j + 1 < this.s.length; j++) {
      if (this.s[j] === 0x3a && this.s[j + 1] === 0x5d) return j;
      if (this.s[j] === 0x5d) return -1;
    }
    return -1;
  }

  private parseClassChar(): number {
    const c = this.peek()!;
    if (c !== 0x5c /* \ */) {
      this.i++;
      return c;
    }
    if (this.peek(1) === undefined) throw new RegexSyntaxError(`missing closing ]`);
    return this.parseCharEscape();
  }
}

function literal(c: number, flags: Flags): Node {
  return { k: 'class', cc: { ranges: [c, c], props: [], negated: false, fold: flags.fold } };
}

const unicodePropertyCache = new Map<string, RegExp>();

/**
 * `\p{name}`: a general category (`L`, `Lu`, `Nd`…), a script (`Greek`), or `Any`, tested on one
 * code point with a JS RegExp that contains nothing but that property: it cannot backtrack.
 */
function unicodeProperty(name: string, source: string): RegExp {
  const cached = unicodePropertyCache.get(name);
  if (cached !== undefined) return cached;
  if (!/^[A-Za-z_]{1,40}$/.test(name)) throw new RegexSyntaxError(`invalid character class range`);
  let re: RegExp | undefined;
  if (name === 'Any') re = /^[\s\S]$/u;
  else {
    for (const body of [`\\p{General_Category=${name}}`, `\\p{Script=${name}}`]) {
      try {
        re = new RegExp(`^${body}$`, 'u');
        break;
      } catch {
        // try the next reading of the name
      }
    }
  }
  if (re === undefined) throw new RegexSyntaxError(`invalid character class range`);
  if (unicodePropertyCache.size < 256) unicodePropertyCache.set(name, re);
  return re;
}

function negatedProperty(re: RegExp): RegExp {
  const inner = re.source.slice(1, -1);
  return new RegExp(`^[^${inner === '[\\s\\S]' ? '\\s\\S' : inner}]$`, 'u');
}

// ---------------------------------------------------------------------------------------------
// Compiler: a flat program; non-branching instructions continue at pc + 1.

const Op = { Char: 0, Any: 1, Split: 2, Jmp: 3, Assert: 4, Match: 5 } as const;

type Inst =
  | { op: typeof Op.Char; cc: CharClass }
  | { op: typeof Op.Any; dotNl: boolean }
  | { op: typeof Op.Split; x: number; y: number }
  | { op: typeof Op.Jmp; x: number }
  | { op: typeof Op.Assert; kind: AssertKind }
  | { op: typeof Op.Match };

function compile(ast: Node): Inst[] {
  const prog: Inst[] = [];
  const push = (inst: Inst): number => {
    if (prog.length >= TOPIC_REGEX_LIMITS.programSizeMax) {
      throw new RegexSyntaxError(`expression too large (over ${TOPIC_REGEX_LIMITS.programSizeMax} instructions)`);
    }
    prog.push(inst);
    return prog.length - 1;
  };
  const emit = (n: Node): void => {
    switch (n.k) {
      case 'empty':
        return;
      case 'class':
        push({ op: Op.Char, cc: n.cc });
        return;
      case 'any':
        push({ op: Op.Any, dotNl: n.dotNl });
        return;
      case 'assert':
        push({ op: Op.Assert, kind: n.kind });
        return;
      case 'cat':
        for (const item of n.items) emit(item);
        return;
      case 'alt': {
        const jumps: number[] = [];
        for (let j = 0; j < n.items.length; j++) {
          if (j < n.items.length - 1) {
            const split = push({ op: Op.Split, x: 0, y: 0 });
            (prog[split] as { x: number }).x = split + 1;
            emit(n.items[j]!);
            jumps.push(push({ op: Op.Jmp, x: 0 }));
            (prog[split] as { y: number }).y = prog.length;
          } else {
            emit(n.items[j]!);
          }
        }
        for (const jmp of jumps) (prog[jmp] as { x: number }).x = prog.length;
        return;
      }
      case 'repeat': {
        for (let j = 0; j < n.min; j++) emit(n.node);
        if (n.max === -1) {
          const loop = push({ op: Op.Split, x: 0, y: 0 });
          (prog[loop] as { x: number }).x = loop + 1;
          emit(n.node);
          push({ op: Op.Jmp, x: loop });
          (prog[loop] as { y: number }).y = prog.length;
        } else {
          const splits: number[] = [];
          for (let j = n.min; j < n.max; j++) {
            const split = push({ op: Op.Split, x: 0, y: 0 });
            (prog[split] as { x: number }).x = split + 1;
            splits.push(split);
            emit(n.node);
          }
          for (const split of splits) (prog[split] as { y: number }).y = prog.length;
        }
        return;
      }
    }
  };
  emit(ast);
  push({ op: Op.Match });
  return prog;
}

// ---------------------------------------------------------------------------------------------
// Matcher: breadth-first over NFA states, one pass over the input.

function isWordChar(c: number | undefined): boolean {
  return c !== undefined && (isAlnum(c) || c === 0x5f);
}

function classMatches(cc: CharClass, c: number): boolean {
  let hit = classHit(cc, c);
  if (!hit && cc.fold) {
    const ch = String.fromCodePoint(c);
    const lower = ch.toLowerCase().codePointAt(0)!;
    const upper = ch.toUpperCase().codePointAt(0)!;
    hit = (lower !== c && classHit(cc, lower)) || (upper !== c && classHit(cc, upper));
  }
  return hit !== cc.negated;
}

function classHit(cc: CharClass, c: number): boolean {
  const r = cc.ranges;
  for (let j = 0; j < r.length; j += 2) if (c >= r[j]! && c <= r[j + 1]!) return true;
  if (cc.props.length > 0) {
    const ch = String.fromCodePoint(c);
    for (const p of cc.props) if (p.test(ch)) return true;
  }
  return false;
}

function run(prog: readonly Inst[], input: string): boolean {
  const text = Array.from(input, (ch) => ch.codePointAt(0)!);
  const n = text.length;
  const seen = new Int32Array(prog.length).fill(-1);
  let current: number[] = [];
  let next: number[] = [];
  const stack: number[] = [];
  let generation = 0;

  // Adds `pc` and every state reachable from it without consuming input at position `pos`.
  const addClosure = (list: number[], start: number, pos: number): void => {
    stack.push(start);
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (seen[pc] === generation) continue;
      seen[pc] = generation;
      const inst = prog[pc]!;
      switch (inst.op) {
        case Op.Jmp:
          stack.push(inst.x);
          break;
        case Op.Split:
          stack.push(inst.y, inst.x);
          break;
        case Op.Assert:
          if (assertHolds(inst.kind, text, pos)) stack.push(pc + 1);
          break;
        default:
          list.push(pc);
      }
    }
  };

  addClosure(current, 0, 0);
  for (let pos = 0; pos < n; pos++) {
    if (current.length === 0) return false;
    generation++;
    next.length = 0;
    const c = text[pos]!;
    for (const pc of current) {
      const inst = prog[pc]!;
      if (inst.op === Op.Char ? classMatches(inst.cc, c) : inst.op === Op.Any && (c !== NL || inst.dotNl)) {
        addClosure(next, pc + 1, pos + 1);
      }
    }
    [current, next] = [next, current];
  }
  return current.some((pc) => prog[pc]!.op === Op.Match);
}

function assertHolds(kind: AssertKind, text: readonly number[], pos: number): boolean {
  switch (kind) {
    case 'beginText':
      return pos === 0;
    case 'endText':
      return pos === text.length;
    case 'beginLine':
      return pos === 0 || text[pos - 1] === NL;
    case 'endLine':
      return pos === text.length || text[pos] === NL;
    case 'wordBoundary':
      return isWordChar(text[pos - 1]) !== isWordChar(text[pos]);
    case 'notWordBoundary':
      return isWordChar(text[pos - 1]) === isWordChar(text[pos]);
  }
}
