import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { annotationValue, configWithRack, runRackInit } from './rack-init.js';

// The downward API's annotations file: key="value" lines, sorted, values quoted as Go's %q.
const ANNOTATIONS = 'kubectl.kubernetes.io/restartedAt="2026-12-02T10:00:00Z"\nstrata.dev/config-hash="abc"\nstrata.dev/rack="eu-west-1b"\n';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function files() {
  const d = mkdtempSync(join(tmpdir(), 'strata-rack-init-'));
  dir = d;
  const f = { annotations: join(d, 'annotations'), config: join(d, 'server.properties'), out: join(d, 'out.properties') };
  writeFileSync(f.config, 'node.id=0\nlog.dirs=/var/lib/strata/data');
  return f;
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  let now = 0;
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), nowMs: () => now, sleep: async (ms: number) => void (now += ms) } };
}

describe('strata rack-init', () => {
  it('reads one annotation from the downward API file', () => {
    expect(annotationValue(ANNOTATIONS, 'strata.dev/rack')).toBe('eu-west-1b');
    expect(annotationValue(ANNOTATIONS, 'strata.dev/ra')).toBeUndefined();
    expect(annotationValue('', 'strata.dev/rack')).toBeUndefined();
    expect(() => annotationValue('strata.dev/rack=eu', 'strata.dev/rack')).toThrow(/not a quoted string/);
  });

  it('adds broker.rack after the file\'s own keys, and refuses what is not a label value', () => {
    expect(configWithRack('a=1', 'zone-1')).toMatch(/^a=1\n# .*\nbroker\.rack=zone-1\n$/);
    expect(() => configWithRack('a=1', 'zone 1\nnode.id=7')).toThrow(/not a Kubernetes label value/);
    expect(() => configWithRack('a=1', '')).toThrow(/not a Kubernetes label value/);
  });

  it('waits for the annotation, then writes the config with broker.rack', async () => {
    const f = files();
    const t = io();
    writeFileSync(f.annotations, 'strata.dev/config-hash="abc"\n');
    let polls = 0;
    const code = await runRackInit(['--annotations', f.annotations, '--config', f.config, '--out', f.out], {
      ...t.io,
      sleep: async (ms) => {
        await t.io.sleep(ms);
        // The kubelet refreshes the file once the operator has annotated the pod.
        if (++polls === 3) writeFileSync(f.annotations, ANNOTATIONS);
      },
    });
    expect(code).toBe(0);
    expect(polls).toBe(3);
    expect(readFileSync(f.out, 'utf8')).toMatch(/^node\.id=0\nlog\.dirs=\/var\/lib\/strata\/data\n# .*\nbroker\.rack=eu-west-1b\n$/);
    expect(t.out.join('')).toMatch(/waiting for the strata.dev\/rack annotation/);
  });

  it('gives up after --timeout-seconds with a message naming the annotation, writing nothing', async () => {
    const f = files();
    const t = io();
    expect(await runRackInit(['--annotations', f.annotations, '--config', f.config, '--out', f.out, '--timeout-seconds', '5'], t.io)).toBe(1);
    expect(t.err.join('')).toMatch(/annotation strata\.dev\/rack did not appear in .* within 5 s/);
    expect(() => readFileSync(f.out)).toThrow();
  });

  it('refuses missing flags and a bad timeout with exit 2 and the usage', async () => {
    const t = io();
    expect(await runRackInit(['--config', 'x'], t.io)).toBe(2);
    expect(t.err.join('')).toMatch(/missing --annotations, --out/);
    expect(await runRackInit(['--annotations', 'a', '--config', 'c', '--out', 'o', '--timeout-seconds', 'soon'], t.io)).toBe(2);
    expect(await runRackInit(['--help'], t.io)).toBe(0);
    expect(t.out.join('')).toMatch(/^Usage: strata rack-init/);
  });
});
