{{/*
Chart name, overridable with nameOverride.
*/}}
{{- define "shopsync.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name: the release name, plus the chart name unless
the release name already contains it.
*/}}
{{- define "shopsync.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart label value.
*/}}
{{- define "shopsync.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every resource.
*/}}
{{- define "shopsync.labels" -}}
helm.sh/chart: {{ include "shopsync.chart" . }}
{{ include "shopsync.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end }}

{{/*
Labels the Deployment, Service, PodDisruptionBudget and anti-affinity select pods by.
*/}}
{{- define "shopsync.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shopsync.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Name of the ServiceAccount the operator runs as.
*/}}
{{- define "shopsync.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "shopsync.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "shopsync.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Where the master key Secret is mounted, and the file the operator reads.
*/}}
{{- define "shopsync.masterKeyDir" -}}/etc/shopsync/master-key{{- end }}
{{- define "shopsync.masterKeyFile" -}}{{ include "shopsync.masterKeyDir" . }}/{{ .Values.masterKey.key }}{{- end }}

{{/*
Where the extra CA bundle ConfigMap is mounted, and the file SSL_CERT_FILE names.
*/}}
{{- define "shopsync.extraCADir" -}}/etc/shopsync/ca{{- end }}
{{- define "shopsync.extraCAFile" -}}{{ include "shopsync.extraCADir" . }}/{{ .Values.extraCA.key }}{{- end }}

{{/*
Rules for the namespaced resources the operator reads and writes. Rendered in
one ClusterRole (all namespaces) or in one Role per watched namespace, so both
modes grant exactly the same verbs.
*/}}
{{- define "shopsync.namespacedRules" -}}
# ShopifyConnections: watched by the controller (get/list/watch); patch and
# update add and remove the finalizer that carries spec.deletionPolicy.
- apiGroups: ["shopify.fostr.io"]
  resources: ["shopifyconnections"]
  verbs: ["get", "list", "watch", "patch", "update"]
# Status subresource: conditions, freshness, rate limit and backfill progress,
# written with server-side apply.
- apiGroups: ["shopify.fostr.io"]
  resources: ["shopifyconnections/status"]
  verbs: ["get", "patch", "update"]
# Secrets: each connection's Admin API token (spec.credentials.secretRef) is
# read with get; Secrets are watched (metadata only) so a rotated token is
# picked up at once. Read-only.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
# Events (events.k8s.io): the event Recorder publishes transitions such as
# credentials rejected or backfill complete, and patches repeats into a series.
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
# Events (core group): the same Event objects through the older core API.
# kube's Recorder writes events.k8s.io only; this rule covers core v1 Events
# posted by other code paths of the operator. Remove it together with them.
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
