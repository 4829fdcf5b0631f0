#!/usr/bin/env bash
# A local Strata on kind, for people with Docker and kind: creates (or reuses) a kind cluster,
# builds the Strata image from this checkout and loads it into the cluster's nodes, installs (or
# upgrades) the operator with the chart, and applies an example StrataCluster.
#
# Idempotent: a second run reuses the cluster, rebuilds the image (Docker's cache makes that quick),
# upgrades the release and re-applies the example. Not run by the tests (no Docker there); they
# only check that it parses.
set -euo pipefail

CLUSTER="strata"
IMAGE="ghcr.io/strata/strata:dev"
NAMESPACE="strata-system"
EXAMPLE="examples/minimal-cluster.yaml"
EXAMPLE_NAMESPACE="default"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<USAGE
Usage: hack/kind-up.sh [options]

Brings up a kind cluster running the Strata operator and an example StrataCluster.

Options:
  --name NAME           kind cluster name (default: $CLUSTER)
  --image REF           image to build and load (default: $IMAGE)
  --namespace NS        namespace of the operator (default: $NAMESPACE)
  --example FILE        example to apply, relative to the checkout (default: $EXAMPLE);
                        'none' applies nothing
  --example-namespace NS
                        namespace for the example (default: $EXAMPLE_NAMESPACE)
  --skip-build          load the image as it is, without docker build
  -h, --help            this text

Needs: docker, kind, kubectl, helm 3.
USAGE
}

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'kind-up: %s\n' "$*" >&2; exit 1; }

build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --name) CLUSTER="${2:?--name needs a value}"; shift 2 ;;
    --image) IMAGE="${2:?--image needs a value}"; shift 2 ;;
    --namespace) NAMESPACE="${2:?--namespace needs a value}"; shift 2 ;;
    --example) EXAMPLE="${2:?--example needs a value}"; shift 2 ;;
    --example-namespace) EXAMPLE_NAMESPACE="${2:?--example-namespace needs a value}"; shift 2 ;;
    --skip-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done

for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
[ "$EXAMPLE" = none ] || [ -f "$ROOT/$EXAMPLE" ] || die "no example at $ROOT/$EXAMPLE"

step "kind cluster '$CLUSTER'"
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  echo "exists; reusing it"
else
  kind create cluster --name "$CLUSTER" --wait 120s
fi
CONTEXT="kind-$CLUSTER"
kubectl --context "$CONTEXT" cluster-info >/dev/null || die "cannot reach the cluster through context $CONTEXT"

if [ "$build" -eq 1 ]; then
  step "building $IMAGE"
  docker build -t "$IMAGE" "$ROOT"
fi

step "loading $IMAGE into the nodes of '$CLUSTER'"
kind load docker-image "$IMAGE" --name "$CLUSTER"

step "installing the operator (release strata-operator in $NAMESPACE)"
# upgrade --install is what makes a second run an upgrade. Helm installs the chart's crds/ only on
# the first install, so the CRDs are applied first: a changed schema reaches the cluster too.
kubectl --context "$CONTEXT" apply --server-side --force-conflicts -f "$ROOT/charts/strata-operator/crds/"
helm upgrade --install strata-operator "$ROOT/charts/strata-operator" \
  --kube-context "$CONTEXT" --namespace "$NAMESPACE" --create-namespace \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" --set image.pullPolicy=Never \
  --wait --timeout 5m
kubectl --context "$CONTEXT" -n "$NAMESPACE" rollout status deployment/strata-operator --timeout=5m

if [ "$EXAMPLE" != none ]; then
  step "applying $EXAMPLE in namespace $EXAMPLE_NAMESPACE"
  kubectl --context "$CONTEXT" create namespace "$EXAMPLE_NAMESPACE" --dry-run=client -o yaml | kubectl --context "$CONTEXT" apply -f -
  kubectl --context "$CONTEXT" -n "$EXAMPLE_NAMESPACE" apply -f "$ROOT/$EXAMPLE"
  # The example cluster takes the operator's image (spec.image is absent), which kind already has.
  echo "watch it: kubectl --context $CONTEXT -n $EXAMPLE_NAMESPACE get strataclusters -w"
fi

step "done"
echo "operator logs: kubectl --context $CONTEXT -n $NAMESPACE logs deployment/strata-operator -f"
echo "delete it all: kind delete cluster --name $CLUSTER"
