{{/* Names and labels shared by every template of the chart. */}}

{{/* The release's full name, cut to 63 characters (a DNS label). */}}
{{- define "strata-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Selects the operator's pods; a Deployment's selector is immutable, so it holds only these. */}}
{{- define "strata-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "strata-operator.labels" -}}
{{ include "strata-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: strata
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "strata-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "strata-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "strata-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "strata-operator.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaseNamespace -}}
{{- end -}}

{{/* The operator's own Service: the job label Prometheus gives its series. */}}
{{- define "strata-operator.metricsService" -}}
{{- printf "%s-metrics" (include "strata-operator.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
What the operator does in the namespaces it watches: it applies the objects of each StrataCluster
(server-side apply: get, create, patch), deletes broker pods one at a time to roll them, annotates
broker pods with their node's rack (spec.rack), reads the
brokers' claims, records Events (reading one back to count a repeat) and writes the status of the strata.dev resources.
*/}}
{{- define "strata-operator.namespacedRules" -}}
- apiGroups: [""]
  resources: [serviceaccounts, configmaps, services]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, delete, patch]
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [get, list, watch]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [get, create, patch]
- apiGroups: [apps]
  resources: [statefulsets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [strata.dev]
  resources: [strataclusters, stratatopics]
  verbs: [get, list, watch, update, patch]
- apiGroups: [strata.dev]
  resources: [strataclusters/status, stratatopics/status]
  verbs: [get, update, patch]
# Owner references with blockOwnerDeletion need update on the owner's finalizers where the
# OwnerReferencesPermissionEnforcement admission plugin runs (OpenShift among others).
- apiGroups: [strata.dev]
  resources: [strataclusters/finalizers, stratatopics/finalizers]
  verbs: [update]
- apiGroups: [monitoring.coreos.com]
  resources: [servicemonitors, podmonitors, prometheusrules]
  verbs: [get, list, watch, create, update, patch, delete]
{{- end -}}
