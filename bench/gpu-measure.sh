#!/usr/bin/env bash
# The CUDA measurements of docs/BENCHMARKS.md in one run (set OUT; gpu/ packed by bench/make-jre.sh): GPU tests, reference ids, RotateKV PPL (decode mode, the CPU table's
# 96 windows), then gpu-bench fp16 vs rotatekv2 side by side at Llama-3-8B shapes.
set -uo pipefail
tar -xJf gpu/jre.tar.xz -C /tmp
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib:${LD_LIBRARY_PATH:-}
J=(/tmp/jre/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx24g -cp "gpu/lib/*")
M=io.spillway.engine.cli.SpillwayCli
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv; date -u; } | tee $OUT/device.txt
/tmp/jre/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -jar gpu/testlib/junit-platform-console-standalone-6.0.1.jar \
  execute -cp "$(ls gpu/lib/*.jar | tr "\n" ":")gpu/testlib/assertj-core-3.27.7.jar:gpu/testlib/llm-engine-tests.jar" --select-class io.spillway.engine.cuda.CudaLlamaModelTest \
  --details=tree --disable-banner --disable-ansi-colors 2>&1 | grep -v "WARNING\|^\s*at " | tee $OUT/gpu-tests.txt | tail -25
"${J[@]}" $M reference --backend cuda --kv rotatekv2 2>&1 | tail -3 | tee $OUT/reference.txt
timeout 150 "${J[@]}" $M ppl --data datasets/tiny-llama-valid.json --backend cuda --kv rotatekv2 --kv-mode decode --limit 96 2>&1 | tr '\r' '\n' | grep -av '^ppl \[' | tee $OUT/ppl-decode.txt
timeout 380 "${J[@]}" $M gpu-bench --steps 8 2>&1 | grep -v WARNING | tee $OUT/cuda-bench.csv
