// Kafka's rules for tiered topics where topic configs are set, and a tiered log's settings.
import { describe, expect, it } from 'vitest';
import { loadBrokerConfig } from '../config/index.js';
import { logConfigFor, tieredOptions, tieredTopicProblem } from './from-config.js';

const broker = (...overrides: string[]) => loadBrokerConfig({ overrides }).config;

describe('tiered topic configs', () => {
  const on = broker('remote.log.storage.system.enable=true', 'log.retention.bytes=1000000');
  it('refuses remote.storage.enable while the broker switch is off', () => {
    expect(tieredTopicProblem({ 'remote.storage.enable': 'true' }, broker())?.key).toBe('remote.storage.enable');
    expect(tieredTopicProblem({ 'remote.storage.enable': 'false' }, broker())).toBeNull();
    expect(tieredTopicProblem({ 'remote.storage.enable': 'true' }, on)).toBeNull();
  });
  it('refuses compaction and a local retention above the whole log\'s', () => {
    expect(tieredTopicProblem({ 'remote.storage.enable': 'true', 'cleanup.policy': 'compact' }, on)?.key).toBe('cleanup.policy');
    expect(tieredTopicProblem({ 'remote.storage.enable': 'true', 'local.retention.bytes': '2000000' }, on)?.message).toMatch(/local.retention.bytes \(2000000\) must not exceed retention.bytes \(1000000\)/);
    expect(tieredTopicProblem({ 'remote.storage.enable': 'true', 'local.retention.bytes': '-1' }, on)?.key).toBe('local.retention.bytes');
    expect(tieredTopicProblem({ 'remote.storage.enable': 'true', 'local.retention.bytes': '500000', 'local.retention.ms': '1000' }, on)).toBeNull();
    expect(tieredTopicProblem({ 'remote.storage.enable': 'true', 'retention.ms': '500', 'local.retention.ms': '1000' }, on)?.key).toBe('local.retention.ms');
  });
  it('refuses turning tiering off unless the remote data is deleted with it (KIP-950)', () => {
    const tiered = { 'remote.storage.enable': 'true' };
    const off = tieredTopicProblem({ 'remote.storage.enable': 'false' }, on, tiered);
    expect(off?.key).toBe('remote.storage.enable');
    expect(off?.message).toMatch(/remote\.storage\.enable=true with remote\.log\.copy\.disable=true/);
    expect(off?.message).toMatch(/remote\.storage\.enable=false with remote\.log\.delete\.on\.disable=true/);
    // Dropping the override is turning it off too.
    expect(tieredTopicProblem({}, on, tiered)?.key).toBe('remote.storage.enable');
    expect(tieredTopicProblem({ 'remote.storage.enable': 'false', 'remote.log.delete.on.disable': 'true' }, on, tiered)).toBeNull();
    // A topic that was never tiered, or a new one, needs nothing.
    expect(tieredTopicProblem({ 'remote.storage.enable': 'false' }, on, {})).toBeNull();
    expect(tieredTopicProblem({ 'remote.storage.enable': 'false' }, on)).toBeNull();
    // Turning it on again later is allowed, whatever delete.on.disable says.
    expect(tieredTopicProblem({ 'remote.storage.enable': 'true', 'remote.log.delete.on.disable': 'true' }, on, { 'remote.storage.enable': 'false', 'remote.log.delete.on.disable': 'true' })).toBeNull();
  });
  it('with uploads stopped, wants local retention to be the whole log\'s', () => {
    const stopped = { 'remote.storage.enable': 'true', 'remote.log.copy.disable': 'true' };
    expect(tieredTopicProblem(stopped, on)).toBeNull();
    expect(tieredTopicProblem({ ...stopped, 'local.retention.bytes': '-2', 'local.retention.ms': '-2' }, on)).toBeNull();
    expect(tieredTopicProblem({ ...stopped, 'local.retention.bytes': '1000000', 'retention.ms': '5000', 'local.retention.ms': '5000' }, on)).toBeNull();
    const bytes = tieredTopicProblem({ ...stopped, 'local.retention.bytes': '500000' }, on);
    expect(bytes?.key).toBe('local.retention.bytes');
    expect(bytes?.message).toMatch(/remote\.log\.copy\.disable=true.*local\.retention\.bytes \(500000\) must be -2 or equal to retention\.bytes \(1000000\)/);
    expect(tieredTopicProblem({ ...stopped, 'local.retention.ms': '1000' }, on)?.key).toBe('local.retention.ms');
    // The same local retention is fine while uploads go on.
    expect(tieredTopicProblem({ 'remote.storage.enable': 'true', 'local.retention.bytes': '500000' }, on)).toBeNull();
    expect(logConfigFor(on, stopped).remoteLogCopyDisable).toBe(true);
  });
  it('runs a tiered topic\'s log tiered only while the broker switch is on', () => {
    expect(logConfigFor(on, { 'remote.storage.enable': 'true', 'local.retention.bytes': '5' })).toMatchObject({ remoteStorageEnable: true, localRetentionBytes: 5, localRetentionMs: -2 });
    expect(logConfigFor(broker(), { 'remote.storage.enable': 'true' }).remoteStorageEnable).toBe(false);
  });
  it('builds the store the keys choose, or none', () => {
    expect(tieredOptions(broker())).toBeNull();
    expect(tieredOptions(broker('remote.log.storage.system.enable=true', 'log.dirs=/var/strata'))!.store.description).toBe('local directory /var/strata-tiered');
    expect(tieredOptions(broker('remote.log.storage.system.enable=true', 'log.dirs=/var/strata'))!.manager.cacheDisk).toEqual({ dir: '/var/strata-remote-cache', maxBytes: 1024 * 1024 * 1024 });
    const s3 = tieredOptions(broker('remote.log.storage.system.enable=true', 'strata.tiered.store=s3', 'strata.tiered.s3.bucket=bucket-1', 'strata.tiered.s3.endpoint=http://127.0.0.1:9', 'strata.tiered.s3.prefix=p'))!;
    expect(s3.store.description).toBe('s3://bucket-1/p/ (http://127.0.0.1:9)');
    s3.store.close();
  });
});
