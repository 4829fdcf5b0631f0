// Where hack/peers/k8s.sh caches the control-plane binaries; keep in sync with its header.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { peersCacheDir } from '../golden/clients/paths.js';

export const KUBE_VERSION = '1.33.13';
export const ETCD_VERSION = '3.6.16';
export const KWOK_VERSION = '0.7.0';
export const HELM_VERSION = '3.21.4';
/** hack/peers/prometheus-crds.sh caches its CRDs (monitoring.coreos.com). */
export const PROMETHEUS_OPERATOR_VERSION = '0.85.0';

export const k8sPeers = () => {
  const c = peersCacheDir();
  return {
    kubeApiserver: path.join(c, `kube-${KUBE_VERSION}`, 'bin', 'kube-apiserver'),
    kubeControllerManager: path.join(c, `kube-${KUBE_VERSION}`, 'bin', 'kube-controller-manager'),
    kubeScheduler: path.join(c, `kube-${KUBE_VERSION}`, 'bin', 'kube-scheduler'),
    kubectl: path.join(c, `kube-${KUBE_VERSION}`, 'bin', 'kubectl'),
    etcd: path.join(c, `etcd-${ETCD_VERSION}`, 'bin', 'etcd'),
    kwok: path.join(c, `kwok-${KWOK_VERSION}`, 'bin', 'kwok'),
    kwokStages: path.join(c, `kwok-${KWOK_VERSION}`, 'stages'),
    helm: path.join(c, `helm-${HELM_VERSION}`, 'bin', 'helm'),
    prometheusOperatorCrds: path.join(c, `prometheus-operator-${PROMETHEUS_OPERATOR_VERSION}`, 'crds'),
  };
};

/** Why the API server tests cannot run here, or null. */
export function apiServerProblem(): string | null {
  const p = k8sPeers();
  for (const bin of [p.kubeApiserver, p.etcd]) if (!existsSync(bin)) return `${bin} is missing (run: bash hack/peers/k8s.sh)`;
  return null;
}

/** Why the tests with controllers and kwok nodes cannot run here, or null. */
export function nodesProblem(): string | null {
  const p = k8sPeers();
  for (const bin of [p.kubeApiserver, p.etcd, p.kubeControllerManager, p.kubeScheduler, p.kwok, p.kwokStages]) if (!existsSync(bin)) return `${bin} is missing (run: bash hack/peers/k8s.sh)`;
  return null;
}
