// Generates broker/protocol/generated/ from Kafka's JSON message definitions.
//
//   npx tsx hack/gen-protocol.ts [SPEC_DIR] [--out DIR] [--check]
//
// SPEC_DIR defaults to ../shared/kafka-protocol/message. --check writes nothing and exits 1 when the
// committed output differs from what the definitions produce now. The output is straight-line
// TypeScript per message: one interface, one encoder and one decoder per struct, with the version
// conditions spelled out as `if` statements, so no schema is interpreted at run time.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_SPEC_DIR = path.resolve(ROOT, '../shared/kafka-protocol/message');
export const DEFAULT_OUT_DIR = path.resolve(ROOT, 'broker/protocol/generated');

/** The highest version any message can have: versions travel as int16. */
const VERSION_MAX = 0x7fff;

// ---------------------------------------------------------------------------------------------
// The definitions, as read from JSON

interface RawField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number | string;
  default?: string | number | boolean;
  ignorable?: boolean;
  flexibleVersions?: string;
  fields?: RawField[];
}

interface RawMessage {
  name: string;
  type: 'request' | 'response' | 'header' | 'data' | 'metadata' | 'coordinator-key' | 'coordinator-value';
  apiKey?: number;
  validVersions: string;
  flexibleVersions: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields: RawField[];
  commonStructs?: { name: string; versions: string; fields: RawField[] }[];
}

/** An inclusive version range; `null` is the empty range ("none"). */
type Range = { lo: number; hi: number } | null;

function parseRange(spec: string | undefined, what: string): Range {
  if (spec === undefined || spec === 'none') return null;
  let m = /^(\d+)\+$/.exec(spec);
  if (m) return { lo: Number(m[1]), hi: VERSION_MAX };
  m = /^(\d+)-(\d+)$/.exec(spec);
  if (m) return { lo: Number(m[1]), hi: Number(m[2]) };
  m = /^(\d+)$/.exec(spec);
  if (m) return { lo: Number(m[1]), hi: Number(m[1]) };
  throw new Error(`${what}: cannot parse version range '${spec}'`);
}

function intersect(a: Range, b: Range): Range {
  if (a === null || b === null) return null;
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  return lo <= hi ? { lo, hi } : null;
}

function sameRange(a: Range, b: Range): boolean {
  return a === b || (a !== null && b !== null && a.lo === b.lo && a.hi === b.hi);
}

/** Kafka's JSON allows `//` comments; strip them without touching `//` inside strings. */
function stripComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else out += c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The model the emitter works from

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'uuid', 'bytes', 'records']);

interface Field {
  specName: string;
  prop: string;
  /** Element type for arrays, the type itself otherwise: a primitive name or a struct's TS name. */
  base: string;
  isArray: boolean;
  isStruct: boolean;
  versions: Range; // already clipped to the message's valid versions
  nullable: Range;
  tagged: Range;
  tag: number;
  /** False when the field opts out of compact encoding ("flexibleVersions": "none"). */
  compactAllowed: boolean;
  ignorable: boolean;
  rawDefault: string | number | boolean | undefined;
}

interface Struct {
  tsName: string;
  fields: Field[];
}

interface Message {
  raw: RawMessage;
  name: string;
  valid: { lo: number; hi: number };
  flexible: Range;
  structs: Map<string, Struct>; // by TS name, in definition order, the root last
  root: Struct;
}

function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function buildMessage(raw: RawMessage, file: string): Message {
  const valid = parseRange(raw.validVersions, `${file} validVersions`);
  if (valid === null) throw new Error(`${file}: no valid versions`);
  const flexible = parseRange(raw.flexibleVersions, `${file} flexibleVersions`);
  const structs = new Map<string, Struct>();
  const common = new Map((raw.commonStructs ?? []).map((c) => [c.name, c]));
  const structName = (type: string) => `${raw.name}${type}`;

  const buildFields = (rawFields: RawField[], owner: string): Field[] =>
    rawFields.map((f) => {
      const what = `${file} ${owner}.${f.name}`;
      if (f.flexibleVersions !== undefined && f.flexibleVersions !== 'none') {
        throw new Error(`${what}: a field-level flexibleVersions other than "none" is not supported`);
      }
      const isArray = f.type.startsWith('[]');
      const typeName = isArray ? f.type.slice(2) : f.type;
      if (typeName.startsWith('[]')) throw new Error(`${what}: nested arrays are not supported`);
      const isStruct = !PRIMITIVES.has(typeName);
      const versions = intersect(parseRange(f.versions, `${what} versions`), valid);
      const tagged = parseRange(f.taggedVersions, `${what} taggedVersions`);
      if (tagged !== null && !sameRange(intersect(tagged, valid), versions)) {
        throw new Error(`${what}: a field tagged in only some of its versions is not supported`);
      }
      if (tagged !== null && (flexible === null || tagged.lo < flexible.lo)) {
        throw new Error(`${what}: tagged outside the flexible versions`);
      }
      if (tagged !== null && isStruct && !isArray && f.nullableVersions !== undefined) {
        // Kafka marks a tagged nullable struct with a varint, not the int8 of an untagged one.
        throw new Error(`${what}: a nullable tagged struct is not supported`);
      }
      let base = typeName;
      if (isStruct) {
        base = structName(typeName);
        if (f.fields !== undefined) defineStruct(base, f.fields);
        else {
          const c = common.get(typeName);
          if (c === undefined) throw new Error(`${what}: unknown type '${typeName}'`);
          if (!structs.has(base)) defineStruct(base, c.fields);
        }
      } else if (f.fields !== undefined) throw new Error(`${what}: a primitive with fields`);
      return {
        specName: f.name,
        prop: camel(f.name),
        base,
        isArray,
        isStruct,
        versions,
        nullable: intersect(parseRange(f.nullableVersions, `${what} nullableVersions`), versions),
        tagged: tagged === null ? null : versions,
        tag: f.tag === undefined ? -1 : Number(f.tag),
        compactAllowed: f.flexibleVersions !== 'none',
        ignorable: f.ignorable === true,
        rawDefault: f.default,
      };
    });

  function defineStruct(tsName: string, rawFields: RawField[]): void {
    if (structs.has(tsName)) throw new Error(`${file}: struct ${tsName} is defined twice`);
    structs.set(tsName, { tsName, fields: [] }); // reserve the name before recursing
    structs.get(tsName)!.fields = buildFields(rawFields, tsName);
    // Keep definition order stable: move it to the end now that its children are in.
    const s = structs.get(tsName)!;
    structs.delete(tsName);
    structs.set(tsName, s);
  }

  defineStruct(raw.name, raw.fields);
  const root = structs.get(raw.name)!;
  return { raw, name: raw.name, valid, flexible, structs, root };
}

// ---------------------------------------------------------------------------------------------
// Emitting TypeScript

/** A boolean expression for "version is in r", given that version is already within `within`. */
function versionCond(r: Range, within: Range): string {
  if (r === null) return 'false';
  const w = within ?? r;
  const parts: string[] = [];
  if (r.lo > w.lo) parts.push(`version >= ${r.lo}`);
  if (r.hi < w.hi) parts.push(`version <= ${r.hi}`);
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

/** Whether a field is compact at every, no, or some of its versions. */
function compactness(f: Field, m: Message): 'always' | 'never' | 'some' {
  if (!f.compactAllowed) return 'never';
  const both = intersect(f.versions, m.flexible);
  if (both === null) return 'never';
  return sameRange(both, f.versions) ? 'always' : 'some';
}

function nullability(f: Field): 'always' | 'never' | 'some' {
  if (f.nullable === null) return 'never';
  return sameRange(f.nullable, f.versions) ? 'always' : 'some';
}

function tsType(f: Field): string {
  const scalar: Record<string, string> = {
    bool: 'boolean',
    int8: 'number',
    int16: 'number',
    uint16: 'number',
    int32: 'number',
    uint32: 'number',
    int64: 'bigint',
    float64: 'number',
    string: 'string',
    uuid: 'Uuid',
    bytes: 'Buffer',
    records: 'Buffer',
  };
  const elem = f.isStruct ? f.base : scalar[f.base]!;
  const t = f.isArray ? `${elem}[]` : elem;
  return f.nullable !== null || defaultIsNull(f) ? `${t} | null` : t;
}

function defaultIsNull(f: Field): boolean {
  if (f.rawDefault === 'null') {
    if (f.nullable === null || !sameRange(f.nullable, f.versions)) {
      // Kafka only allows a null default when every version of the field is nullable.
      throw new Error(`${f.specName}: null default on a field that is not nullable in every version`);
    }
    return true;
  }
  // records default to null in Kafka when they may be null.
  return f.base === 'records' && !f.isArray && f.nullable !== null && f.rawDefault === undefined;
}

function parseIntDefault(f: Field, bits: number, signed: boolean): bigint {
  const d = f.rawDefault;
  if (d === undefined) return 0n;
  const s = String(d).trim();
  // Kafka's format: a 0x prefix is hex and a leading 0 is octal.
  const neg = s.startsWith('-');
  const digits = neg ? s.slice(1) : s;
  let v: bigint;
  if (/^0x[0-9a-f]+$/i.test(digits)) v = BigInt(digits);
  else if (/^0[0-7]+$/.test(digits)) v = BigInt(`0o${digits.slice(1)}`);
  else if (/^\d+$/.test(digits)) v = BigInt(digits);
  else throw new Error(`${f.specName}: default '${s}' is not an integer`);
  if (neg) v = -v;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (v < min || v > max) throw new Error(`${f.specName}: default ${s} out of range`);
  return v;
}

/** The default value of a field, as a TS expression. */
function defaultExpr(f: Field): string {
  if (defaultIsNull(f)) return 'null';
  if (f.isArray) return '[]';
  if (f.isStruct) return `default${f.base}()`;
  switch (f.base) {
    case 'bool':
      return String(f.rawDefault === true || f.rawDefault === 'true');
    case 'int8':
      return String(parseIntDefault(f, 8, true));
    case 'int16':
      return String(parseIntDefault(f, 16, true));
    case 'uint16':
      return String(parseIntDefault(f, 16, false));
    case 'int32':
      return String(parseIntDefault(f, 32, true));
    case 'uint32':
      return String(parseIntDefault(f, 32, false));
    case 'int64':
      return `${parseIntDefault(f, 64, true)}n`;
    case 'float64':
      return f.rawDefault === undefined ? '0' : String(Number(f.rawDefault));
    case 'string':
      return JSON.stringify(f.rawDefault === undefined ? '' : String(f.rawDefault));
    case 'uuid':
    case 'bytes':
    case 'records':
      // Kafka allows no custom default for these; refuse one rather than ignore it.
      if (f.rawDefault !== undefined && f.rawDefault !== '') throw new Error(`${f.specName}: a custom default for a ${f.base} field is not supported`);
      return f.base === 'uuid' ? 'Uuid.ZERO' : 'EMPTY_BYTES';
  }
  throw new Error(`no default for ${f.base}`);
}

/** An expression that is true when `value` differs from the field's default. Struct values compare
 *  by content, as Kafka's generated equals() does. */
function differsFromDefault(f: Field, value: string, need: Set<string>): string {
  const d = defaultExpr(f);
  if (d === 'null') return `${value} !== null`;
  const mayBeNull = tsType(f).endsWith('| null');
  if (f.isArray) return mayBeNull ? `(${value} === null || ${value}.length !== 0)` : `${value}.length !== 0`;
  if (f.isStruct) {
    need.add(f.base);
    return mayBeNull ? `(${value} === null || !isDefault${f.base}(${value}))` : `!isDefault${f.base}(${value})`;
  }
  if (f.base === 'bytes' || f.base === 'records') return mayBeNull ? `(${value} === null || ${value}.length !== 0)` : `${value}.length !== 0`;
  return `${value} !== ${d}`;
}

/** Smallest number of bytes a struct can take at `version`: the bound used to reject array counts
 *  that the frame cannot possibly hold. */
function structMinBytes(m: Message, s: Struct, version: number): number {
  let n = m.flexible !== null && version >= m.flexible.lo && version <= m.flexible.hi ? 1 : 0;
  for (const f of s.fields) {
    if (f.versions === null || version < f.versions.lo || version > f.versions.hi) continue;
    if (f.tagged !== null) continue;
    n += fieldMinBytes(m, f, version);
  }
  return n;
}

function fieldMinBytes(m: Message, f: Field, version: number): number {
  const compact = f.compactAllowed && m.flexible !== null && version >= m.flexible.lo && version <= m.flexible.hi;
  if (f.isArray) return compact ? 1 : 4;
  if (f.isStruct) {
    const nullable = f.nullable !== null && version >= f.nullable.lo && version <= f.nullable.hi;
    return nullable ? 1 : structMinBytes(m, m.structs.get(f.base)!, version);
  }
  return elementMinBytes(m, f, version);
}

function elementMinBytes(m: Message, f: Field, version: number): number {
  const compact = f.compactAllowed && m.flexible !== null && version >= m.flexible.lo && version <= m.flexible.hi;
  switch (f.base) {
    case 'bool':
    case 'int8':
      return 1;
    case 'int16':
    case 'uint16':
      return 2;
    case 'int32':
    case 'uint32':
      return 4;
    case 'int64':
    case 'float64':
      return 8;
    case 'uuid':
      return 16;
    case 'string':
      return compact ? 1 : 2;
    case 'bytes':
    case 'records':
      return compact ? 1 : 4;
  }
  return structMinBytes(m, m.structs.get(f.base)!, version);
}

/** The lower bound for one array element over every version the array exists in. */
function arrayElementMinBytes(m: Message, f: Field): number {
  let min = Infinity;
  for (let v = f.versions!.lo; v <= Math.min(f.versions!.hi, m.valid.hi); v++) min = Math.min(min, elementMinBytes(m, f, v));
  if (!(min >= 1)) throw new Error(`${m.name}.${f.specName}: an array element can be empty; the count check needs a bound`);
  return min;
}

const SCALAR_METHOD: Record<string, string> = {
  bool: 'bool',
  int8: 'int8',
  int16: 'int16',
  uint16: 'uint16',
  int32: 'int32',
  uint32: 'uint32',
  int64: 'int64',
  float64: 'float64',
  uuid: 'uuid',
};

/** Method names for a string/bytes value: [classic, compact], nullable or not. */
function varMethods(base: string, nullable: boolean): [string, string] {
  const kind = base === 'string' ? 'String' : 'Bytes';
  return nullable ? [`nullable${kind}`, `compactNullable${kind}`] : [kind.toLowerCase(), `compact${kind}`];
}

/** Chooses between two expressions by the field's compactness at run time only when it varies. */
function byCompact(c: 'always' | 'never' | 'some', classic: string, compact: string): string {
  if (c === 'always') return compact;
  if (c === 'never') return classic;
  return `(flexible ? ${compact} : ${classic})`;
}

function byNullable(f: Field, n: 'always' | 'never' | 'some', nonNull: string, nullable: string): string {
  if (n === 'always') return nullable;
  if (n === 'never') return nonNull;
  return `(${versionCond(f.nullable, f.versions)} ? ${nullable} : ${nonNull})`;
}

interface Ctx {
  m: Message;
  /** Structs whose isDefault function is needed. */
  needDefaultCheck: Set<string>;
}

/** Statements writing `value` (field `f`, present at this version) to writer `w`. */
function emitWrite(ctx: Ctx, f: Field, value: string, w: string, indent: string, tagged: boolean): string[] {
  const c = tagged ? 'always' : compactness(f, ctx.m);
  const n = nullability(f);
  const out: string[] = [];
  if (f.isArray) {
    const nullArg = n === 'never' ? 'false' : n === 'always' ? 'true' : versionCond(f.nullable, f.versions);
    out.push(`${indent}{`);
    out.push(`${indent}  const a = ${value};`);
    if (c === 'some') out.push(`${indent}  if (flexible) ${w}.compactArrayLength(a, ${nullArg}); else ${w}.arrayLength(a, ${nullArg});`);
    else out.push(`${indent}  ${w}.${c === 'always' ? 'compactArrayLength' : 'arrayLength'}(a, ${nullArg});`);
    const guard = n === 'never' ? '' : 'if (a !== null) ';
    out.push(`${indent}  ${guard}for (const e of a) ${elementWrite(ctx, f, 'e', w, c)};`);
    out.push(`${indent}}`);
    return out;
  }
  if (f.isStruct) {
    if (n === 'never') out.push(`${indent}encode${f.base}(${w}, ${value}, version);`);
    else {
      const cond = n === 'always' ? '' : `${versionCond(f.nullable, f.versions)} && `;
      const t = `v${f.prop.charAt(0).toUpperCase()}${f.prop.slice(1)}`;
      out.push(`${indent}{`);
      out.push(`${indent}  const ${t} = ${value};`);
      out.push(`${indent}  if (${cond}${t} === null) ${w}.int8(-1);`);
      out.push(`${indent}  else {`);
      if (n === 'some') out.push(`${indent}    if (${versionCond(f.nullable, f.versions)}) ${w}.int8(1);`);
      else out.push(`${indent}    ${w}.int8(1);`);
      out.push(`${indent}    encode${f.base}(${w}, ${t}!, version);`);
      out.push(`${indent}  }`);
      out.push(`${indent}}`);
    }
    return out;
  }
  if (f.base === 'string' || f.base === 'bytes' || f.base === 'records') {
    const [nc, nf] = varMethods(f.base, false);
    const [yc, yf] = varMethods(f.base, true);
    const nonNull = byCompact(c, `${w}.${nc}`, `${w}.${nf}`);
    const nullable = byCompact(c, `${w}.${yc}`, `${w}.${yf}`);
    if (c === 'some' || n === 'some') {
      const pick = (cls: string, cmp: string) => (c === 'some' ? `if (flexible) ${w}.${cmp}(${value}); else ${w}.${cls}(${value});` : `${w}.${c === 'always' ? cmp : cls}(${value});`);
      if (n === 'some') {
        // The non-null path passes a value typed `| null`; the writer rejects a null at run time.
        const nonNullPick = pick(nc, nf).replaceAll(`(${value})`, `(${value}!)`);
        out.push(`${indent}if (${versionCond(f.nullable, f.versions)}) { ${pick(yc, yf)} } else { ${nonNullPick} }`);
      } else out.push(`${indent}${n === 'always' ? pick(yc, yf) : pick(nc, nf)}`);
      return out;
    }
    out.push(`${indent}${n === 'always' ? nullable : nonNull}(${value});`);
    return out;
  }
  out.push(`${indent}${w}.${SCALAR_METHOD[f.base]}(${value});`);
  return out;
}

function elementWrite(ctx: Ctx, f: Field, e: string, w: string, c: 'always' | 'never' | 'some'): string {
  if (f.isStruct) return `encode${f.base}(${w}, ${e}, version)`;
  if (f.base === 'string' || f.base === 'bytes' || f.base === 'records') {
    const [cls, cmp] = varMethods(f.base, false);
    if (c === 'some') return `(flexible ? ${w}.${cmp}(${e}) : ${w}.${cls}(${e}))`;
    return `${w}.${c === 'always' ? cmp : cls}(${e})`;
  }
  return `${w}.${SCALAR_METHOD[f.base]}(${e})`;
}

/** An expression reading field `f` (present at this version) from reader `r`. */
function readExpr(ctx: Ctx, f: Field, tagged: boolean): string {
  const c = tagged ? 'always' : compactness(f, ctx.m);
  const n = nullability(f);
  if (f.isArray) throw new Error('arrays are read by statements');
  if (f.isStruct) {
    if (n === 'never') return `decode${f.base}(r, version)`;
    const present = `r.structPresent() ? decode${f.base}(r, version) : null`;
    if (n === 'always') return `(${present})`;
    return `(${versionCond(f.nullable, f.versions)} ? (${present}) : decode${f.base}(r, version))`;
  }
  if (f.base === 'string' || f.base === 'bytes' || f.base === 'records') {
    const [nc, nf] = varMethods(f.base, false);
    const [yc, yf] = varMethods(f.base, true);
    return byNullable(f, n, byCompact(c, `r.${nc}()`, `r.${nf}()`), byCompact(c, `r.${yc}()`, `r.${yf}()`));
  }
  return `r.${SCALAR_METHOD[f.base]}()`;
}

/** Statements reading an array field into local `local`. */
function emitArrayRead(ctx: Ctx, f: Field, local: string, indent: string, tagged: boolean): string[] {
  const c = tagged ? 'always' : compactness(f, ctx.m);
  const n = nullability(f);
  const nullArg = n === 'never' ? 'false' : n === 'always' ? 'true' : versionCond(f.nullable, f.versions);
  const min = arrayElementMinBytes(ctx.m, f);
  const count = byCompact(c, `r.arrayLength(${nullArg}, ${min})`, `r.compactArrayLength(${nullArg}, ${min})`);
  let elem: string;
  if (f.isStruct) elem = `decode${f.base}(r, version)`;
  else if (f.base === 'string' || f.base === 'bytes' || f.base === 'records') {
    const [cls, cmp] = varMethods(f.base, false);
    elem = byCompact(c, `r.${cls}()`, `r.${cmp}()`);
  } else elem = `r.${SCALAR_METHOD[f.base]}()`;
  const out: string[] = [];
  out.push(`${indent}{`);
  out.push(`${indent}  const n = ${count};`);
  if (n === 'never') {
    out.push(`${indent}  const a: ${tsType(f).replace(' | null', '')} = [];`);
    out.push(`${indent}  for (let i = 0; i < n; i++) a.push(${elem});`);
    out.push(`${indent}  ${local} = a;`);
  } else {
    out.push(`${indent}  if (n < 0) ${local} = null;`);
    out.push(`${indent}  else {`);
    out.push(`${indent}    const a: ${tsType(f).replace(' | null', '')} = [];`);
    out.push(`${indent}    for (let i = 0; i < n; i++) a.push(${elem});`);
    out.push(`${indent}    ${local} = a;`);
    out.push(`${indent}  }`);
  }
  out.push(`${indent}}`);
  return out;
}

function emitStruct(ctx: Ctx, s: Struct): string[] {
  const { m } = ctx;
  const out: string[] = [];
  const regular = s.fields.filter((f) => f.versions !== null && f.tagged === null);
  const tagged = s.fields.filter((f) => f.versions !== null && f.tagged !== null).sort((a, b) => a.tag - b.tag);
  const live = s.fields.filter((f) => f.versions !== null);
  const hasFlexible = m.flexible !== null;
  const flexCond = hasFlexible ? versionCond(m.flexible, m.valid) : 'false';

  // The interface
  out.push(`export interface ${s.tsName} {`);
  for (const f of live) out.push(`  ${f.prop}: ${tsType(f)};`);
  if (hasFlexible) out.push('  unknownTaggedFields?: TaggedField[];');
  out.push('}');
  out.push('');

  // The default value
  out.push(`export function default${s.tsName}(): ${s.tsName} {`);
  out.push(`  return { ${live.map((f) => `${f.prop}: ${defaultExpr(f)}`).join(', ')} };`);
  out.push('}');
  out.push('');

  // The encoder
  const usesFlexible = hasFlexible;
  out.push(`export function encode${s.tsName}(w: Writer, v: ${s.tsName}, version: number): void {`);
  if (usesFlexible) out.push(`  const flexible = ${flexCond};`);
  for (const f of regular) {
    const cond = versionCond(f.versions, m.valid);
    const body = emitWrite(ctx, f, `v.${f.prop}`, 'w', cond === 'true' ? '  ' : '    ', false);
    if (cond === 'true') out.push(...body);
    else {
      out.push(`  if (${cond}) {`);
      out.push(...body);
      if (!f.ignorable) {
        out.push(`  } else if (${differsFromDefault(f, `v.${f.prop}`, ctx.needDefaultCheck)}) {`);
        out.push(`    throw new ProtocolEncodeError(\`${s.tsName}.${f.prop} is not supported at version \${version}\`);`);
      }
      out.push('  }');
    }
  }
  if (hasFlexible) {
    // Below the flexible versions there is no tagged section: set tagged values cannot be carried,
    // and like Kafka we refuse rather than drop them.
    const nonFlexibleChecks = [
      '  } else {',
      '    if (v.unknownTaggedFields !== undefined && v.unknownTaggedFields.length > 0) {',
      `      throw new ProtocolEncodeError(\`${s.tsName} has tagged fields set, which version \${version} cannot carry\`);`,
      '    }',
      ...tagged
        .filter((f) => !f.ignorable)
        .flatMap((f) => [
          `    if (${differsFromDefault(f, `v.${f.prop}`, ctx.needDefaultCheck)}) {`,
          `      throw new ProtocolEncodeError(\`${s.tsName}.${f.prop} is not supported at version \${version}\`);`,
          '    }',
        ]),
      '  }',
    ];
    if (tagged.length === 0) {
      out.push('  if (flexible) {');
      out.push('    w.taggedFields(v.unknownTaggedFields);');
      out.push(...nonFlexibleChecks);
    } else {
      out.push('  if (flexible) {');
      out.push('    const tagged: TaggedField[] = v.unknownTaggedFields === undefined ? [] : v.unknownTaggedFields.slice();');
      for (const f of tagged) {
        const cond = versionCond(f.versions, m.flexible);
        const present = `${cond === 'true' ? '' : `${cond} && `}${differsFromDefault(f, `v.${f.prop}`, ctx.needDefaultCheck)}`;
        out.push(`    if (${present}) {`);
        out.push(`      tagged.push(taggedField(${f.tag}, (t) => {`);
        out.push(...emitWrite(ctx, f, `v.${f.prop}`, 't', '        ', true));
        out.push('      }));');
        if (!f.ignorable && cond !== 'true') {
          out.push(`    } else if (!(${cond}) && ${differsFromDefault(f, `v.${f.prop}`, ctx.needDefaultCheck)}) {`);
          out.push(`      throw new ProtocolEncodeError(\`${s.tsName}.${f.prop} is not supported at version \${version}\`);`);
        }
        out.push('    }');
      }
      out.push('    w.taggedFields(tagged);');
      out.push(...nonFlexibleChecks);
    }
  }
  out.push('}');
  out.push('');

  // The decoder
  out.push(`export function decode${s.tsName}(r: Reader, version: number): ${s.tsName} {`);
  if (usesFlexible) out.push(`  const flexible = ${flexCond};`);
  for (const f of regular) {
    const cond = versionCond(f.versions, m.valid);
    const local = `f_${f.prop}`;
    if (f.isArray) {
      out.push(`  let ${local}: ${tsType(f)};`);
      if (cond === 'true') out.push(...emitArrayRead(ctx, f, local, '  ', false));
      else {
        out.push(`  if (${cond}) {`);
        out.push(...emitArrayRead(ctx, f, local, '    ', false));
        out.push(`  } else ${local} = ${defaultExpr(f)};`);
      }
    } else {
      const expr = readExpr(ctx, f, false);
      out.push(`  const ${local}: ${tsType(f)} = ${cond === 'true' ? expr : `${cond} ? ${expr} : ${defaultExpr(f)}`};`);
    }
  }
  for (const f of tagged) out.push(`  let f_${f.prop}: ${tsType(f)} = ${defaultExpr(f)};`);
  if (hasFlexible) {
    out.push('  let unknownTaggedFields: TaggedField[] | undefined;');
    out.push('  if (flexible) {');
    out.push('    const count = r.uvarint();');
    out.push('    for (let i = 0; i < count; i++) {');
    out.push('      const tag = r.uvarint();');
    out.push('      const end = r.taggedFieldEnd();');
    let first = true;
    for (const f of tagged) {
      const cond = versionCond(f.versions, m.flexible);
      out.push(`      ${first ? '' : 'else '}if (tag === ${f.tag}${cond === 'true' ? '' : ` && ${cond}`}) {`);
      if (f.isArray) out.push(...emitArrayRead(ctx, f, `f_${f.prop}`, '        ', true));
      else out.push(`        f_${f.prop} = ${readExpr(ctx, f, true)};`);
      out.push(`        r.endTaggedField(end, tag);`);
      out.push('      }');
      first = false;
    }
    out.push(`      ${first ? '' : 'else '}(unknownTaggedFields ??= []).push(r.unknownTaggedField(tag, end));`);
    out.push('    }');
    out.push('  }');
  }
  const props = live.map((f) => `${f.prop}: f_${f.prop}`);
  if (hasFlexible) props.push('unknownTaggedFields');
  out.push(`  return { ${props.join(', ')} };`);
  out.push('}');
  out.push('');
  return out;
}

function emitIsDefault(ctx: Ctx, s: Struct): string[] {
  const live = s.fields.filter((f) => f.versions !== null);
  const conds = live.map((f) => `!(${differsFromDefault(f, `v.${f.prop}`, ctx.needDefaultCheck)})`);
  return [
    `function isDefault${s.tsName}(v: ${s.tsName}): boolean {`,
    `  return ${conds.length === 0 ? 'true' : conds.join(' && ')};`,
    '}',
    '',
  ];
}

function emitMessage(m: Message): { body: string[]; imports: Set<string> } {
  const ctx: Ctx = { m, needDefaultCheck: new Set() };
  const body: string[] = [];
  body.push(`// ${m.name}: versions ${m.valid.lo}-${m.valid.hi}, flexible ${m.flexible === null ? 'none' : `${m.flexible.lo}+`}`);
  body.push('');
  for (const s of m.structs.values()) body.push(...emitStruct(ctx, s));
  // isDefault checks can pull in further structs' checks; close over them.
  const done = new Set<string>();
  let pending = [...ctx.needDefaultCheck];
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (done.has(name)) continue;
    done.add(name);
    body.push(...emitIsDefault(ctx, m.structs.get(name)!));
    pending = pending.concat([...ctx.needDefaultCheck].filter((n) => !done.has(n)));
  }
  const text = body.join('\n');
  const imports = new Set<string>(['Reader', 'Writer']);
  for (const name of ['TaggedField', 'taggedField', 'ProtocolEncodeError', 'Uuid']) {
    if (new RegExp(`\\b${name}\\b`).test(text)) imports.add(name);
  }
  if (text.includes('EMPTY_BYTES')) imports.add('EMPTY_BYTES');
  return { body, imports };
}

// ---------------------------------------------------------------------------------------------
// Files

const HEADER = '// Generated by hack/gen-protocol.ts from Kafka\'s JSON message definitions. Do not edit.\n';

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();
}

function importLine(imports: Set<string>): string {
  const typeOnly = new Set(['TaggedField']);
  const names = [...imports].sort().map((n) => (typeOnly.has(n) ? `type ${n}` : n));
  return `import { ${names.join(', ')} } from '../primitives.js';\n`;
}

interface ApiPair {
  apiKey: number;
  name: string;
  request: Message;
  response: Message;
}

function loadSpec(specDir: string): Message[] {
  const files = readdirSync(specDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new Error(`no .json message definitions in ${specDir}`);
  return files.map((file) => {
    let raw: RawMessage;
    try {
      raw = JSON.parse(stripComments(readFileSync(path.join(specDir, file), 'utf8'))) as RawMessage;
    } catch (e) {
      throw new Error(`${file}: ${(e as Error).message}`);
    }
    return buildMessage(raw, file);
  });
}

/** Generates every output file, keyed by file name, without touching the disk. */
export function generate(specDir: string = DEFAULT_SPEC_DIR): Map<string, string> {
  const messages = loadSpec(specDir);
  const out = new Map<string, string>();
  const requests = new Map<number, Message>();
  const responses = new Map<number, Message>();
  const others: Message[] = [];
  // Two definitions may claim one api key when Kafka renamed an API (ListClientMetricsResources
  // became ListConfigResources, key 74). The one with more versions is the newer; the other is
  // dropped from the output altogether, so no name is exported twice.
  const dropped = new Set<Message>();
  const pick = (table: Map<number, Message>, m: Message) => {
    const prior = table.get(m.raw.apiKey!);
    if (prior === undefined) table.set(m.raw.apiKey!, m);
    else if (prior.valid.hi === m.valid.hi) throw new Error(`api key ${m.raw.apiKey}: ${prior.name} and ${m.name} both claim it`);
    else {
      const [keep, drop] = prior.valid.hi > m.valid.hi ? [prior, m] : [m, prior];
      table.set(m.raw.apiKey!, keep);
      dropped.add(drop);
    }
  };
  for (const m of messages) {
    if (m.raw.type === 'request') pick(requests, m);
    else if (m.raw.type === 'response') pick(responses, m);
    else others.push(m);
  }
  const apis: ApiPair[] = [];
  for (const [apiKey, request] of [...requests].sort((a, b) => a[0] - b[0])) {
    const response = responses.get(apiKey);
    if (response === undefined) throw new Error(`api key ${apiKey}: a request without a response`);
    if (request.valid.lo !== response.valid.lo || request.valid.hi !== response.valid.hi) {
      throw new Error(`api key ${apiKey}: request and response valid versions differ`);
    }
    apis.push({ apiKey, name: request.name.replace(/Request$/, ''), request, response });
  }

  const moduleOf = new Map<string, string>();
  for (const api of apis) {
    const file = `${String(api.apiKey).padStart(2, '0')}-${kebab(api.name)}.ts`;
    const a = emitMessage(api.request);
    const b = emitMessage(api.response);
    const imports = new Set([...a.imports, ...b.imports]);
    out.set(file, HEADER + importLine(imports) + '\n' + [...a.body, ...b.body].join('\n'));
    moduleOf.set(api.name, file);
  }
  for (const m of others) {
    const file = `${kebab(m.name)}.ts`;
    const e = emitMessage(m);
    out.set(file, HEADER + importLine(e.imports) + '\n' + e.body.join('\n'));
    moduleOf.set(m.name, file);
  }
  out.set('apis.ts', emitApiTable(apis, moduleOf));
  out.set('schema.ts', emitSchema(messages.filter((m) => !dropped.has(m))));
  out.set('index.ts', emitIndex(out));
  return out;
}

function emitApiTable(apis: ApiPair[], moduleOf: Map<string, string>): string {
  const lines: string[] = [HEADER];
  lines.push("import type { Reader, Writer } from '../primitives.js';");
  for (const api of apis) {
    const mod = moduleOf.get(api.name)!.replace(/\.ts$/, '.js');
    const r = api.request.name;
    const s = api.response.name;
    lines.push(`import { type ${r}, type ${s}, decode${r}, encode${r}, default${r}, decode${s}, encode${s}, default${s} } from './${mod}';`);
  }
  lines.push('');
  lines.push('/** One API as the definitions describe it: versions, the first flexible version, and its codecs. */');
  lines.push('export interface ApiSpec<Req = unknown, Res = unknown> {');
  lines.push('  readonly apiKey: number;');
  lines.push('  readonly name: string;');
  lines.push('  readonly minVersion: number;');
  lines.push('  readonly maxVersion: number;');
  lines.push('  /** The first flexible version, or -1 when no version is flexible. */');
  lines.push('  readonly firstFlexibleVersion: number;');
  lines.push('  /** The newest version is not final and must never be advertised. */');
  lines.push('  readonly latestVersionUnstable: boolean;');
  lines.push('  /** Which kinds of listener serve it: broker, controller, zkBroker. */');
  lines.push('  readonly listeners: readonly string[];');
  lines.push('  readonly encodeRequest: (w: Writer, v: Req, version: number) => void;');
  lines.push('  readonly decodeRequest: (r: Reader, version: number) => Req;');
  lines.push('  readonly defaultRequest: () => Req;');
  lines.push('  readonly encodeResponse: (w: Writer, v: Res, version: number) => void;');
  lines.push('  readonly decodeResponse: (r: Reader, version: number) => Res;');
  lines.push('  readonly defaultResponse: () => Res;');
  lines.push('}');
  lines.push('');
  lines.push('/** Request and response types by API key. */');
  lines.push('export interface ApiMessages {');
  for (const api of apis) lines.push(`  ${api.apiKey}: { request: ${api.request.name}; response: ${api.response.name} };`);
  lines.push('}');
  lines.push('');
  lines.push('export const ApiKey = {');
  for (const api of apis) lines.push(`  ${api.name}: ${api.apiKey},`);
  lines.push('} as const;');
  lines.push('');
  lines.push('/** Every API, in API key order. */');
  lines.push('export const API_SPECS: readonly ApiSpec<any, any>[] = [');
  for (const api of apis) {
    const m = api.request;
    const r = api.request.name;
    const s = api.response.name;
    lines.push(
      `  { apiKey: ${api.apiKey}, name: '${api.name}', minVersion: ${m.valid.lo}, maxVersion: ${m.valid.hi}, ` +
        `firstFlexibleVersion: ${m.flexible === null ? -1 : m.flexible.lo}, latestVersionUnstable: ${m.raw.latestVersionUnstable === true}, ` +
        `listeners: ${JSON.stringify(m.raw.listeners ?? [])}, encodeRequest: encode${r}, decodeRequest: decode${r}, defaultRequest: default${r}, ` +
        `encodeResponse: encode${s}, decodeResponse: decode${s}, defaultResponse: default${s} },`,
    );
  }
  lines.push('];');
  lines.push('');
  lines.push('const BY_KEY: (ApiSpec<any, any> | undefined)[] = [];');
  lines.push('for (const spec of API_SPECS) BY_KEY[spec.apiKey] = spec;');
  lines.push('');
  lines.push('export function apiSpec(apiKey: number): ApiSpec<any, any> | undefined {');
  lines.push('  return BY_KEY[apiKey];');
  lines.push('}');
  lines.push('');
  lines.push('/** Request header v2 for flexible request versions, v1 otherwise (v0 is gone from Kafka 4.x). */');
  lines.push('export function requestHeaderVersion(spec: ApiSpec<any, any>, version: number): 1 | 2 {');
  lines.push('  return spec.firstFlexibleVersion >= 0 && version >= spec.firstFlexibleVersion ? 2 : 1;');
  lines.push('}');
  lines.push('');
  lines.push('/** Response header v1 for flexible versions, v0 otherwise. ApiVersions always answers with v0 so that');
  lines.push(' *  a client that asked with a version the broker does not know can still read the reply. */');
  lines.push('export function responseHeaderVersion(spec: ApiSpec<any, any>, version: number): 0 | 1 {');
  const apiVersions = apis.find((a) => a.name === 'ApiVersions');
  if (apiVersions !== undefined) lines.push(`  if (spec.apiKey === ${apiVersions.apiKey}) return 0;`);
  lines.push('  return spec.firstFlexibleVersion >= 0 && version >= spec.firstFlexibleVersion ? 1 : 0;');
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** A compact description of every message for tests and tools: the shapes without Kafka's prose. */
function emitSchema(messages: Message[]): string {
  const lines: string[] = [HEADER];
  lines.push('export interface FieldSchema {');
  lines.push('  readonly prop: string;');
  lines.push("  /** A primitive name, or 'struct' */");
  lines.push('  readonly type: string;');
  lines.push('  readonly isArray: boolean;');
  lines.push('  /** The struct type name, for struct fields and arrays of structs. */');
  lines.push('  readonly struct?: string;');
  lines.push('  readonly versions: readonly [number, number];');
  lines.push('  readonly nullable: readonly [number, number] | null;');
  lines.push('  readonly tag: number | null;');
  lines.push('  readonly ignorable: boolean;');
  lines.push('  readonly defaultValue: () => unknown;');
  lines.push('}');
  lines.push('export interface MessageSchema {');
  lines.push('  readonly name: string;');
  lines.push('  readonly kind: string;');
  lines.push('  readonly apiKey: number | null;');
  lines.push('  readonly versions: readonly [number, number];');
  lines.push('  readonly firstFlexibleVersion: number;');
  lines.push('  readonly latestVersionUnstable: boolean;');
  lines.push('  readonly structs: Readonly<Record<string, readonly FieldSchema[]>>;');
  lines.push('}');
  lines.push('');
  lines.push("const EMPTY_BYTES = Buffer.alloc(0);");
  lines.push("const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';");
  lines.push('');
  lines.push('export const MESSAGE_SCHEMAS: readonly MessageSchema[] = [');
  for (const m of messages) {
    lines.push(`  {`);
    lines.push(`    name: '${m.name}', kind: '${m.raw.type}', apiKey: ${m.raw.apiKey ?? null}, versions: [${m.valid.lo}, ${m.valid.hi}], firstFlexibleVersion: ${m.flexible === null ? -1 : m.flexible.lo}, latestVersionUnstable: ${m.raw.latestVersionUnstable === true},`);
    lines.push('    structs: {');
    for (const s of m.structs.values()) {
      lines.push(`      ${s.tsName}: [`);
      for (const f of s.fields) {
        if (f.versions === null) continue;
        let d = defaultExpr(f);
        if (d.startsWith('default')) d = `() => ({ __default: '${f.base}' })`;
        else d = `() => ${d.replace('Uuid.ZERO', 'ZERO_UUID')}`;
        const nullable = f.nullable === null ? 'null' : `[${f.nullable.lo}, ${f.nullable.hi}]`;
        lines.push(
          `        { prop: '${f.prop}', type: '${f.isStruct ? 'struct' : f.base}', isArray: ${f.isArray}, ${f.isStruct ? `struct: '${f.base}', ` : ''}versions: [${f.versions.lo}, ${f.versions.hi}], nullable: ${nullable}, tag: ${f.tagged === null ? 'null' : f.tag}, ignorable: ${f.ignorable}, defaultValue: ${d} },`,
        );
      }
      lines.push('      ],');
    }
    lines.push('    },');
    lines.push('  },');
  }
  lines.push('];');
  return lines.join('\n') + '\n';
}

function emitIndex(files: Map<string, string>): string {
  const lines = [HEADER];
  for (const file of [...files.keys()].sort()) lines.push(`export * from './${file.replace(/\.ts$/, '.js')}';`);
  lines.push("export * from './apis.js';");
  lines.push("export * from './schema.js';");
  return lines.join('\n') + '\n';
}

/** Writes the output, removing files the definitions no longer produce. */
export function writeOutput(files: Map<string, string>, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  for (const old of readdirSync(outDir)) if (old.endsWith('.ts') && !files.has(old)) rmSync(path.join(outDir, old));
  for (const [name, text] of files) writeFileSync(path.join(outDir, name), text);
}

/** The names of files that differ between the generated set and what is on disk. */
export function diffOutput(files: Map<string, string>, outDir: string): string[] {
  const differ: string[] = [];
  const onDisk = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith('.ts')) : [];
  for (const f of onDisk) if (!files.has(f)) differ.push(`${f} (no longer generated)`);
  for (const [name, text] of files) {
    const p = path.join(outDir, name);
    if (!existsSync(p)) differ.push(`${name} (missing)`);
    else if (readFileSync(p, 'utf8') !== text) differ.push(`${name} (changed)`);
  }
  return differ;
}

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      'Usage: tsx hack/gen-protocol.ts [SPEC_DIR] [--out DIR] [--check]\n\n' +
        `Reads Kafka's JSON message definitions from SPEC_DIR (default ${path.relative(process.cwd(), DEFAULT_SPEC_DIR)})\n` +
        `and writes the TypeScript codecs to DIR (default ${path.relative(process.cwd(), DEFAULT_OUT_DIR)}).\n` +
        '--check writes nothing and exits 1 if the committed output differs from a fresh generation.\n',
    );
    return 0;
  }
  let outDir = DEFAULT_OUT_DIR;
  let specDir = DEFAULT_SPEC_DIR;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--check') check = true;
    else if (a === '--out') outDir = path.resolve(argv[++i] ?? '');
    else if (a.startsWith('-')) {
      process.stderr.write(`gen-protocol: unknown option '${a}' (options: --out DIR, --check, --help)\n`);
      return 2;
    } else specDir = path.resolve(a);
  }
  if (!existsSync(specDir)) {
    process.stderr.write(`gen-protocol: spec folder ${specDir} does not exist\n`);
    return 2;
  }
  const files = generate(specDir);
  if (check) {
    const differ = diffOutput(files, outDir);
    if (differ.length > 0) {
      process.stderr.write(`gen-protocol: ${differ.length} generated files are out of date; run npm run gen:protocol\n  ${differ.join('\n  ')}\n`);
      return 1;
    }
    process.stdout.write(`gen-protocol: ${files.size} files up to date\n`);
    return 0;
  }
  writeOutput(files, outDir);
  process.stdout.write(`gen-protocol: wrote ${files.size} files to ${path.relative(process.cwd(), outDir)}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
