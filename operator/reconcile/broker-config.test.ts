import { describe, expect, it } from 'vitest';
import { parseProperties } from '../../broker/config/index.js';
import { clusterIdFor, InvalidSpecError, renderBrokerConfig } from './broker-config.js';
import { storedCluster } from './test-fixtures.js';

const entries = (text: string) => Object.fromEntries(parseProperties(text).map((e) => [e.key, e.value]));

describe('renderBrokerConfig', () => {
  it('renders the keys the operator owns for a minimal cluster', () => {
    const r = renderBrokerConfig(storedCluster({ replicas: 3 }));
    expect(entries(r.properties)).toEqual({
      listeners: 'PLAINTEXT://:9092',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT',
      'log.dirs': '/var/lib/strata/data',
      'strata.http.listener': ':9644',
      'strata.cluster.id': clusterIdFor('6f1c2e4a-9b3d-4c5e-8f70-1a2b3c4d5e6f'),
    });
    expect(r.s3Credentials).toBeNull();
    expect(r.listeners).toEqual([{ name: 'PLAINTEXT', port: 9092 }]);
  });

  it('formats the cluster id as Kafka does: 16 bytes of the uid in base64url', () => {
    expect(clusterIdFor('6f1c2e4a-9b3d-4c5e-8f70-1a2b3c4d5e6f')).toBe(Buffer.from('6f1c2e4a9b3d4c5e8f701a2b3c4d5e6f', 'hex').toString('base64url'));
    expect(clusterIdFor('6f1c2e4a-9b3d-4c5e-8f70-1a2b3c4d5e6f')).toHaveLength(22);
    expect(() => clusterIdFor('not-a-uid')).toThrow(InvalidSpecError);
  });

  it('keeps a cluster id the user pins in spec.config', () => {
    const r = renderBrokerConfig(storedCluster({ replicas: 1, config: { 'strata.cluster.id': 'restored-id' } }));
    expect(entries(r.properties)['strata.cluster.id']).toBe('restored-id');
  });

  it('renders tiered storage, with the credentials Secret and default key names', () => {
    const r = renderBrokerConfig(
      storedCluster({
        replicas: 1,
        tieredStorage: { bucket: 'strata-tiered', endpoint: 'http://s3.local:7070', prefix: 'prod', pathStyle: true, localRetentionMs: 3_600_000, credentialsSecret: { name: 's3' } },
      }),
    );
    expect(entries(r.properties)).toMatchObject({
      'remote.log.storage.system.enable': 'true',
      'strata.tiered.store': 's3',
      'strata.tiered.s3.bucket': 'strata-tiered',
      'strata.tiered.s3.endpoint': 'http://s3.local:7070',
      'strata.tiered.s3.region': 'us-east-1',
      'strata.tiered.s3.prefix': 'prod',
      'strata.tiered.s3.path.style': 'true',
      'log.local.retention.ms': '3600000',
    });
    expect(entries(r.properties)).not.toHaveProperty('log.local.retention.bytes');
    expect(r.s3Credentials).toEqual({ secret: 's3', accessKeyIdKey: 'AWS_ACCESS_KEY_ID', secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY' });
  });

  it('writes user keys sorted, and values that need escaping read back unchanged', () => {
    const config = { 'num.partitions': '3', 'auto.create.topics.enable': 'false', 'log.retention.hours': '24' };
    const r = renderBrokerConfig(storedCluster({ replicas: 1, config }));
    expect(entries(r.properties)).toMatchObject(config);
    const keys = parseProperties(r.properties).map((e) => e.key);
    expect(keys.slice(-3)).toEqual(['auto.create.topics.enable', 'log.retention.hours', 'num.partitions']);
    // A prefix with characters that are special in a properties file survives the round trip.
    const odd = renderBrokerConfig(storedCluster({ replicas: 1, tieredStorage: { bucket: 'bkt', prefix: ' a\\b=c:#d', credentialsSecret: { name: 's' } } }));
    expect(entries(odd.properties)['strata.tiered.s3.prefix']).toBe(' a\\b=c:#d');
  });

  it('refuses a value the broker would refuse, naming the key', () => {
    expect(() => renderBrokerConfig(storedCluster({ replicas: 1, config: { 'num.partitions': 'three' } }))).toThrow(/spec\.config: .*num\.partitions/);
    expect(() => renderBrokerConfig(storedCluster({ replicas: 1, config: { 'no.such.key': '1' } }))).toThrow(/spec\.config: .*no\.such\.key/);
  });

  it('refuses keys the operator owns even when the API server did not', () => {
    for (const key of ['node.id', 'listeners', 'advertised.listeners', 'log.dirs', 'strata.tiered.s3.bucket']) {
      expect(() => renderBrokerConfig(storedCluster({ replicas: 1, config: { [key]: 'x' } })), key).toThrow(new RegExp(`spec\\.config: sets ${key.replace(/\./g, '\\.')}, which the operator sets itself`));
    }
  });

  it('refuses a listener on the HTTP endpoint port', () => {
    expect(() => renderBrokerConfig(storedCluster({ replicas: 1, listeners: [{ name: 'PLAINTEXT', port: 9644 }] }))).toThrow(/spec\.listeners: listener PLAINTEXT uses port 9644/);
  });

  it('renders several listeners, each mapped to PLAINTEXT', () => {
    const r = renderBrokerConfig(storedCluster({ replicas: 1, listeners: [{ name: 'INTERNAL', port: 9092 }, { name: 'CLIENTS', port: 9094 }] }));
    expect(entries(r.properties)).toMatchObject({ listeners: 'INTERNAL://:9092,CLIENTS://:9094', 'listener.security.protocol.map': 'INTERNAL:PLAINTEXT,CLIENTS:PLAINTEXT' });
  });

  it('hashes the file: the same spec gives the same hash, a config change another', () => {
    const a = renderBrokerConfig(storedCluster({ replicas: 1, config: { 'num.partitions': '3' } }));
    expect(renderBrokerConfig(storedCluster({ replicas: 5, config: { 'num.partitions': '3' } })).hash).toBe(a.hash);
    expect(renderBrokerConfig(storedCluster({ replicas: 1, config: { 'num.partitions': '4' } })).hash).not.toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{16}$/);
  });
});
