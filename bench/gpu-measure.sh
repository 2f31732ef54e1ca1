#!/usr/bin/env bash
# The CUDA measurements of docs/BENCHMARKS.md in one call on the GPU machine (set OUT; gpu/ packed by
# bench/make-jre.sh): GPU tests, then gpu-bench fp16 vs rotatekv2 side by side at Llama-3-8B shapes,
# CUDA graphs on vs off at batch 1, transformers at the same points and the plot, then reference ids
# and PPL on the GPU (fp16 whole text; RotateKV token by token on the CPU table's 96 windows).
set -uo pipefail
tar -xJf gpu/jre.tar.xz -C /tmp
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cu13/lib:${LD_LIBRARY_PATH:-}
J=(/tmp/jre/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx24g -cp "gpu/lib/*")
M=io.spillway.engine.cli.SpillwayCli
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv; date -u; } | tee $OUT/device.txt
/tmp/jre/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -jar gpu/testlib/junit-platform-console-standalone-6.0.1.jar \
  execute -cp "$(ls gpu/lib/*.jar | tr "\n" ":")gpu/testlib/assertj-core-3.27.7.jar:gpu/testlib/llm-engine-tests.jar" \
  --select-class io.spillway.engine.cuda.CudaLlamaModelTest --select-class io.spillway.engine.cuda.CudaSamplingTest --select-class io.spillway.engine.cuda.CudaSpillTest --select-class io.spillway.engine.backend.GpuSessionTest \
  --details=tree --disable-banner --disable-ansi-colors 2>&1 | grep -v "WARNING\|^\s*at " | tee $OUT/gpu-tests.txt | grep "✘\|tests successful\|tests failed"
timeout 330 "${J[@]}" $M gpu-bench --steps 8 2>&1 | grep -v WARNING | tee $OUT/cuda-bench.csv
timeout 60 "${J[@]}" $M gpu-bench --steps 8 --contexts 1024,32768 --batches 1 --graphs off,on 2>&1 | grep "^cuda" | tee $OUT/cuda-graphs.csv
PYTHONUNBUFFERED=1 timeout 200 python3 bench/hf-decode-bench.py --steps 8 2>&1 | grep -v Warning | tee $OUT/hf-bench.csv
python3 bench/plot-decode.py $OUT/decode-tokens-per-s.png $OUT/cuda-bench.csv $OUT/hf-bench.csv 2>&1 | tail -3
{ timeout 60 "${J[@]}" $M reference --backend cuda 2>&1 | tail -1
  timeout 60 "${J[@]}" $M reference --backend cuda --kv rotatekv2 2>&1 | tail -1
  timeout 60 "${J[@]}" $M ppl --data datasets/tiny-llama-valid.json --backend cuda --kv-mode all 2>&1 | tr '\r' '\n' | grep -a "^ppl="
  timeout 100 "${J[@]}" $M ppl --data datasets/tiny-llama-valid.json --backend cuda --kv rotatekv2 --kv-mode decode --limit 96 2>&1 | tr '\r' '\n' | grep -a "^ppl="
} | tee $OUT/correctness.txt
