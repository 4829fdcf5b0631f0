// StrataCluster objects for the operator's unit and pod-contract tests: as the API server stores
// them (with a uid and a namespace), built from a spec.
import type { StrataCluster, StrataClusterSpec } from '../api/v1alpha1.js';
import type { OperatorSettings } from '../defaults.js';

export const SETTINGS: OperatorSettings = { image: 'ghcr.io/strata/strata:0.1.0', clusterDomain: 'cluster.local' };

export function storedCluster(spec: StrataClusterSpec, name = 'events', namespace = 'streaming'): StrataCluster {
  return {
    apiVersion: 'strata.dev/v1alpha1',
    kind: 'StrataCluster',
    metadata: { name, namespace, uid: '6f1c2e4a-9b3d-4c5e-8f70-1a2b3c4d5e6f', generation: 1 },
    spec,
  };
}
