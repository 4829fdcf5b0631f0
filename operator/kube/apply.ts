// The one generic write step: every desired object goes to the API server with server-side apply
// under the operator's field manager, in the order given (what a pod mounts before the pods).
// Forcing is right here: the operator is the only writer of the fields it sets, and a conflict
// means someone edited an owned object by hand, which the next reconcile overwrites by design.
import * as k8s from '@kubernetes/client-node';
import type { KubeObject } from '../reconcile/cluster.js';

export const FIELD_MANAGER = 'strata-operator';

/** An apply the API server refused. `retriable` is false for a refusal that repeats until the
 *  spec changes (invalid, forbidden), true for conflicts, throttling and server errors. */
export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  readonly retriable: boolean;
  constructor(
    readonly object: string,
    readonly status: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`apply ${object}: ${status === 0 ? '' : `HTTP ${status}: `}${detail}`, options);
    this.retriable = status === 0 || status === 409 || status === 429 || status >= 500;
  }
}

function describe(o: KubeObject): string {
  return `${o.kind} ${o.metadata.namespace === undefined ? '' : `${o.metadata.namespace}/`}${o.metadata.name}`;
}

function detailOf(e: unknown): { status: number; detail: string } {
  if (e instanceof k8s.ApiException) {
    let message = String(e.body);
    try {
      const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: string };
      if (typeof body.message === 'string') message = body.message;
    } catch {
      // not a Status object; keep the text
    }
    return { status: e.code, detail: message };
  }
  return { status: 0, detail: (e as Error).message ?? String(e) };
}

export async function applyObjects(api: k8s.KubernetesObjectApi, objects: readonly KubeObject[], opts: { dryRun?: boolean } = {}): Promise<k8s.KubernetesObject[]> {
  const applied: k8s.KubernetesObject[] = [];
  for (const o of objects) {
    try {
      applied.push(await api.patch(o as k8s.KubernetesObject, undefined, opts.dryRun === true ? 'All' : undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply));
    } catch (e) {
      const { status, detail } = detailOf(e);
      throw new ApplyError(describe(o), status, detail, { cause: e });
    }
  }
  return applied;
}
