#!/usr/bin/env bash
# Where one decode step's GPU time goes, kernel by kernel, on the GPU machine (set OUT; gpu/ packed by
# bench/make-jre.sh): Nsight Compute times each kernel of gpu-bench's last steps at one point, with the DRAM bytes
# it read, clocks and caches left as a real step finds them (launches are serialised, so gaps between kernels are
# not counted). Summary: python3 bench/kernel-times.py $OUT/kernel-times-*.csv
# SAMPLING=plain or sampled times steps drawn as the worker draws them (gpu-bench --sampling; default: greedy).
# Usage: [SAMPLING=plain|sampled] bench/gpu-kernel-times.sh [--jar llm-engine.jar] CONTEXT BATCH KV...
set -uo pipefail
: "${OUT:?output folder}"
jar=gpu/lib/llm-engine.jar
[ "${1:-}" = --jar ] && { jar=$2; shift 2; }
context=${1:?context} batch=${2:?batch}; shift 2
source bench/gpu-env.sh
NCU=$(command -v ncu || echo /usr/local/cuda/bin/ncu)
draw=(); [ -n "${SAMPLING:-}" ] && draw=(--sampling "$SAMPLING")
for kv in "$@"; do
  # A point is 3 warm-up steps and 2 timed ones, each 228 to 260 of these kernels at 32 layers and batch 1 (more from
  # batch 3, where cuBLAS GEMMs and separate norms run): skipping 800 passes the first steps, and 260 is about one.
  "$NCU" --target-processes all --clock-control none --cache-control none --graph-profiling node \
    --kernel-name regex:"gemv|gemm|xmma|nvjet|attend|rope|rms|argmax|embed|rkv|silu|bias|sample" --launch-skip 800 --launch-count 260 \
    --metrics gpu__time_duration.sum,dram__bytes_read.sum --csv \
    "${J[@]}" -cp "$jar:gpu/lib/*" \
    io.spillway.engine.cli.SpillwayCli gpu-bench --steps 2 --contexts "$context" --batches "$batch" --kv "$kv" "${draw[@]}" \
    > "$OUT/kernel-times-$kv-$context-$batch${SAMPLING:+-$SAMPLING}.csv" 2> "$OUT/kernel-times-$kv-$context-$batch${SAMPLING:+-$SAMPLING}.err"
done
