{{/* Names and labels. */}}
{{- define "spillway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "spillway.fullname" -}}
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

{{- define "spillway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "spillway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: spillway
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway"). */}}
{{- define "spillway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "spillway.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "spillway.componentLabels" -}}
{{ include "spillway.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "spillway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "spillway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image of one service: (dict "root" $ "artifact" "gateway-service"). */}}
{{- define "spillway.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .artifact (default .root.Chart.AppVersion .root.Values.image.tag) }}
{{- end }}

{{- define "spillway.secretName" -}}
{{- printf "%s-secrets" (include "spillway.fullname" .) }}
{{- end }}

{{/* Required settings, checked once by every template that needs them. */}}
{{- define "spillway.kafka.bootstrapServers" -}}
{{- required "kafka.bootstrapServers is required (e.g. my-cluster-kafka-bootstrap.kafka:9092)" .Values.kafka.bootstrapServers }}
{{- end }}

{{- define "spillway.schemaRegistry.url" -}}
{{- required "schemaRegistry.url is required (Apicurio: http://HOST:8080/apis/ccompat/v7)" .Values.schemaRegistry.url }}
{{- end }}

{{- define "spillway.kafka.sasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.security.protocol }}true{{ end }}
{{- end }}

{{- define "spillway.kafka.tls" -}}
{{- $p := .Values.kafka.security.protocol }}
{{- if and (or (eq $p "SSL") (eq $p "SASL_SSL")) (or .Values.kafka.security.tls.caCert .Values.kafka.security.tls.existingSecret) }}true{{ end }}
{{- end }}

{{/*
Spring properties as environment variables, the way Spring Boot's relaxed binding reads them:
dots become underscores, dashes go, upper case (spillway.worker.max-batch -> SPILLWAY_WORKER_MAXBATCH).
*/}}
{{- define "spillway.springEnvName" -}}
{{- . | replace "-" "" | replace "." "_" | upper }}
{{- end }}

{{- define "spillway.springEnv" -}}
{{- range $key, $value := . }}
- name: {{ include "spillway.springEnvName" $key }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
Kafka client security of one service: (dict "root" $ "prefix" "spillway.kafka.properties"), the prefix
being the service's map of Kafka client properties. The SASL secret arrives as two variables that the
JAAS line references ($(VAR) expansion by the kubelet).
*/}}
{{- define "spillway.kafkaClientEnv" -}}
{{- $v := .root.Values.kafka }}
{{- $props := dict "security.protocol" $v.security.protocol }}
{{- if include "spillway.kafka.sasl" .root }}
{{- $module := ternary "org.apache.kafka.common.security.plain.PlainLoginModule" "org.apache.kafka.common.security.scram.ScramLoginModule" (eq $v.security.sasl.mechanism "PLAIN") }}
{{- $_ := set $props "sasl.mechanism" $v.security.sasl.mechanism }}
{{- $_ := set $props "sasl.jaas.config" (printf "%s required username=\"$(KAFKA_SASL_USERNAME)\" password=\"$(KAFKA_SASL_PASSWORD)\";" $module) }}
{{- end }}
{{- if include "spillway.kafka.tls" .root }}
{{- $_ := set $props "ssl.truststore.type" "PEM" }}
{{- $_ := set $props "ssl.truststore.location" "/etc/spillway/kafka-tls/ca.crt" }}
{{- end }}
{{- $props = merge $props $v.extraProperties }}
{{- if include "spillway.kafka.sasl" .root }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ default (include "spillway.secretName" .root) $v.security.sasl.existingSecret }}
      key: {{ ternary "username" "kafka-sasl-username" (not (empty $v.security.sasl.existingSecret)) }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default (include "spillway.secretName" .root) $v.security.sasl.existingSecret }}
      key: {{ ternary "password" "kafka-sasl-password" (not (empty $v.security.sasl.existingSecret)) }}
{{- end }}
{{- $prefix := .prefix }}
{{- range $key := keys $props | sortAlpha }}
- name: {{ include "spillway.springEnvName" (printf "%s.%s" $prefix $key) }}
  value: {{ get $props $key | toString | quote }}
{{- end }}
{{- end }}

{{- define "spillway.kafkaTlsVolumeMount" -}}
{{- if include "spillway.kafka.tls" . }}
- name: kafka-tls
  mountPath: /etc/spillway/kafka-tls
  readOnly: true
{{- end }}
{{- end }}

{{- define "spillway.kafkaTlsVolume" -}}
{{- if include "spillway.kafka.tls" . }}
- name: kafka-tls
  secret:
    secretName: {{ default (include "spillway.secretName" .) .Values.kafka.security.tls.existingSecret }}
    items:
      - key: {{ ternary "ca.crt" "kafka-ca.crt" (not (empty .Values.kafka.security.tls.existingSecret)) }}
        path: ca.crt
{{- end }}
{{- end }}

{{/* Probes on Spring Boot's health groups (liveness, readiness) of the actuator port. */}}
{{- define "spillway.probes" -}}
startupProbe:
  httpGet:
    path: /actuator/health/liveness
    port: http
  periodSeconds: 5
  failureThreshold: {{ .startupFailures | default 36 }}
livenessProbe:
  httpGet:
    path: /actuator/health/liveness
    port: http
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /actuator/health/readiness
    port: http
  periodSeconds: 5
  failureThreshold: 3
{{- end }}
