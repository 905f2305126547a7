{{/*
Names. The prefix is at most 40 characters so that the longest object name
(<prefix>-manager-metrics) stays a valid 63-character DNS label and the
archive StatefulSet's name leaves room for its pods' revision-hash label.
*/}}
{{- define "vigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{- define "vigil.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "vigil.manager.fullname" -}}
{{- printf "%s-manager" (include "vigil.fullname" .) -}}
{{- end -}}

{{- define "vigil.archive.fullname" -}}
{{- printf "%s-archive" (include "vigil.fullname" .) -}}
{{- end -}}

{{- define "vigil.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels on every object, with a component's selector labels (name and
instance) added by vigil.manager.labels or vigil.archive.labels; every object
belongs to one of the two. app.kubernetes.io/name is per component
because the manager's connector NetworkPolicies find the archive pods by
app.kubernetes.io/name=vigil-archive, whatever the release is called.
*/}}
{{- define "vigil.labels" -}}
helm.sh/chart: {{ include "vigil.chart" . }}
app.kubernetes.io/part-of: vigil
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ include "vigil.imageTag" . | trunc 63 | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "vigil.manager.selectorLabels" -}}
app.kubernetes.io/name: vigil-manager
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vigil.manager.labels" -}}
{{ include "vigil.labels" . }}
{{ include "vigil.manager.selectorLabels" . }}
app.kubernetes.io/component: manager
{{- end -}}

{{- define "vigil.archive.selectorLabels" -}}
app.kubernetes.io/name: vigil-archive
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "vigil.archive.labels" -}}
{{ include "vigil.labels" . }}
{{ include "vigil.archive.selectorLabels" . }}
app.kubernetes.io/component: archive
{{- end -}}

{{/* Image. */}}
{{- define "vigil.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{- define "vigil.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (include "vigil.imageTag" .) -}}
{{- end -}}
{{- end -}}

{{/*
Wiring between the components: the manager calls the archive at the archive
Service, and the archive lets the manager's ServiceAccount administer it.
*/}}
{{- define "vigil.archive.url" -}}
{{- printf "http://%s.%s.svc:8080" (include "vigil.archive.fullname" .) .Release.Namespace -}}
{{- end -}}

{{- define "vigil.manager.subject" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "vigil.manager.fullname" .) -}}
{{- end -}}

{{/*
The securityContexts of the Pod Security "restricted" profile, which every
pod of this chart meets: non-root 65532 (the image's user), RuntimeDefault
seccomp, no privilege escalation, no capabilities, read-only root.
*/}}
{{- define "vigil.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "vigil.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Scheduling and pull settings shared by both workloads; pass a dict with "root" and "component". */}}
{{- define "vigil.podScheduling" -}}
{{- $c := .component -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with $c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $c.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
