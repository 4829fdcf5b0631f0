// Rack awareness: which broker pods the operator must annotate with their node's rack, as a pure
// function of the pods and the labels of their nodes. A pod is looked at once it is scheduled
// (spec.nodeName set) and until it carries strata.dev/rack; its rack-init container waits for
// that annotation (operator/pod/rack-init.ts). A pod is never re-annotated: a broker keeps the rack
// it started with, and a rescheduled pod is a new pod without the annotation.
import { ANNOTATION_RACK } from '../pod/rack-init.js';

export { ANNOTATION_RACK };

export interface RackPod {
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string | undefined;
  /** The pod's strata.dev/rack annotation, if written already. */
  readonly rack: string | undefined;
  readonly terminating: boolean;
}

export type RackStep =
  | { readonly action: 'annotate'; readonly pod: string; readonly uid: string; readonly rack: string }
  /** The node has no such label (or is gone): nothing to write; the pod's rack-init waits. */
  | { readonly action: 'missing'; readonly pod: string; readonly node: string };

/** `nodeLabels` holds the labels of every node a pod here is scheduled to (undefined: not found). */
export function rackSteps(pods: readonly RackPod[], nodeLabels: ReadonlyMap<string, Readonly<Record<string, string>> | undefined>, topologyKey: string): RackStep[] {
  const steps: RackStep[] = [];
  for (const p of [...pods].sort((a, b) => a.name.localeCompare(b.name))) {
    if (p.terminating || p.nodeName === undefined || p.rack !== undefined) continue;
    const value = nodeLabels.get(p.nodeName)?.[topologyKey];
    steps.push(value === undefined || value === '' ? { action: 'missing', pod: p.name, node: p.nodeName } : { action: 'annotate', pod: p.name, uid: p.uid, rack: value });
  }
  return steps;
}

/** The nodes whose labels rackSteps needs. */
export function nodesToRead(pods: readonly RackPod[]): string[] {
  return [...new Set(pods.filter((p) => !p.terminating && p.nodeName !== undefined && p.rack === undefined).map((p) => p.nodeName!))].sort();
}
