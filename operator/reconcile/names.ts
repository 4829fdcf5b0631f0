// Names and labels of the objects a StrataCluster owns. Everything derived from the cluster's name
// lives here, so the pod contract (the DNS names brokers advertise) and the objects agree.
import type { StrataCluster } from '../api/v1alpha1.js';

/** Kubernetes object names are at most 63 characters where they become DNS labels (Services) and
 *  StatefulSet pod names add "-<ordinal>" and a controller-revision label of 63 characters; a
 *  cluster name of at most 40 leaves room for every suffix. */
export const CLUSTER_NAME_MAX = 40;

export function clusterNames(name: string) {
  return {
    serviceAccount: `${name}-broker`,
    configMap: `${name}-config`,
    headlessService: `${name}-brokers`,
    clientService: `${name}-bootstrap`,
    statefulSet: `${name}-broker`,
    podDisruptionBudget: `${name}-broker`,
    serviceMonitor: `${name}-broker`,
    prometheusRule: `${name}-broker`,
    /** The StatefulSet's volume claim template; claims are named `data-<pod name>`. */
    dataVolume: 'data',
    pod: (ordinal: number) => `${name}-broker-${ordinal}`,
  };
}

export const LABEL_CLUSTER = 'strata.dev/cluster';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
/** Set by the StatefulSet controller on each pod (Kubernetes 1.28+): the pod's ordinal. */
export const LABEL_POD_INDEX = 'apps.kubernetes.io/pod-index';
export const ANNOTATION_CONFIG_HASH = 'strata.dev/config-hash';

/** Labels on every object of the cluster. */
export function commonLabels(cluster: StrataCluster): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'strata',
    'app.kubernetes.io/instance': cluster.metadata.name,
    'app.kubernetes.io/managed-by': 'strata-operator',
    'app.kubernetes.io/part-of': 'strata',
    [LABEL_CLUSTER]: cluster.metadata.name,
  };
}

/** The broker pods' selector: immutable in a StatefulSet, so it holds only what never changes. */
export function brokerSelector(cluster: StrataCluster): Record<string, string> {
  return { [LABEL_CLUSTER]: cluster.metadata.name, [LABEL_COMPONENT]: 'broker' };
}

/** The selector as text, for status.selector (the scale subresource). */
export function selectorText(cluster: StrataCluster): string {
  return Object.entries(brokerSelector(cluster))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
