#!/usr/bin/env bash
# transformers (sdpa, fp16 cache) at the same shapes, then the plot with this session's gpu-bench CSV.
set -uo pipefail
PYTHONUNBUFFERED=1 timeout 400 python3 bench/hf-decode-bench.py 2>&1 | grep -v Warning | tee $OUT/hf-bench.csv
python3 bench/plot-decode.py $OUT/decode-tokens-per-s.png ${CUDA_CSV:-gpu/csv/cuda-bench-rkv.csv} $OUT/hf-bench.csv 2>&1 | tail -3
