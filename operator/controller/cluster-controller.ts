// What feeds the StrataCluster controller's queue: the StrataClusters themselves, and the objects a
// cluster owns (StatefulSet, pods, ConfigMap, Services), each mapped back to its cluster's key.
// The owned objects are watched with a label selector on the cluster label, so the informers
// cache Strata's objects only, not every pod of the Kubernetes cluster.
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1.js';
import { LABEL_CLUSTER } from '../reconcile/names.js';
import type { ControllerDefinition, ControllerWatch } from './manager.js';
import type { Reconcile } from './worker.js';

export const CLUSTER_CONTROLLER = 'strataclusters';

/** The key of the StrataCluster an object belongs to: the controller owner reference of kind
 *  StrataCluster (the ConfigMap, Services, StatefulSet), else the cluster label (the pods, owned by
 *  the StatefulSet). Objects of neither kind belong to no cluster. */
export function clusterKeyOf(obj: k8s.KubernetesObject): string[] {
  const namespace = obj.metadata?.namespace;
  if (namespace === undefined || namespace === '') return [];
  for (const ref of obj.metadata?.ownerReferences ?? []) {
    if (ref.kind === 'StrataCluster' && ref.apiVersion.split('/')[0] === GROUP && ref.controller === true) return [`${namespace}/${ref.name}`];
  }
  const label = obj.metadata?.labels?.[LABEL_CLUSTER];
  if (label !== undefined && label !== '') return [`${namespace}/${label}`];
  return [];
}

/** The StrataCluster itself: its own key. */
export function ownKey(obj: k8s.KubernetesObject): string[] {
  const { namespace, name } = obj.metadata ?? {};
  return namespace === undefined || name === undefined ? [] : [`${namespace}/${name}`];
}

const owned = (apiVersion: string, kind: string, plural: string): ControllerWatch => ({ source: { apiVersion, kind, plural, labelSelector: LABEL_CLUSTER }, keys: clusterKeyOf });

export function clusterWatches(): ControllerWatch[] {
  return [
    { source: { apiVersion: `${GROUP}/${VERSION}`, kind: 'StrataCluster', plural: 'strataclusters' }, keys: ownKey },
    owned('apps/v1', 'StatefulSet', 'statefulsets'),
    owned('v1', 'Pod', 'pods'),
    owned('v1', 'ConfigMap', 'configmaps'),
    owned('v1', 'Service', 'services'),
  ];
}

export function clusterController(reconcile: Reconcile): ControllerDefinition {
  return { name: CLUSTER_CONTROLLER, watches: clusterWatches(), reconcile };
}
