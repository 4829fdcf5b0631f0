// The broker as a process: start with defaults, the HTTP endpoint, graceful SIGTERM with a clean
// next start, and start-up refused for invalid configuration with a message naming the key.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WireClient } from './wire-client.js';
import { type BrokerProcess, REPO_ROOT, newDataDir, runStrata, startBroker } from './harness.js';
import { runKcatConsume, runKcatProduce } from '../golden/clients/index.js';

let broker: BrokerProcess | undefined;
afterEach(async () => {
  await broker?.stop('SIGKILL');
  broker = undefined;
});

async function get(port: number, p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: await res.text() };
}

describe('broker lifecycle', () => {
  it('serves /healthz, /readyz and Prometheus /metrics', async () => {
    broker = await startBroker();
    expect((await get(broker.httpPort, '/healthz')).status).toBe(200);
    expect(JSON.parse((await get(broker.httpPort, '/readyz')).body)).toEqual({ status: 'ready' });
    const run = await runKcatProduce(broker.bootstrap, 'metrics-topic', 'none', 30_000);
    expect(run.exitCode, run.stderr).toBe(0);
    const metrics = (await get(broker.httpPort, '/metrics')).body;
    expect(metrics).toMatch(/strata_requests_total\{api="Produce",version="\d+"\} \d+/);
    expect(metrics).toMatch(/strata_request_duration_seconds_bucket\{le="[^"]+",api="Produce"/);
    expect(metrics).toMatch(/strata_topic_bytes_in_total\{topic="metrics-topic"\} [1-9]/);
    // The topic's one partition only: __consumer_offsets is created by the first group request.
    expect(metrics).toMatch(/strata_partitions 1\n/);
    expect(metrics).toMatch(/strata_connections \d+/);
    expect(metrics).toMatch(/strata_log_size_bytes\{topic="metrics-topic",partition="0"\} [1-9]/);
  });

  it('stops on SIGTERM with exit 0, and the next start needs no recovery and keeps the data', async () => {
    const dataDir = newDataDir();
    broker = await startBroker({ dataDir });
    const produced = await runKcatProduce(broker.bootstrap, 'durable', 'zstd', 30_000);
    expect(produced.exitCode, produced.stderr).toBe(0);
    expect(await broker.stop('SIGTERM')).toBe(0);
    expect(broker.logs.some((l) => l.msg === 'broker stopped')).toBe(true);

    broker = await startBroker({ dataDir });
    const loaded = broker.logs.find((l) => l.msg === 'partition log loaded' && l.topic === 'durable');
    expect(loaded?.cleanShutdown).toBe(true);
    expect(loaded?.segmentsRecovered).toBe(0);
    const consumed = await runKcatConsume(broker.bootstrap, 'durable', 30_000);
    expect(consumed.exitCode, consumed.stderr).toBe(0);
    expect(consumed.stdout).toMatch(/^0\tstrata-key-0\t/m);
  });

  it('stops on SIGTERM while clients stay connected and idle', async () => {
    broker = await startBroker();
    const idle = await Promise.all([0, 1].map(() => WireClient.connect(broker!.port)));
    try {
      expect(await broker.stop('SIGTERM')).toBe(0);
      expect(broker.logs.some((l) => l.msg === 'broker stopped')).toBe(true);
    } finally {
      for (const c of idle) c.close();
    }
  });
});

describe('npm start', () => {
  it('runs on the embedded defaults: 127.0.0.1:9092, ./data, auto-created topics, HTTP on 127.0.0.1:9644', async () => {
    // npm start is exactly `node bin/strata broker`; run that from a fresh folder so ./data lands there
    // rather than in the checkout.
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('node bin/strata broker');
    const cwd = newDataDir();
    const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/strata'), 'broker'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!stderr.includes('"msg":"broker started"')) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`broker did not start:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(stderr).toContain('"host":"127.0.0.1","port":9092');
      expect((await get(9644, '/readyz')).status).toBe(200);
      const run = await runKcatProduce('127.0.0.1:9092', 'defaults', 'none', 30_000);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(existsSync(path.join(cwd, 'data', 'defaults-0'))).toBe(true);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });
});

describe('invalid configuration stops start-up naming the key', () => {
  it('an unknown key, with the nearest known keys', async () => {
    const r = await runStrata(['broker', '--override', 'log.segment.byte=1000000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/log\.segment\.byte/);
    expect(r.stderr).toMatch(/log\.segment\.bytes/);
  });

  it('a value out of range, with the allowed values', async () => {
    const r = await runStrata(['broker', '--override', 'num.partitions=0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/num\.partitions/);
    expect(r.stderr).toMatch(/at least 1|>= ?1|\[1,/);
  });

  it('a value not among the allowed ones', async () => {
    const r = await runStrata(['broker', '--override', 'log.message.timestamp.type=WallClock']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/log\.message\.timestamp\.type/);
    expect(r.stderr).toMatch(/CreateTime/);
    expect(r.stderr).toMatch(/LogAppendTime/);
  });

  it('a bad line in a properties file, with its line number', async () => {
    const file = path.join(newDataDir(), 'server.properties');
    writeFileSync(file, 'node.id=1\nlisteners=PLAINTEXT://127.0.0.1:notaport\n');
    const r = await runStrata(['broker', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/listeners/);
    expect(r.stderr).toMatch(/line 2/);
  });

  it('a security protocol Strata does not offer yet', async () => {
    const r = await runStrata(['broker', '--override', 'listeners=SSL://127.0.0.1:9093']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/listeners/);
    expect(r.stderr).toMatch(/PLAINTEXT/);
  });

  it('--help explains the command', async () => {
    const r = await runStrata(['broker', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--override KEY=VALUE/);
    expect(r.stdout).toMatch(/SIGTERM/);
  });
});
