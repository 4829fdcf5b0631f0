// The operator's Kafka admin client (operator/kafka/admin.ts) against real Strata broker processes,
// and the broker questions the cluster reconciler asks through it (operator/controller/brokers.ts):
// partition replicas held per broker and broker keys applied live. Failures of the connection are
// provoked with small servers on 127.0.0.1 that accept and then misbehave.
// `bin/strata` runs the bundle in dist/; rebuild it first (npm run build).
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveConfigOnBrokers, replicasHeldByBrokers } from '../../operator/controller/brokers.js';
import { AdminClosedError, AdminConnectError, AdminProtocolError, AdminTimeoutError, ConfigSource, KafkaAdmin, KafkaApiError, ResourceType } from '../../operator/kafka/admin.js';
import { storedCluster } from '../../operator/reconcile/test-fixtures.js';
import { encodeResponseFrame, peekRequestHeader } from '../../broker/protocol/frame.js';
import { apiSpec } from '../../broker/protocol/generated/index.js';
import { type BrokerProcess, runProcess, startBroker } from '../broker/harness.js';
import { freePort } from './local-pod.js';

let b0: BrokerProcess;
let b1: BrokerProcess;
const servers: Server[] = [];

/** A server that accepts connections and hands each socket to `onSocket`. */
async function misbehaving(onSocket: (s: Socket) => void): Promise<string> {
  const server = createServer(onSocket);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

beforeAll(async () => {
  const started = await Promise.allSettled([startBroker({ overrides: ['node.id=0'] }).then((b) => (b0 = b)), startBroker({ overrides: ['node.id=1'] }).then((b) => (b1 = b))]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
});

afterAll(async () => {
  for (const s of servers) s.close();
  await Promise.all([b0?.stop(), b1?.stop()]);
});

describe('KafkaAdmin against a Strata broker', () => {
  it('negotiates versions with ApiVersions and connects to the first bootstrap address that answers', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    const admin = await KafkaAdmin.connect({ bootstrap: [closed, b0.bootstrap] });
    try {
      expect(admin.broker).toBe(b0.bootstrap);
      // Strata serves Metadata v0-13 and CreateTopics v2-7: the highest both know.
      expect(admin.versionOf(3)).toBe(Math.min(13, apiSpec(3)!.maxVersion));
      expect(admin.versionOf(19)).toBe(Math.min(7, apiSpec(19)!.maxVersion));
      const md = await admin.metadata(null);
      expect(md.brokers.map((b) => b.nodeId)).toEqual([0]);
    } finally {
      admin.close();
    }
  });

  it('creates, describes, alters, grows and deletes a topic', async () => {
    const admin = await KafkaAdmin.connect({ bootstrap: [b0.bootstrap] });
    try {
      const { topicId } = await admin.createTopic('orders', 2, -1, { 'retention.ms': '3600000', 'cleanup.policy': 'compact' });
      expect(topicId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      const t = await admin.describeTopic('orders');
      expect(t).toEqual({ name: 'orders', topicId, partitions: [{ index: 0, replicas: [0] }, { index: 1, replicas: [0] }] });
      const set = (await admin.describeConfigs(ResourceType.TOPIC, 'orders')).filter((c) => c.source === ConfigSource.DYNAMIC_TOPIC_CONFIG);
      expect(Object.fromEntries(set.map((c) => [c.name, c.value]))).toEqual({ 'retention.ms': '3600000', 'cleanup.policy': 'compact' });

      await admin.alterConfigs(ResourceType.TOPIC, 'orders', { 'retention.ms': '7200000' }, ['cleanup.policy']);
      const after = await admin.describeConfigs(ResourceType.TOPIC, 'orders');
      expect(after.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '7200000', source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
      expect(after.find((c) => c.name === 'cleanup.policy')).toMatchObject({ value: 'delete', source: ConfigSource.DEFAULT_CONFIG });

      await admin.createPartitions('orders', 5);
      expect((await admin.describeTopic('orders'))!.partitions).toHaveLength(5);
      const kcat = await runProcess('kcat', ['-L', '-J', '-b', b0.bootstrap, '-t', 'orders', '-m', '10'], { timeoutMs: 20_000 });
      expect(kcat.code, kcat.stderr).toBe(0);
      expect((JSON.parse(kcat.stdout) as { topics: { topic: string; partitions: unknown[] }[] }).topics.find((x) => x.topic === 'orders')!.partitions).toHaveLength(5);

      await admin.deleteTopic('orders');
      expect(await admin.describeTopic('orders')).toBeNull();
      // Deleting what is not there is done already.
      await admin.deleteTopic('orders');
    } finally {
      admin.close();
    }
  });

  it('turns the error code of one resource into a KafkaApiError naming it', async () => {
    const admin = await KafkaAdmin.connect({ bootstrap: [b0.bootstrap] });
    try {
      await admin.createTopic('twice', 1, -1, {});
      await expect(admin.createTopic('twice', 1, -1, {})).rejects.toMatchObject({ name: 'KafkaApiError', errorName: 'TOPIC_ALREADY_EXISTS' });
      const bad = await admin.createTopic('bad-config', 1, -1, { 'retention.ms': 'forever' }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(KafkaApiError);
      expect((bad as KafkaApiError).errorName).toBe('INVALID_CONFIG');
      expect((bad as KafkaApiError).message).toMatch(/retention\.ms/);
      await expect(admin.createPartitions('twice', 1)).rejects.toMatchObject({ errorName: 'INVALID_PARTITIONS' });
      await expect(admin.describeConfigs(ResourceType.TOPIC, 'absent')).rejects.toMatchObject({ errorName: 'UNKNOWN_TOPIC_OR_PARTITION' });
      expect(await admin.describeTopic('absent')).toBeNull();
      // Metadata for an unknown topic never creates it.
      expect((await admin.metadata(null)).topics.map((t) => t.name)).not.toContain('absent');
      await admin.deleteTopic('twice');
    } finally {
      admin.close();
    }
  });

  it('changes a broker key at run time on the broker resource named by its node id', async () => {
    const admin = await KafkaAdmin.connect({ bootstrap: [b1.bootstrap] });
    try {
      await admin.alterConfigs(ResourceType.BROKER, '1', { 'log.retention.ms': '123456' }, []);
      expect((await admin.describeConfigs(ResourceType.BROKER, '1')).find((c) => c.name === 'log.retention.ms')).toMatchObject({ value: '123456', source: ConfigSource.DYNAMIC_BROKER_CONFIG });
      await expect(admin.alterConfigs(ResourceType.BROKER, '1', { 'num.partitions': '3' }, [])).rejects.toMatchObject({ errorName: 'INVALID_REQUEST' });
      await admin.alterConfigs(ResourceType.BROKER, '1', {}, ['log.retention.ms']);
      expect((await admin.describeConfigs(ResourceType.BROKER, '1')).find((c) => c.name === 'log.retention.ms')!.source).not.toBe(ConfigSource.DYNAMIC_BROKER_CONFIG);
    } finally {
      admin.close();
    }
  });
});

describe('KafkaAdmin connection failures, as coded errors', () => {
  it('no address answering is AdminConnectError, listing each', async () => {
    const a = `127.0.0.1:${await freePort()}`;
    const b = `127.0.0.1:${await freePort()}`;
    const e = await KafkaAdmin.connect({ bootstrap: [a, b] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdminConnectError);
    expect((e as AdminConnectError).code).toBe('STRATA_ADMIN_CONNECT');
    expect((e as Error).message).toContain(a);
    expect((e as Error).message).toContain(b);
    await expect(KafkaAdmin.connect({ bootstrap: ['no-port'] })).rejects.toMatchObject({ code: 'STRATA_ADMIN_CONNECT', message: expect.stringMatching(/not host:port/) });
    await expect(KafkaAdmin.connect({ bootstrap: [] })).rejects.toBeInstanceOf(AdminConnectError);
  });

  it('a broker that never answers is a timeout', async () => {
    const silent = await misbehaving(() => {});
    const e = await KafkaAdmin.connect({ bootstrap: [silent], requestTimeoutMs: 300 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdminConnectError);
    expect((e as AdminConnectError).cause).toBeInstanceOf(AdminTimeoutError);
    expect(((e as AdminConnectError).cause as AdminTimeoutError).code).toBe('STRATA_ADMIN_TIMEOUT');
  });

  it('a response larger than the bound is refused before it is read', async () => {
    const huge = await misbehaving((s) => {
      s.once('data', () => {
        const size = Buffer.alloc(4);
        size.writeInt32BE(0x7fffffff, 0);
        s.write(size);
      });
    });
    const e = await KafkaAdmin.connect({ bootstrap: [huge], responseBytesMax: 1024 }).catch((x: unknown) => x);
    expect((e as AdminConnectError).cause).toBeInstanceOf(AdminProtocolError);
    expect(((e as AdminConnectError).cause as Error).message).toMatch(/2147483647 bytes; the limit is 4\.\.1024/);
  });

  it('an answer to no request, and a connection closed mid-request, fail the request', async () => {
    const wrongId = await misbehaving((s) => {
      s.once('data', () => s.write(Buffer.from([0, 0, 0, 4, 0, 0, 0x30, 0x39])));
    });
    const e1 = await KafkaAdmin.connect({ bootstrap: [wrongId] }).catch((x: unknown) => x);
    expect(((e1 as AdminConnectError).cause as Error).message).toMatch(/correlation id 12345/);
    const hangUp = await misbehaving((s) => s.once('data', () => s.destroy()));
    const e2 = await KafkaAdmin.connect({ bootstrap: [hangUp] }).catch((x: unknown) => x);
    expect((e2 as AdminConnectError).cause).toBeInstanceOf(AdminClosedError);
  });

  it('falls back to the ApiVersions version an older broker answers with, and refuses an API it serves too old', async () => {
    const asked: number[] = [];
    const old = await misbehaving((s) => {
      s.on('data', (chunk: Buffer) => {
        const { apiKey, apiVersion, correlationId } = peekRequestHeader(chunk.subarray(4));
        expect(apiKey).toBe(18);
        asked.push(apiVersion);
        // This "broker" knows ApiVersions up to v2 and Metadata up to v3 (which may create topics).
        const apiKeys = [{ apiKey: 18, minVersion: 0, maxVersion: 2 }, { apiKey: 3, minVersion: 0, maxVersion: 3 }];
        const body = { ...apiSpec(18)!.defaultResponse(), errorCode: apiVersion > 2 ? 35 : 0, apiKeys };
        for (const c of encodeResponseFrame(apiSpec(18)!, apiVersion > 2 ? 0 : apiVersion, correlationId, body)) s.write(c);
      });
    });
    const admin = await KafkaAdmin.connect({ bootstrap: [old] });
    try {
      expect(asked).toEqual([3, 2]);
      await expect(admin.metadata(null)).rejects.toMatchObject({ name: 'AdminUnsupportedError', code: 'STRATA_ADMIN_UNSUPPORTED', message: expect.stringMatching(/Metadata up to v3; v4 or later is needed/) });
      expect(() => admin.versionOf(19)).toThrow(/CreateTopics at no version/);
    } finally {
      admin.close();
    }
  });

  it('a request on a closed client fails at once', async () => {
    const admin = await KafkaAdmin.connect({ bootstrap: [b0.bootstrap] });
    admin.close();
    await expect(admin.metadata(null)).rejects.toBeInstanceOf(AdminClosedError);
  });
});

describe('what the cluster reconciler asks of the brokers', () => {
  const cluster = storedCluster({ replicas: 2 });
  const addressOf = (_c: unknown, ordinal: number) => [b0, b1][ordinal]!.bootstrap;

  it('replicasHeld counts the partition replicas each broker holds, by ordinal', async () => {
    const a0 = await KafkaAdmin.connect({ bootstrap: [b0.bootstrap] });
    const a1 = await KafkaAdmin.connect({ bootstrap: [b1.bootstrap] });
    try {
      await a0.createTopic('held-a', 3, -1, {});
      await a0.createTopic('held-b', 2, -1, {});
      await a1.createTopic('held-c', 1, -1, {});
      const held = await replicasHeldByBrokers({ addressOf })(cluster, [0, 1]);
      expect(held).toEqual(new Map([[0, 5], [1, 1]]));
      await a1.deleteTopic('held-c');
      expect(await replicasHeldByBrokers({ addressOf })(cluster, [1])).toEqual(new Map([[1, 0]]));
      await a0.deleteTopic('held-a');
      await a0.deleteTopic('held-b');
    } finally {
      a0.close();
      a1.close();
    }
  });

  it('replicasHeld is undefined when a broker cannot be asked', async () => {
    const errors: unknown[] = [];
    const gone = `127.0.0.1:${await freePort()}`;
    const held = await replicasHeldByBrokers({ addressOf: (_c, o) => (o === 1 ? gone : b0.bootstrap), onError: (_c, _o, e) => errors.push(e) })(cluster, [0, 1]);
    expect(held).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(AdminConnectError);
  });

  it('liveConfig sets the live keys on each broker, resets the ones the spec dropped, and then has nothing to do', async () => {
    const live = liveConfigOnBrokers({ addressOf });
    const first = await live(cluster, { 'log.retention.ms': '5400000', 'log.segment.bytes': '2097152' }, [0, 1]);
    expect(first.failed).toEqual([]);
    expect(first.applied).toEqual([0, 1].map((ordinal) => ({ ordinal, plan: { set: { 'log.retention.ms': '5400000', 'log.segment.bytes': '2097152' }, delete: [] } })));
    for (const [b, id] of [[b0, '0'], [b1, '1']] as const) {
      const admin = await KafkaAdmin.connect({ bootstrap: [b.bootstrap] });
      try {
        const c = await admin.describeConfigs(ResourceType.BROKER, id);
        expect(c.find((x) => x.name === 'log.retention.ms')).toMatchObject({ value: '5400000', source: ConfigSource.DYNAMIC_BROKER_CONFIG });
        expect(c.find((x) => x.name === 'log.segment.bytes')).toMatchObject({ value: '2097152', source: ConfigSource.DYNAMIC_BROKER_CONFIG });
      } finally {
        admin.close();
      }
    }
    expect(await live(cluster, { 'log.retention.ms': '5400000', 'log.segment.bytes': '2097152' }, [0, 1])).toEqual({ applied: [], failed: [] });
    const dropped = await live(cluster, { 'log.retention.ms': '5400000' }, [0]);
    expect(dropped.applied).toEqual([{ ordinal: 0, plan: { set: {}, delete: ['log.segment.bytes'] } }]);
    const admin = await KafkaAdmin.connect({ bootstrap: [b0.bootstrap] });
    try {
      expect((await admin.describeConfigs(ResourceType.BROKER, '0')).find((x) => x.name === 'log.segment.bytes')!.source).toBe(ConfigSource.DEFAULT_CONFIG);
    } finally {
      admin.close();
    }
    const refused = await live(cluster, { 'log.retention.ms': 'soon' }, [0]);
    expect(refused.applied).toEqual([]);
    expect(refused.failed).toEqual([{ ordinal: 0, error: expect.stringMatching(/INVALID_CONFIG.*log\.retention\.ms/) }]);
  });
});
