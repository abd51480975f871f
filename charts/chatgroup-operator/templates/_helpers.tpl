{{/*
The release's base name: the release name, with the chart name appended unless
the release name already contains it. Installed as release "chatgroup-operator"
the objects get exactly the names config/default gives them.
*/}}
{{- define "chatgroup-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 36 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 36 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The ServiceAccount the manager runs as (and the Deployment's name). */}}
{{- define "chatgroup-operator.managerName" -}}
{{- include "chatgroup-operator.fullname" . }}-controller-manager
{{- end -}}

{{/* Labels that select the manager's pods; stable across upgrades. */}}
{{- define "chatgroup-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels on every object the chart renders. */}}
{{- define "chatgroup-operator.labels" -}}
{{ include "chatgroup-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ include "chatgroup-operator.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The image tag: image.tag, or the chart's appVersion. */}}
{{- define "chatgroup-operator.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}
