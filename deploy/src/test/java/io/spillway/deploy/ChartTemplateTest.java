package io.spillway.deploy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code helm template} output, parsed into typed objects, for the value variations that change its shape. */
class ChartTemplateTest {

    private static final String PREFIX = RenderedChart.RELEASE + "-spillway-";

    @Test
    void defaultsRenderTheThreeServicesWithPvcSpillsAndOneGpuPerWorker() {
        RenderedChart chart = RenderedChart.render();

        assertThat(chart.kinds()).containsExactlyInAnyOrder("Deployment", "Deployment", "Deployment", "Service", "Service",
                "Service", "PodDisruptionBudget", "PodDisruptionBudget", "PodDisruptionBudget", "ServiceAccount", "Secret",
                "PersistentVolumeClaim");
        for (String component : List.of("gateway", "spill", "worker")) {
            Deployment deployment = chart.deployment(component);
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            assertThat(pod.getServiceAccountName()).isEqualTo(PREFIX.substring(0, PREFIX.length() - 1));
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
            assertThat(chart.container(component).getImage()).startsWith("spillway/").endsWith(":0.1.0-SNAPSHOT");
            assertThat(chart.container(component).getReadinessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/readiness");
            assertThat(chart.container(component).getLivenessProbe().getHttpGet().getPath()).isEqualTo("/actuator/health/liveness");
            assertThat(chart.get(PodDisruptionBudget.class, PREFIX + component).getSpec().getSelector().getMatchLabels())
                    .isEqualTo(deployment.getSpec().getSelector().getMatchLabels());
            assertThat(chart.env(component)).containsEntry("MANAGEMENT_ENDPOINT_HEALTH_PROBES_ENABLED", "true");
        }
        assertThat(chart.get(ServiceAccount.class, "sw-spillway").getAutomountServiceAccountToken()).isFalse();
        assertThat(chart.yaml().lines()).as("no whitespace-only lines").noneMatch(line -> !line.isEmpty() && line.isBlank());
        assertThat(chart.get(Service.class, PREFIX + "gateway").getSpec().getPorts().getFirst().getPort()).isEqualTo(80);
    }

    @Test
    void secretHoldsApiKeysAndSpillTokensThatTheContainersReference() {
        RenderedChart chart = RenderedChart.render();

        Secret secret = chart.get(Secret.class, PREFIX + "secrets");
        assertThat(decoded(secret, "api-keys")).isEqualTo("sk-test:ops");
        assertThat(decoded(secret, "spill-tokens")).isEqualTo("spill-token-1,spill-token-2");
        assertThat(decoded(secret, "spill-worker-token")).isEqualTo("spill-token-1");
        assertThat(chart.env("gateway")).containsEntry("SPILLWAY_GATEWAY_APIKEYS", "secret:" + PREFIX + "secrets/api-keys");
        assertThat(chart.env("spill")).containsEntry("SPILLWAY_SPILL_TOKENS", "secret:" + PREFIX + "secrets/spill-tokens");
        assertThat(chart.env("worker")).containsEntry("SPILLWAY_WORKER_SPILL_TOKEN", "secret:" + PREFIX + "secrets/spill-worker-token");
        assertThat(chart.yaml()).doesNotContain("sk-test:ops");
    }

    @Test
    void existingSecretsReplaceTheChartsOwn() {
        RenderedChart chart = RenderedChart.render(Map.of("gateway.existingSecret", "my-keys", "spill.existingSecret", "my-tokens",
                "gateway.apiKeys", "null", "spill.tokens", "null"));


        assertThat(chart.has("Secret")).isFalse();
        assertThat(chart.env("gateway")).containsEntry("SPILLWAY_GATEWAY_APIKEYS", "secret:my-keys/api-keys");
        assertThat(chart.env("spill")).containsEntry("SPILLWAY_SPILL_TOKENS", "secret:my-tokens/tokens");
        assertThat(chart.env("worker")).containsEntry("SPILLWAY_WORKER_SPILL_TOKEN", "secret:my-tokens/worker-token");
    }

    @Test
    void pvcStorageMountsTheClaimAndAllowsOneReplica() {
        RenderedChart chart = RenderedChart.render(Map.of("spill.storage.pvc.size", "20Gi"));

        PersistentVolumeClaim claim = chart.get(PersistentVolumeClaim.class, PREFIX + "spills");
        assertThat(claim.getSpec().getResources().getRequests()).containsEntry("storage", new Quantity("20Gi"));
        assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
        Deployment spill = chart.deployment("spill");
        assertThat(spill.getSpec().getStrategy().getType()).isEqualTo("Recreate");
        assertThat(spill.getSpec().getTemplate().getSpec().getVolumes()).extracting(Volume::getPersistentVolumeClaim)
                .filteredOn(java.util.Objects::nonNull).singleElement()
                .satisfies(source -> assertThat(source.getClaimName()).isEqualTo(PREFIX + "spills"));
        assertThat(chart.env("spill")).containsEntry("SPILLWAY_SPILL_STORE", "filesystem")
                .containsEntry("SPILLWAY_SPILL_DIR", "/var/lib/spillway/spills").doesNotContainKey("SPILLWAY_SPILL_S3_BUCKET");

        assertThatThrownBy(() -> RenderedChart.render(Map.of("spill.replicaCount", "2")))
                .hasMessageContaining("spill.replicaCount > 1 needs spill.storage.type s3");
    }

    @Test
    void s3StorageNeedsNoClaimAndScalesOut() {
        RenderedChart chart = RenderedChart.render(Map.of("spill.storage.type", "s3", "spill.replicaCount", "3",
                "spill.storage.s3.bucket", "spills", "spill.storage.s3.endpoint", "http://seaweedfs:8333",
                "spill.storage.s3.pathStyleAccess", "true", "spill.storage.s3.accessKey", "AK", "spill.storage.s3.secretKey", "SK"));

        assertThat(chart.has("PersistentVolumeClaim")).isFalse();
        assertThat(chart.deployment("spill").getSpec().getReplicas()).isEqualTo(3);
        assertThat(chart.deployment("spill").getSpec().getStrategy()).isNull();
        assertThat(chart.env("spill")).containsEntry("SPILLWAY_SPILL_STORE", "s3").containsEntry("SPILLWAY_SPILL_S3_BUCKET", "spills")
                .containsEntry("SPILLWAY_SPILL_S3_ENDPOINT", "http://seaweedfs:8333")
                .containsEntry("SPILLWAY_SPILL_S3_PATHSTYLEACCESS", "true")
                .containsEntry("SPILLWAY_SPILL_S3_ACCESSKEY", "secret:" + PREFIX + "secrets/s3-access-key")
                .containsEntry("SPILLWAY_SPILL_S3_SECRETKEY", "secret:" + PREFIX + "secrets/s3-secret-key")
                .doesNotContainKey("SPILLWAY_SPILL_DIR");
        assertThat(decoded(chart.get(Secret.class, PREFIX + "secrets"), "s3-secret-key")).isEqualTo("SK");

        assertThatThrownBy(() -> RenderedChart.render(Map.of("spill.storage.type", "s3")))
                .hasMessageContaining("spill.storage.s3.bucket is required");
        assertThatThrownBy(() -> RenderedChart.render(Map.of("spill.storage.type", "nfs")))
                .hasMessageContaining("spill.storage.type must be pvc or s3");
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 2})
    void aWorkerPodTakesAtMostOneGpu(int gpus) {
        assertThatThrownBy(() -> RenderedChart.render(Map.of("worker.gpu.count", String.valueOf(gpus))))
                .hasMessageContaining("worker.gpu.count must be 0 (CPU engine) or 1, not " + gpus)
                .hasMessageContaining("more GPUs are more worker pods");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void gpuCountSetsTheGpuLimitAndSchedulingOnlyWhenPositive(int gpus) {
        RenderedChart chart = RenderedChart.render(Map.of("worker.gpu.count", String.valueOf(gpus),
                "worker.gpu.nodeSelector.nvidia\\.com/gpu\\.present", "true"));

        PodSpec pod = chart.deployment("worker").getSpec().getTemplate().getSpec();
        Map<String, Quantity> limits = chart.container("worker").getResources().getLimits();
        if (gpus == 0) {
            assertThat(limits).doesNotContainKey("nvidia.com/gpu");
            assertThat(pod.getNodeSelector()).isNullOrEmpty();
            assertThat(pod.getTolerations()).isNullOrEmpty();
            assertThat(chart.env("worker")).containsEntry("NVIDIA_VISIBLE_DEVICES", "void").containsEntry("SPILLWAY_WORKER_BACKEND", "cpu");
        } else {
            assertThat(limits).containsEntry("nvidia.com/gpu", new Quantity(String.valueOf(gpus)));
            assertThat(pod.getNodeSelector()).containsEntry("nvidia.com/gpu.present", "true");
            assertThat(pod.getTolerations()).anySatisfy(t -> assertThat(t.getKey()).isEqualTo("nvidia.com/gpu"));
            assertThat(chart.env("worker")).doesNotContainKey("NVIDIA_VISIBLE_DEVICES").containsEntry("SPILLWAY_WORKER_BACKEND", "cuda");
        }
        assertThat(limits).containsEntry("memory", new Quantity("8Gi"));
    }

    @Test
    void kedaOffKeepsFixedReplicasAndNoScaledObject() {
        RenderedChart chart = RenderedChart.render(Map.of("worker.replicaCount", "3"));

        assertThat(chart.has("ScaledObject")).isFalse();
        assertThat(chart.deployment("worker").getSpec().getReplicas()).isEqualTo(3);
    }

    @Test
    @SuppressWarnings("unchecked")
    void kedaOnScalesTheWorkersOnConsumerLagOfTheRequestsTopic() {
        RenderedChart chart = RenderedChart.render(Map.of("worker.keda.enabled", "true", "worker.keda.maxReplicaCount", "12",
                "worker.keda.lagThreshold", "8"));

        assertThat(chart.deployment("worker").getSpec().getReplicas()).as("KEDA owns the replica count").isNull();
        GenericKubernetesResource scaled = chart.custom("ScaledObject", PREFIX + "worker");
        assertThat(scaled.getApiVersion()).isEqualTo("keda.sh/v1alpha1");
        Map<String, Object> spec = (Map<String, Object>) scaled.getAdditionalProperties().get("spec");
        assertThat(spec).containsEntry("maxReplicaCount", 12).containsEntry("minReplicaCount", 1);
        assertThat((Map<String, Object>) spec.get("scaleTargetRef")).containsEntry("name", PREFIX + "worker");
        Map<String, Object> trigger = ((List<Map<String, Object>>) spec.get("triggers")).getFirst();
        assertThat(trigger).containsEntry("type", "kafka").doesNotContainKey("authenticationRef");
        assertThat((Map<String, Object>) trigger.get("metadata")).containsEntry("bootstrapServers", "kafka.kafka:9092")
                .containsEntry("consumerGroup", "spillway-workers").containsEntry("topic", "spillway.requests")
                .containsEntry("lagThreshold", "8").containsEntry("allowIdleConsumers", "false");
        assertThat(chart.has("TriggerAuthentication")).isFalse();
    }

    @Test
    void kedaRefusesMoreWorkersThanRequestPartitions() {
        assertThatThrownBy(() -> RenderedChart.render(Map.of("worker.keda.enabled", "true", "worker.keda.maxReplicaCount", "13")))
                .hasMessageContaining("worker.keda.maxReplicaCount (13) exceeds the partitions of spillway.requests (12)");
        assertThat(RenderedChart.render(Map.of("worker.keda.enabled", "true", "worker.keda.maxReplicaCount", "24",
                "kafka.topics.requests.partitions", "24")).has("ScaledObject")).isTrue();
    }

    @Test
    @SuppressWarnings("unchecked")
    void saslAndTlsReachEveryServiceAndKeda() {
        RenderedChart chart = RenderedChart.render(Map.of("kafka.security.protocol", "SASL_SSL",
                "kafka.security.sasl.username", "spillway", "kafka.security.sasl.password", "s3cret",
                "kafka.security.tls.caCert", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                "worker.keda.enabled", "true", "kafka.extraProperties.client\\.dns\\.lookup", "use_all_dns_ips"));

        String jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$(KAFKA_SASL_USERNAME)\" "
                + "password=\"$(KAFKA_SASL_PASSWORD)\";";
        Map<String, String> prefixes = Map.of("gateway", "SPILLWAY_KAFKA_PROPERTIES_", "spill", "SPILLWAY_SPILL_KAFKA_PROPERTIES_",
                "worker", "SPILLWAY_WORKER_KAFKA_PROPERTIES_");
        prefixes.forEach((component, prefix) -> {
            assertThat(chart.env(component)).containsEntry(prefix + "SECURITY_PROTOCOL", "SASL_SSL")
                    .containsEntry(prefix + "SASL_MECHANISM", "SCRAM-SHA-512").containsEntry(prefix + "SASL_JAAS_CONFIG", jaas)
                    .containsEntry(prefix + "SSL_TRUSTSTORE_TYPE", "PEM")
                    .containsEntry(prefix + "SSL_TRUSTSTORE_LOCATION", "/etc/spillway/kafka-tls/ca.crt")
                    .containsEntry(prefix + "CLIENT_DNS_LOOKUP", "use_all_dns_ips")
                    .containsEntry("KAFKA_SASL_USERNAME", "secret:" + PREFIX + "secrets/kafka-sasl-username");
            List<String> names = chart.container(component).getEnv().stream().map(e -> e.getName()).toList();
            assertThat(names.indexOf("KAFKA_SASL_PASSWORD")).as("defined before the JAAS line expands it")
                    .isLessThan(names.indexOf(prefix + "SASL_JAAS_CONFIG"));
            assertThat(chart.container(component).getVolumeMounts()).anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/etc/spillway/kafka-tls"));
        });
        assertThat(decoded(chart.get(Secret.class, PREFIX + "secrets"), "kafka-sasl-password")).isEqualTo("s3cret");

        Map<String, Object> trigger = ((List<Map<String, Object>>) ((Map<String, Object>) chart.custom("ScaledObject", PREFIX + "worker")
                .getAdditionalProperties().get("spec")).get("triggers")).getFirst();
        assertThat((Map<String, Object>) trigger.get("metadata")).containsEntry("sasl", "scram_sha512").containsEntry("tls", "enable");
        assertThat((Map<String, Object>) trigger.get("authenticationRef")).containsEntry("name", PREFIX + "kafka");
        List<Map<String, Object>> refs = (List<Map<String, Object>>) ((Map<String, Object>) chart.custom("TriggerAuthentication",
                PREFIX + "kafka").getAdditionalProperties().get("spec")).get("secretTargetRef");
        assertThat(refs).extracting(r -> r.get("parameter")).containsExactlyInAnyOrder("username", "password", "ca");

        assertThatThrownBy(() -> RenderedChart.render(Map.of("kafka.security.protocol", "SASL_PLAINTEXT")))
                .hasMessageContaining("kafka.security.sasl.username (or existingSecret) is required");
    }

    @Test
    @SuppressWarnings("unchecked")
    void serviceMonitorScrapesGatewayAndWorkers() {
        RenderedChart chart = RenderedChart.render(Map.of("metrics.serviceMonitor.enabled", "true",
                "metrics.serviceMonitor.labels.release", "kube-prometheus"));

        GenericKubernetesResource monitor = chart.custom("ServiceMonitor", "sw-spillway");
        assertThat(monitor.getApiVersion()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "kube-prometheus");
        Map<String, Object> spec = (Map<String, Object>) monitor.getAdditionalProperties().get("spec");
        assertThat((List<Map<String, Object>>) spec.get("endpoints")).singleElement()
                .satisfies(e -> assertThat(e).containsEntry("port", "http").containsEntry("path", "/actuator/prometheus"));
        assertThat(chart.get(Service.class, PREFIX + "worker").getSpec().getPorts().getFirst().getName()).isEqualTo("http");
        assertThat(RenderedChart.render().has("ServiceMonitor")).isFalse();
    }

    @Test
    void topicsJobCreatesEveryTopicOncePerRevision() {
        RenderedChart chart = RenderedChart.render(Map.of("topicsJob.enabled", "true", "kafka.topics.extra[0].name", "my.topic",
                "kafka.topics.extra[0].partitions", "6", "kafka.topics.jobs.partitions", "4"));

        Job job = chart.get(Job.class, PREFIX + "topics-1");
        String script = job.getSpec().getTemplate().getSpec().getContainers().getFirst().getCommand().getLast();
        assertThat(script).contains("--topic \"spillway.requests\"", "--topic \"spillway.events\"", "--topic \"spillway.requests.dlq\"",
                "--topic \"my.topic\"", "--partitions 6", "--topic \"spillway.sessions\" \\\n", "--topic \"spillway.summaries\"",
                "--topic \"spillway.jobs.dlq\"")
                // A job is answered on its own partition: the job events topic has as many as the jobs topic.
                .containsPattern("--topic \"spillway.jobs\" \\\\\\s+--partitions 4")
                .containsPattern("--topic \"spillway.job-events\" \\\\\\s+--partitions 4")
                .contains("--config \"cleanup.policy=compact\"");
    }

    @Test
    void configMapsSpringPropertiesToEnvironmentVariables() {
        RenderedChart chart = RenderedChart.render(Map.of("gateway.config.spillway\\.gateway\\.first-token-timeout", "90s",
                "worker.config.spillway\\.worker\\.prefill-budget", "512"));

        assertThat(chart.env("gateway")).containsEntry("SPILLWAY_GATEWAY_FIRSTTOKENTIMEOUT", "90s");
        assertThat(chart.env("worker")).containsEntry("SPILLWAY_WORKER_PREFILLBUDGET", "512");
    }

    @Test
    void requiredValuesAreNamedWhenMissing() {
        assertThatThrownBy(() -> RenderedChart.render(Map.of("kafka.bootstrapServers", "")))
                .hasMessageContaining("kafka.bootstrapServers is required");
        assertThatThrownBy(() -> RenderedChart.render(Map.of("gateway.apiKeys", "null")))
                .hasMessageContaining("gateway.apiKeys (or gateway.existingSecret) is required");
        assertThatThrownBy(() -> RenderedChart.render(Map.of("worker.model.name", "llama-3.1-8b")))
                .hasMessageContaining("worker.model.name \"llama-3.1-8b\" is not in gateway.models");
        assertThat(RenderedChart.render(Map.of("worker.model.name", "llama-3.1-8b", "gateway.models[0]", "llama-3.1-8b"))
                .env("worker")).containsEntry("SPILLWAY_WORKER_MODELNAME", "llama-3.1-8b");
    }

    @Test
    void notesTellHowToReachTheEndpointAndWhatWasSetUp() {
        String notes = RenderedChart.installNotes(Map.of("worker.keda.enabled", "true", "spill.storage.type", "s3",
                "spill.storage.s3.bucket", "spills"));

        assertThat(notes).contains("kubectl -n spillway port-forward svc/sw-spillway-gateway 8080:80",
                "Secret sw-spillway-secrets, key api-keys", "Topics are NOT created by this release",
                "1..4, scaled by KEDA on the lag of group spillway-workers", "1 GPU(s) each", "S3 bucket spills");
        assertThat(RenderedChart.installNotes(Map.of("topicsJob.enabled", "true", "worker.gpu.count", "0")))
                .contains("created by the Job sw-spillway-topics-1", "CPU engine (no GPU requested)");
    }

    private static String decoded(Secret secret, String key) {
        return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
    }
}
