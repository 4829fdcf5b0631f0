// How a configuration value is typed, parsed, checked and printed. keys.ts (broker keys) and
// topic-keys.ts (topic keys) declare every key with the builders below; nothing else in Strata
// parses a configuration value, so the reference docs, the loader and DescribeConfigs cannot
// disagree about a key.
//
// How an int64 travels here: as a JS number that must be a safe integer. Config values are
// counts, sizes and durations, far below 2^53, except Kafka's "never" sentinel Long.MAX_VALUE
// (9223372036854775807). Strata holds "never" as Number.MAX_SAFE_INTEGER (LONG_NEVER): text of
// any value from 2^53-1 up to Long.MAX_VALUE reads as LONG_NEVER, and LONG_NEVER prints back as
// Long.MAX_VALUE so Kafka's tools see the value they expect. Code comparing against a long
// setting therefore never needs a special case: 2^53-1 ms is 285,000 years.

export type ConfigType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list' | 'password';
export type Importance = 'high' | 'medium' | 'low';

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;
/** Strata's "never"/"unbounded" for a long setting; see the header comment. */
export const LONG_NEVER = Number.MAX_SAFE_INTEGER;
/** Kafka's Long.MAX_VALUE as text: what LONG_NEVER prints as. */
export const KAFKA_LONG_MAX = '9223372036854775807';
const LONG_MIN_BIG = -(2n ** 63n);
const LONG_MAX_BIG = 2n ** 63n - 1n;

const HIDDEN = '[hidden]';

/** A secret: prints as [hidden] through String(), JSON and util.inspect, so logging a config
 *  object cannot leak it. `reveal()` is the one way to the text. */
export class Password {
  readonly #text: string;
  constructor(text: string) {
    this.#text = text;
  }
  reveal(): string {
    return this.#text;
  }
  toString(): string {
    return HIDDEN;
  }
  toJSON(): string {
    return HIDDEN;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return HIDDEN;
  }
}

/** What a value must satisfy beyond its type. `custom.check` returns the problem, or null. */
export type Validator<V> =
  | { readonly kind: 'range'; readonly min?: number; readonly max?: number }
  | { readonly kind: 'oneOf'; readonly values: readonly string[] }
  | { readonly kind: 'custom'; readonly allowed: string; check(value: V): string | null };

export function atLeast(min: number): Validator<number> {
  return { kind: 'range', min };
}
export function between(min: number, max: number): Validator<number> {
  return { kind: 'range', min, max };
}
export function custom<V>(allowed: string, check: (value: V) => string | null): Validator<V> {
  return { kind: 'custom', allowed, check };
}

type InertSpec =
  | { readonly inert?: undefined; readonly inertReason?: undefined }
  /** A Kafka key Strata accepts so that Kafka's own property files load, but does not act on. */
  | { readonly inert: true; readonly inertReason: string };

export type Spec<V> = {
  readonly group: string;
  readonly importance: Importance;
  /** One or two sentences: what the key does in Strata. */
  readonly doc: string;
  /** Shown in the docs instead of the default when the default is computed from other keys. */
  readonly defaultDoc?: string;
  readonly validator?: Validator<V>;
  /** Keys this one falls back to, in order, when it is unset (Kafka's synonyms). */
  readonly fallbacks?: readonly string[];
} & InertSpec;

/** One declared key. `V` is the type of its value in the loaded config (null when unset and
 *  without a default). */
export interface KeyDef<N extends string = string, V = unknown> {
  readonly name: N;
  readonly type: ConfigType;
  readonly default: V;
  readonly defaultDoc: string | undefined;
  readonly doc: string;
  readonly group: string;
  readonly importance: Importance;
  readonly validator: Validator<NonNullable<V>> | undefined;
  readonly fallbacks: readonly string[];
  readonly inert: boolean;
  readonly inertReason: string | undefined;
}

export type AnyKeyDef = KeyDef<string, unknown>;

function make<N extends string, V>(name: N, type: ConfigType, dflt: V, spec: Spec<NonNullable<V>>): KeyDef<N, V> {
  return {
    name,
    type,
    default: dflt,
    defaultDoc: spec.defaultDoc,
    doc: spec.doc,
    group: spec.group,
    importance: spec.importance,
    validator: spec.validator,
    fallbacks: spec.fallbacks ?? [],
    inert: spec.inert === true,
    inertReason: spec.inertReason,
  };
}

// Builders, one per type. The overloads keep the key's name as a literal type and make the value
// nullable only when the default is null, so the loaded config's type follows from the
// declarations (see BrokerConfig).

export function int<const N extends string>(name: N, dflt: number, spec: Spec<number>): KeyDef<N, number>;
export function int<const N extends string>(name: N, dflt: null, spec: Spec<number>): KeyDef<N, number | null>;
export function int<N extends string>(name: N, dflt: number | null, spec: Spec<number>): KeyDef<N, number | null> {
  return make(name, 'int', dflt, spec);
}

export function long<const N extends string>(name: N, dflt: number, spec: Spec<number>): KeyDef<N, number>;
export function long<const N extends string>(name: N, dflt: null, spec: Spec<number>): KeyDef<N, number | null>;
export function long<N extends string>(name: N, dflt: number | null, spec: Spec<number>): KeyDef<N, number | null> {
  return make(name, 'long', dflt, spec);
}

export function double<const N extends string>(name: N, dflt: number, spec: Spec<number>): KeyDef<N, number> {
  return make(name, 'double', dflt, spec);
}

export function bool<const N extends string>(name: N, dflt: boolean, spec: Spec<boolean>): KeyDef<N, boolean> {
  return make(name, 'boolean', dflt, spec);
}

export function str<const N extends string>(name: N, dflt: string, spec: Spec<string>): KeyDef<N, string>;
export function str<const N extends string>(name: N, dflt: null, spec: Spec<string>): KeyDef<N, string | null>;
export function str<N extends string>(name: N, dflt: string | null, spec: Spec<string>): KeyDef<N, string | null> {
  return make(name, 'string', dflt, spec);
}

/** A string from a fixed set, compared case-sensitively as Kafka does. */
export function choice<const N extends string, const E extends string>(
  name: N,
  dflt: NoInfer<E>,
  values: readonly E[],
  spec: Omit<Spec<E>, 'validator'>,
): KeyDef<N, E> {
  return make<N, E>(name, 'string', dflt, { ...spec, validator: { kind: 'oneOf', values } } as Spec<E>);
}

export function list<const N extends string>(name: N, dflt: readonly string[], spec: Spec<readonly string[]>): KeyDef<N, readonly string[]>;
export function list<const N extends string>(name: N, dflt: null, spec: Spec<readonly string[]>): KeyDef<N, readonly string[] | null>;
export function list<N extends string>(name: N, dflt: readonly string[] | null, spec: Spec<readonly string[]>): KeyDef<N, readonly string[] | null> {
  return make(name, 'list', dflt, spec);
}

/** A list whose every entry comes from a fixed set. */
export function choiceList<const N extends string, const E extends string>(
  name: N,
  dflt: readonly NoInfer<E>[],
  values: readonly E[],
  spec: Omit<Spec<readonly E[]>, 'validator'>,
): KeyDef<N, readonly E[]> {
  return make<N, readonly E[]>(name, 'list', dflt, { ...spec, validator: { kind: 'oneOf', values } } as Spec<readonly E[]>);
}

export function password<const N extends string>(name: N, spec: Spec<Password>): KeyDef<N, Password | null> {
  return make(name, 'password', null, spec);
}

// ---------------------------------------------------------------------------------------------
// Names

/** `log.segment.bytes` → `logSegmentBytes`: the field a key's value has in a loaded config. */
export type CamelCase<S extends string> = S extends `${infer H}.${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

export function camelCase<S extends string>(name: S): CamelCase<S> {
  return name.replace(/\.([a-z0-9])/g, (_, c: string) => c.toUpperCase()) as CamelCase<S>;
}

/** The loaded values of a set of declared keys, one camelCase field per key. */
export type ValuesOf<Ks extends readonly AnyKeyDef[]> = {
  readonly [K in Ks[number] as CamelCase<K['name']>]: K['default'];
};

/** Levenshtein distance, for "did you mean" suggestions. Inputs are key names (< 100 chars). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** Up to three known names close enough to `name` to be what the user meant. The threshold
 *  grows with the name's length: a quarter of it, at least 2 edits. */
export function closestNames(name: string, known: Iterable<string>): string[] {
  const wanted = name.toLowerCase();
  const limit = Math.max(2, Math.floor(wanted.length / 4));
  const scored: { n: string; d: number }[] = [];
  for (const n of known) {
    const d = distance(wanted, n);
    if (d <= limit) scored.push({ n, d });
  }
  scored.sort((x, y) => x.d - y.d || (x.n < y.n ? -1 : 1));
  return scored.slice(0, 3).map((s) => s.n);
}

// ---------------------------------------------------------------------------------------------
// Parsing, checking, printing

export type Parsed = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };

const TYPE_NOUN: Record<ConfigType, string> = {
  int: `an int (a whole number from ${INT32_MIN} to ${INT32_MAX})`,
  long: 'a long (a whole number; 9223372036854775807 means never)',
  double: 'a decimal number',
  boolean: 'true or false',
  string: 'a string',
  list: 'a comma-separated list',
  password: 'a string',
};

export function typeNoun(type: ConfigType): string {
  return TYPE_NOUN[type];
}

/** Parses the text of one value. Surrounding whitespace is ignored, as Kafka trims every value
 *  before parsing it; list entries are trimmed and empty entries dropped, so a trailing comma is
 *  harmless. */
export function parseValue(def: AnyKeyDef, text: string): Parsed {
  const t = text.trim();
  let value: unknown;
  switch (def.type) {
    case 'int': {
      const n = /^[+-]?\d+$/.test(t) ? Number(t) : NaN;
      if (!(n >= INT32_MIN && n <= INT32_MAX)) return typeProblem(def);
      value = n;
      break;
    }
    case 'long': {
      if (!/^[+-]?\d+$/.test(t)) return typeProblem(def);
      const big = BigInt(t);
      if (big < LONG_MIN_BIG || big > LONG_MAX_BIG) return typeProblem(def);
      if (big >= BigInt(LONG_NEVER)) value = LONG_NEVER;
      else if (big < BigInt(-LONG_NEVER)) return { ok: false, problem: `expected a long no smaller than ${-LONG_NEVER}, the smallest Strata holds exactly` };
      else value = Number(big);
      break;
    }
    case 'double': {
      const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
      if (!Number.isFinite(n)) return typeProblem(def);
      value = n;
      break;
    }
    case 'boolean': {
      const lower = t.toLowerCase();
      if (lower !== 'true' && lower !== 'false') return typeProblem(def);
      value = lower === 'true';
      break;
    }
    case 'string':
      value = t;
      break;
    case 'password':
      value = new Password(t);
      break;
    case 'list':
      value = t === '' ? [] : t.split(/\s*,\s*/).filter((s) => s !== '');
      break;
  }
  const problem = checkValue(def, value);
  return problem === null ? { ok: true, value } : { ok: false, problem };
}

function typeProblem(def: AnyKeyDef): Parsed {
  const allowed = def.validator === undefined ? '' : `, ${describeAllowed(def)}`;
  return { ok: false, problem: `expected ${typeNoun(def.type)}${allowed}` };
}

/** The validator's verdict on a parsed value: the problem, or null when it passes. */
export function checkValue(def: AnyKeyDef, value: unknown): string | null {
  const v = def.validator;
  if (v === undefined || value === null || value === undefined) return null;
  switch (v.kind) {
    case 'range': {
      const n = value as number;
      return (v.min !== undefined && n < v.min) || (v.max !== undefined && n > v.max) ? `must be ${describeAllowed(def)}` : null;
    }
    case 'oneOf': {
      const items = def.type === 'list' ? (value as readonly string[]) : [value as string];
      const bad = items.find((i) => !v.values.includes(i));
      if (bad === undefined) return null;
      return def.type === 'list' ? `'${bad}' is not allowed; entries must be among: ${v.values.join(', ')}` : `must be one of: ${v.values.join(', ')}`;
    }
    case 'custom': {
      const problem = v.check(value);
      return problem === null ? null : `${problem} (allowed: ${v.allowed})`;
    }
  }
}

/** The allowed values in words, for error messages and the docs' "valid values" column. */
export function describeAllowed(def: AnyKeyDef): string {
  const v = def.validator;
  if (v === undefined) return def.type === 'boolean' ? 'true, false' : 'any';
  switch (v.kind) {
    case 'range':
      if (v.min !== undefined && v.max !== undefined) return `from ${fmtNumber(v.min)} to ${fmtNumber(v.max)}`;
      if (v.min !== undefined) return `at least ${fmtNumber(v.min)}`;
      return `at most ${fmtNumber(v.max!)}`;
    case 'oneOf':
      return def.type === 'list' ? `any of: ${v.values.join(', ')}` : `one of: ${v.values.join(', ')}`;
    case 'custom':
      return v.allowed;
  }
}

function fmtNumber(n: number): string {
  return n === LONG_NEVER ? KAFKA_LONG_MAX : String(n);
}

/** A value as Kafka would print it (DescribeConfigs, the docs). Passwords print as null: Kafka
 *  never returns a sensitive value. */
export function formatValue(def: AnyKeyDef, value: unknown): string | null {
  if (value === null || value === undefined || value instanceof Password) return null;
  if (def.type === 'list') return (value as readonly string[]).join(',');
  if (def.type === 'long' && (value as number) >= LONG_NEVER) return KAFKA_LONG_MAX;
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// DescribeConfigs vocabulary, shared by broker and topic listings

/** Kafka's DescribeConfigs config sources (the ones Strata produces; Kafka also has 2, 3, 6-8
 *  for dynamic broker, logger, client-metrics and group configs). */
export const ConfigSource = {
  DYNAMIC_TOPIC_CONFIG: 1,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;
export type ConfigSource = (typeof ConfigSource)[keyof typeof ConfigSource];

/** Kafka's DescribeConfigs config type codes (response v3+). */
const DESCRIBE_TYPE: Record<ConfigType, number> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7, password: 9 };

export function describeConfigType(type: ConfigType): number {
  return DESCRIBE_TYPE[type];
}

export interface ConfigSynonym {
  readonly name: string;
  readonly value: string | null;
  readonly source: ConfigSource;
}

/** One entry of a DescribeConfigs answer, before encoding. */
export interface ConfigEntry {
  readonly name: string;
  /** Null when unset without a default, and always for sensitive keys. */
  readonly value: string | null;
  readonly source: ConfigSource;
  readonly isDefault: boolean;
  readonly readOnly: boolean;
  readonly sensitive: boolean;
  /** Kafka's config type code (see describeConfigType). */
  readonly configType: number;
  readonly documentation: string;
  /** Where the value could come from, highest precedence first (include_synonyms). */
  readonly synonyms: readonly ConfigSynonym[];
}
