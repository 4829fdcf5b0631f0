// CRC-32C throughput of the record batch checksum, as the broker computes it on every produced batch.
// Run: npx tsx bench/records-crc.ts [--seconds-per-run=0.4] [--runs=7]
//
// Reports the median GB/s (10^9 bytes per second) of several timed runs for the native checksum Strata
// uses and, as a comparison point only, two table-driven JavaScript versions that live in this file.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { crc32c } from '../broker/protocol/records/crc32c.js';

const { values } = parseArgs({
  options: {
    'seconds-per-run': { type: 'string', default: '0.4' },
    runs: { type: 'string', default: '7' },
  },
});
const SECONDS_PER_RUN = Number(values['seconds-per-run']);
const RUNS = Number(values.runs);

// --- Comparison implementations (reflected polynomial 0x82F63B78) --------------------------------

const TABLES: Uint32Array[] = (() => {
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[n] = c >>> 0;
  }
  const tables = [t0];
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1]!;
    const next = new Uint32Array(256);
    for (let n = 0; n < 256; n++) next[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!;
    tables.push(next);
  }
  return tables;
})();

/** One table lookup per byte. */
function crc32cBytewise(data: Uint8Array): number {
  const t = TABLES[0]!;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Slicing-by-8: eight lookups per 8 bytes, the usual fastest table method. */
function crc32cSlicing8(data: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [
    Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
  ];
  let c = 0xffffffff;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const lo = c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    c =
      t7[lo & 0xff]! ^
      t6[(lo >>> 8) & 0xff]! ^
      t5[(lo >>> 16) & 0xff]! ^
      t4[lo >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// --- Harness --------------------------------------------------------------------------------------

let sink = 0;

function timeRun(fn: (b: Uint8Array) => number, buf: Uint8Array, seconds: number): number {
  const budget = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let bytes = 0;
  let elapsed = 0n;
  do {
    for (let i = 0; i < 16; i++) sink ^= fn(buf);
    bytes += 16 * buf.length;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  return bytes / Number(elapsed); // bytes per ns = GB/s
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function measure(name: string, fn: (b: Uint8Array) => number, size: number): { name: string; size: number; median: number; min: number; max: number } {
  const buf = randomBytes(size);
  timeRun(fn, buf, Math.min(0.3, SECONDS_PER_RUN)); // warm up the JIT and caches
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) runs.push(timeRun(fn, buf, SECONDS_PER_RUN));
  return { name, size, median: median(runs), min: Math.min(...runs), max: Math.max(...runs) };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':').slice(1).join(':').trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

const check = Buffer.from('123456789', 'ascii');
for (const [name, fn] of [
  ['native', crc32c],
  ['bytewise', crc32cBytewise],
  ['slicing-by-8', crc32cSlicing8],
] as const) {
  if (fn(check) !== 0xe3069283) throw new Error(`${name} fails the CRC-32C check value`);
}
const sample = randomBytes(100_003);
if (crc32cSlicing8(sample) !== crc32c(sample) || crc32cBytewise(sample) !== crc32c(sample)) {
  throw new Error('JavaScript comparison implementations disagree with the native checksum');
}

const MiB = 1024 * 1024;
const KiB = 1024;
const cases: [string, (b: Uint8Array) => number, number][] = [
  ['native (@node-rs/crc32)', crc32c, MiB],
  ['native (@node-rs/crc32)', crc32c, 16 * KiB],
  ['JS slicing-by-8', crc32cSlicing8, MiB],
  ['JS slicing-by-8', crc32cSlicing8, 16 * KiB],
  ['JS bytewise table', crc32cBytewise, MiB],
  ['JS bytewise table', crc32cBytewise, 16 * KiB],
];

console.log(`CRC-32C throughput, median of ${RUNS} runs of ${SECONDS_PER_RUN}s each (GB/s = 10^9 bytes/s)`);
console.log(`machine: ${os.availableParallelism()} CPUs (nproc), ${cpuModel()}, Node ${process.version}, ${os.platform()}/${os.arch()}`);
console.log('');
console.log(`${'implementation'.padEnd(26)} ${'buffer'.padStart(8)} ${'median'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)}`);
for (const [name, fn, size] of cases) {
  const r = measure(name, fn, size);
  const label = size >= MiB ? `${size / MiB} MiB` : `${size / KiB} KiB`;
  console.log(
    `${r.name.padEnd(26)} ${label.padStart(8)} ${r.median.toFixed(2).padStart(8)} ${r.min.toFixed(2).padStart(8)} ${r.max.toFixed(2).padStart(8)}`,
  );
}
if (sink === 0.5) console.log(''); // keeps the checksums observable so no run can be optimised away
