{{/*
Prefix of every resource name: the release name when it already contains "moing",
otherwise <release>-moing. Short enough for "-notification-headless" to fit 63.
*/}}
{{- define "moing.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of one component; argument: (list $ "<component>"). */}}
{{- define "moing.labels" -}}
{{- $root := index . 0 -}}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version }}
{{ include "moing.selectorLabels" . }}
app.kubernetes.io/part-of: moing
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
{{- end -}}

{{/* The labels Services, PDBs and Deployments select on; argument as above. */}}
{{- define "moing.selectorLabels" -}}
app.kubernetes.io/name: {{ index . 1 }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
{{- end -}}

{{/* A MOING image: <image.repository>/<binary>:<image.tag or appVersion>; argument as above. */}}
{{- define "moing.image" -}}
{{- $root := index . 0 -}}
{{- printf "%s/%s:%s" $root.Values.image.repository (index . 1) ($root.Values.image.tag | default $root.Chart.AppVersion) -}}
{{- end -}}

{{/* The pod-level settings every workload of the chart shares. */}}
{{- define "moing.podDefaults" -}}
automountServiceAccountToken: false
{{- /* Service links would inject MOING_<SVC>_PORT-style variables into the MOING_ namespace the binaries read. */}}
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/* The settings every MOING binary reads (.Values.env), as container env entries. */}}
{{- define "moing.commonEnv" -}}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Probe action of a service; argument: (dict "edge" <bool> "port" <int>). */}}
{{- define "moing.probeAction" -}}
{{- if .edge -}}
httpGet:
  path: /healthz
  port: http
{{- else -}}
grpc:
  port: {{ .port }}
{{- with .service }}
  service: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}
