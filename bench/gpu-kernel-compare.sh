#!/usr/bin/env bash
# Kernel sources side by side in one call on the GPU machine (set OUT; gpu/ packed by bench/make-jre.sh):
# gpu-bench with each folder of VARIANTS (name=folder, each holding common.cuh, llama.cu and rotatekv.cu,
# e.g. a commit's copies) and with the jar's own kernels ("jar"), taking turns for ROUNDS rounds so that
# drift shows as spread. A folder holding an llm-engine.jar instead (a commit's build) runs that jar, its Java
# code and kernels both; a jvm.options file beside it adds its lines (-D flags) to that variant's java. Rows go
# to $OUT/kernel-compare.csv prefixed by the variant's name and the round.
# Usage: VARIANTS="old=gpu/old-kernels" bench/gpu-kernel-compare.sh [gpu-bench options]
set -uo pipefail
: "${VARIANTS:?name=folder ...}" "${OUT:?output folder}"
source bench/gpu-env.sh
[ -s "$OUT/kernel-compare.csv" ] || echo "variant,round,backend,kv,graphs,context,batch,max_batch,tokens_per_s,step_ms,gpu_mem_gib,kv_gib,kv_bytes_per_token,achieved_gb_s,bandwidth_fraction,sampling" > "$OUT/kernel-compare.csv"
for round in $(seq "${ROUNDS:-2}"); do
  for variant in $VARIANTS jar=; do
    name=${variant%%=*} dir=${variant#*=} flag=(-cp "gpu/lib/*")
    if [ -f "$dir/llm-engine.jar" ]; then
      flag=(-cp "$dir/llm-engine.jar:gpu/lib/*")
      [ -f "$dir/jvm.options" ] && mapfile -t -O 2 flag < <(grep -v '^[[:space:]]*$' "$dir/jvm.options")
    elif [ -n "$dir" ]; then
      flag+=(-Dspillway.cuda.source="$dir")
    fi
    "${J[@]}" "${flag[@]}" io.spillway.engine.cli.SpillwayCli gpu-bench "$@" 2>&1 | grep "^cuda" | sed "s/^/$name,$round,/" | tee -a "$OUT/kernel-compare.csv"
  done
done
