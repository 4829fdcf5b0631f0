// What the operator uses when a StrataCluster leaves a field out. Defaults live here and not in the
// CRD (operator/api/schema.ts says why): changing one changes what the operator renders, not what
// is stored in every custom resource.

/** The broker's Kafka listener when spec.listeners is absent: Kafka's usual port. */
export const DEFAULT_LISTENERS: readonly { name: string; port: number }[] = [{ name: 'PLAINTEXT', port: 9092 }];
/** Port of the broker's HTTP endpoint (/metrics, /healthz, /readyz), strata.http.listener's default. */
export const HTTP_PORT = 9644;
export const DEFAULT_STORAGE_SIZE = '10Gi';
/** Time to shut down cleanly: closing the logs cleanly spares the next start a recovery. */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 120;
export const DEFAULT_S3_REGION = 'us-east-1';
export const DEFAULT_ACCESS_KEY_ID_KEY = 'AWS_ACCESS_KEY_ID';
export const DEFAULT_SECRET_ACCESS_KEY_KEY = 'AWS_SECRET_ACCESS_KEY';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
/** The operator's default broker image is this repository, tagged with the operator's own version. */
export const DEFAULT_BROKER_IMAGE_REPOSITORY = 'ghcr.io/strata/strata';

/** Where the broker container finds its files. */
export const CONFIG_MOUNT_DIR = '/etc/strata';
export const CONFIG_FILE_NAME = 'server.properties';
export const DATA_MOUNT_DIR = '/var/lib/strata';
/** The log directory is a subdirectory of the volume: a fresh filesystem's lost+found sits in the
 *  volume's root and is no partition directory. */
export const LOG_DIR = `${DATA_MOUNT_DIR}/data`;
/** With spec.rack: where the pod's own annotations appear (a downward API volume), and the emptyDir
 *  where the rack-init container writes the config the broker then reads (operator/pod/rack-init.ts). */
export const PODINFO_MOUNT_DIR = '/etc/strata-podinfo';
export const RACK_CONFIG_DIR = '/var/run/strata';
/** How long rack-init waits for the operator's annotation before exiting 1 (and being restarted). */
export const RACK_INIT_TIMEOUT_SECONDS = 600;

/** The image runs as this user; fsGroup makes the volume writable to it. */
export const BROKER_UID = 1000;

/** How a broker pod's start-up, liveness and readiness are probed. */
export const PROBES = {
  /** Log recovery after an unclean stop may take long; the HTTP endpoint only starts after it, so
   *  the start-up probe allows an hour before the kubelet gives up. Liveness runs only after it. */
  startup: { periodSeconds: 5, failureThreshold: 720, timeoutSeconds: 5 },
  liveness: { periodSeconds: 10, failureThreshold: 6, timeoutSeconds: 5 },
  readiness: { periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 5 },
} as const;

/** Settings of the operator process itself, not of one cluster. */
export interface OperatorSettings {
  /** Broker image when spec.image is absent: the operator's own image (one image runs both). */
  readonly image: string;
  /** DNS domain of the Kubernetes cluster, for the pods' stable names. */
  readonly clusterDomain: string;
}
