#!/usr/bin/env bash
# PPL parity, GPU vs CPU on the same windows: full text in all mode; ablations to locate differences.
set -uo pipefail
source bench/gpu-env.sh
J+=(-cp "gpu/lib/*")
M=io.spillway.engine.cli.SpillwayCli
P=(ppl --data datasets/tiny-llama-valid.json)
run() { echo "== $*"; timeout 200 "${J[@]}" $M "${P[@]}" "$@" 2>&1 | tr '\r' '\n' | grep -av '^ppl \[' | grep -a "^ppl="; }
for kv in rotatekv2:sinks=0 rotatekv2:reorder=off; do for b in cuda cpu; do run --backend $b --kv $kv --kv-mode all --limit 24; done; done
run --backend cuda --kv rotatekv2 --kv-mode all
run --backend cpu --kv rotatekv2 --kv-mode all
"${J[@]}" $M gpu-bench --contexts 1024 --batches 1 --steps 2 2>&1 | grep "rkv_attend"
