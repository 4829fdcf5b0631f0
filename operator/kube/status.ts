// The status subresource of the strata.dev resources, written only when it changed (an unchanged
// write would bump resourceVersion and wake every watcher for nothing). The body carries the
// resourceVersion read, so a concurrent change is a 409 and the reconcile is retried on fresh state.
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1.js';

interface WithStatus<S> {
  metadata: { name: string; namespace?: string };
  status?: S;
}

export async function writeStatusIfChanged<S>(custom: k8s.CustomObjectsApi, plural: 'strataclusters' | 'stratatopics', object: WithStatus<S>, status: S): Promise<S> {
  if (JSON.stringify(status) === JSON.stringify(object.status)) return status;
  await custom.replaceNamespacedCustomObjectStatus({
    group: GROUP,
    version: VERSION,
    namespace: object.metadata.namespace!,
    plural,
    name: object.metadata.name,
    body: { ...object, status },
  });
  return status;
}
