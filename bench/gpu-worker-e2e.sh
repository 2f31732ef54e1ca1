#!/usr/bin/env bash
# On the GPU machine: the inference worker on the CUDA backend, through Kafka (WorkerIntegrationTest's GPU test:
# an in-process KRaft broker and schema registry, fp16 and rotatekv2 KV, greedy text against reference.json).
# Needs gpu/testlib/junit-platform-console-standalone-6.0.1.jar (bench/make-jre.sh), gpu/jre-worker.tar.xz and
# gpu/worker.tar.xz (bench/make-worker-pack.sh) carried.
# Usage: OUT=... bench/gpu-worker-e2e.sh
set -uo pipefail
tar -xJf gpu/jre-worker.tar.xz -C /tmp
tar -xJf gpu/worker.tar.xz -C /tmp
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib:${LD_LIBRARY_PATH:-}
cp="/tmp/worker/classes:/tmp/worker/test-classes:$(ls -d /tmp/worker/lib/*/ | tr '\n' ':')"
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u; } | tee -a "$OUT/device.txt"
timeout 400 /tmp/jre-worker/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx8g \
  -jar gpu/testlib/junit-platform-console-standalone-6.0.1.jar execute -cp "$cp" \
  --select-method io.spillway.worker.WorkerIntegrationTest#onAGpuTheWorkerServesRequestsThroughKafkaOnTheCudaBackend \
  --details=tree --disable-banner --disable-ansi-colors 2>&1 | grep -v "^\s*at " | tee "$OUT/worker-e2e.txt" \
  | grep -E "✔|✘|tests successful|tests failed|engine ready|skipped"
