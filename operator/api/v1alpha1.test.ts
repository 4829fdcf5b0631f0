import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BROKER_KEYS } from '../../broker/config/index.js';
import { crdFiles, customResourceDefinitions } from './crds.js';
import type { JsonSchema } from './schema.js';
import { OPERATOR_OWNED_KEYS } from './v1alpha1.js';

/** Every node of a schema with its path, e.g. spec.tieredStorage.bucket. */
function* nodes(s: JsonSchema, at: string): Generator<[string, JsonSchema]> {
  yield [at, s];
  for (const [k, v] of Object.entries(s.properties ?? {})) yield* nodes(v, `${at}.${k}`);
  if (s.items !== undefined) yield* nodes(s.items, `${at}[]`);
  if (s.additionalProperties !== undefined) yield* nodes(s.additionalProperties, `${at}{}`);
}

const schemas = customResourceDefinitions().map((c) => [c.spec.names.kind, c.spec.versions[0]!.schema.openAPIV3Schema] as const);

describe('the strata.dev/v1alpha1 schemas', () => {
  it('declare no server-side default anywhere', () => {
    for (const [kind, s] of schemas) for (const [at, n] of nodes(s, kind)) expect(Object.keys(n), at).not.toContain('default');
  });

  it('are structural: every node has a type, or is int-or-string, or keeps unknown fields of an object', () => {
    for (const [kind, s] of schemas) {
      for (const [at, n] of nodes(s, kind)) {
        const ok = n.type !== undefined || n['x-kubernetes-int-or-string'] === true;
        expect(ok, at).toBe(true);
        if (n['x-kubernetes-preserve-unknown-fields'] === true) expect(n.type, at).toBe('object');
      }
    }
  });

  it('bound every string map and list that a CEL rule walks, so the rule cost can be estimated', () => {
    for (const [kind, s] of schemas) {
      for (const [at, n] of nodes(s, kind)) {
        if (n['x-kubernetes-validations'] === undefined) continue;
        if (n.type === 'object' && n.additionalProperties !== undefined) expect(n.maxProperties, at).toBeGreaterThan(0);
        if (n.type === 'array') expect(n.maxItems, at).toBeGreaterThan(0);
      }
    }
  });

  it('refuse in spec.config only keys the broker declares', () => {
    const declared = new Set<string>(BROKER_KEYS.map((k) => k.name));
    for (const k of OPERATOR_OWNED_KEYS) expect(declared.has(k), k).toBe(true);
  });

  it('have the status and scale subresources and printer columns', () => {
    const [cluster, topic] = customResourceDefinitions();
    expect(cluster!.spec.versions[0]!.subresources).toEqual({
      status: {},
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
    });
    expect(topic!.spec.versions[0]!.subresources).toEqual({ status: {} });
    expect(cluster!.spec.versions[0]!.additionalPrinterColumns.map((c) => c.name)).toEqual(['Desired', 'Brokers', 'Ready', 'Bootstrap', 'Age']);
    expect(topic!.spec.versions[0]!.additionalPrinterColumns.map((c) => c.name)).toEqual(['Cluster', 'Partitions', 'Replication', 'Ready', 'Age']);
  });

  it('write YAML that reads back as the same objects, without anchors', () => {
    const files = crdFiles();
    customResourceDefinitions().forEach((crd, i) => {
      expect(files[i]!.text).not.toMatch(/[&*]a\d/);
      expect(parse(files[i]!.text)).toEqual(crd);
    });
  });
});
