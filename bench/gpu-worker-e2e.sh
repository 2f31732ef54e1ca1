#!/usr/bin/env bash
# On the GPU machine: the inference worker on the CUDA backend, through Kafka (WorkerIntegrationTest's GPU test:
# an in-process KRaft broker and schema registry, fp16 and rotatekv2 KV, greedy text against reference.json).
# The runtime, the test classpath and the JUnit launcher come in parts (bench/make-worker-pack.sh), one folder
# gpu/worker-call-N carried a call: each call leaves its part in /tmp/worker-parts, and the call that completes the
# set (checked against the checksums) runs the test. Calls must follow each other while the machine stays warm.
# Usage: OUT=... bench/gpu-worker-e2e.sh gpu/worker-call-N
set -uo pipefail
parts=/tmp/worker-parts
mkdir -p "$parts" && cp "${1:?a gpu/worker-call-N folder}"/* "$parts/"
have=$(cd "$parts" && sha256sum --quiet -c --ignore-missing worker-parts.sha256 && ls worker-part-* | wc -l)
need=$(wc -l < "$parts/worker-parts.sha256")
if [ "${have:-0}" != "$need" ]; then echo "holding ${have:-0} of $need parts (a part that fails its checksum is not counted): carry the next folder"; exit 0; fi
cat "$parts"/worker-part-* | tar -xf - -C /tmp
tar -xJf /tmp/jre-worker.tar.xz -C /tmp
tar -xJf /tmp/worker.tar.xz -C /tmp
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib:${LD_LIBRARY_PATH:-}
cp="/tmp/worker/classes:/tmp/worker/test-classes:$(ls -d /tmp/worker/lib/*/ | tr '\n' ':')"
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; } | tee -a "$OUT/device.txt"
timeout 400 /tmp/jre-worker/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx8g \
  -jar /tmp/testlib/junit-platform-console-standalone-6.0.1.jar execute -cp "$cp" \
  --select-method io.spillway.worker.WorkerIntegrationTest#onAGpuTheWorkerServesRequestsThroughKafkaOnTheCudaBackend \
  --details=tree --disable-banner --disable-ansi-colors 2>&1 | grep -v "^\s*at " | tee "$OUT/worker-e2e.txt" \
  | grep -E "✔|✘|■|tests successful|tests failed|engine ready"
