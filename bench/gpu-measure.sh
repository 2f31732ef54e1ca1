#!/usr/bin/env bash
# The CUDA measurements of docs/BENCHMARKS.md on the GPU machine (set OUT; gpu/ packed by
# bench/make-jre.sh), in parts that each fit one call of at most 10 minutes:
#   ours    gpu-bench: fp16 vs rotatekv2 vs its per-head post-RoPE variant side by side at Llama-3-8B shapes
#   peer    transformers at the same points
#   spill   gpu-spill-bench: prefill vs spill vs restore of the same three methods' caches
# The plot of both: python3 bench/plot-decode.py decode-tokens-per-s.png cuda-bench.csv hf-bench.csv (matplotlib).
#   checks  GPU tests, reference ids and PPL on the GPU (fp16 whole text; RotateKV token by token on the
#           CPU table's 96 windows; the per-head variant with its own calibration), CUDA graphs on vs off
# Usage: OUT=... bench/gpu-measure.sh ours|peer|spill|checks
set -uo pipefail
part=${1:?ours, peer, spill or checks}
source bench/gpu-env.sh
J+=(-cp "gpu/lib/*")
M=io.spillway.engine.cli.SpillwayCli
PER_HEAD=rotatekv2:prerope=off,rotation-heads=1
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv; date -u; } | tee -a $OUT/device.txt
case $part in
ours)
  timeout 560 "${J[@]}" $M gpu-bench --steps 8 --batches 1,16,64,max --kv fp16,rotatekv2,$PER_HEAD 2>&1 | grep --line-buffered -v WARNING | tee $OUT/cuda-bench.csv ;;
peer)
  PYTHONUNBUFFERED=1 timeout 400 python3 bench/hf-decode-bench.py --steps 8 --batches 1,16,64,max 2>&1 | grep -v Warning | tee $OUT/hf-bench.csv ;;
spill)
  timeout 500 "${J[@]}" $M gpu-spill-bench --kv fp16,rotatekv2,$PER_HEAD --history 1024,4096,16384 --repeat 2 2>&1 | grep --line-buffered -v WARNING | tee $OUT/cuda-spill.csv ;;
checks)
  /tmp/jre/bin/java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -jar gpu/testlib/junit-platform-console-standalone-6.0.1.jar \
    execute -cp "$(ls gpu/lib/*.jar | tr "\n" ":")gpu/testlib/assertj-core-3.27.7.jar:gpu/testlib/llm-engine-tests.jar" \
    --select-class io.spillway.engine.cuda.CudaLlamaModelTest --select-class io.spillway.engine.cuda.CudaSamplingTest \
    --select-class io.spillway.engine.cuda.CudaSpillTest --select-class io.spillway.engine.backend.GpuSessionTest \
    --details=tree --disable-banner --disable-ansi-colors 2>&1 | grep -v "WARNING\|^\s*at " | tee $OUT/gpu-tests.txt | grep "✘\|tests successful\|tests failed"
  # The per-head variant needs a calibration of its own rotation size: a copy of the model directory holds it.
  mkdir -p /tmp/per-head && ln -sf "$PWD"/models/tiny-llama/{config.json,model.safetensors,tokenizer.json,tokenizer_config.json,generation_config.json} /tmp/per-head/
  { timeout 60 "${J[@]}" $M reference --backend cuda 2>&1 | tail -1
    timeout 60 "${J[@]}" $M reference --backend cuda --kv rotatekv2 2>&1 | tail -1
    timeout 60 "${J[@]}" $M ppl --data datasets/tiny-llama-valid.json --backend cuda --kv-mode all 2>&1 | tr '\r' '\n' | grep -a "^ppl="
    timeout 100 "${J[@]}" $M ppl --data datasets/tiny-llama-valid.json --backend cuda --kv rotatekv2 --kv-mode decode --limit 96 2>&1 | tr '\r' '\n' | grep -a "^ppl="
    timeout 120 "${J[@]}" $M calibrate --model /tmp/per-head --data datasets/tiny-llama-valid.json --method $PER_HEAD 2>&1 | tail -1
    for mode in "all" "decode --limit 96"; do
      echo "$PER_HEAD --kv-mode $mode:"
      timeout 100 "${J[@]}" $M ppl --model /tmp/per-head --data datasets/tiny-llama-valid.json --backend cuda --kv $PER_HEAD --kv-mode $mode 2>&1 | tr '\r' '\n' | grep -a "^ppl="
    done
  } | tee $OUT/correctness.txt ;;
esac
