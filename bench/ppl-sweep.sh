#!/usr/bin/env bash
# Perplexity of tiny-llama on the validation text for KV methods in one mode, one run after another,
# appending "method mode ppl tokens bits_per_element kv_bytes_per_token seconds" lines to $RESULTS.
# Runs the slim engine jars of gpu/lib with the runtime of gpu/jre.tar.xz (the GPU machine has no
# Java) or, where JAVA is set, with that java binary.
# Usage: bench/ppl-sweep.sh MODE BATCH METHOD...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=$1 batch=$2; shift 2
results=${RESULTS:-/dev/null}
if [[ -z "${JAVA:-}" ]]; then
  [[ -x /tmp/jre/bin/java ]] || tar -xJf "$root/gpu/jre.tar.xz" -C /tmp
  JAVA=/tmp/jre/bin/java
fi
for m in "$@"; do
  start=$(date +%s)
  log=$(mktemp)
  "$JAVA" --add-modules jdk.incubator.vector -XX:+UseParallelGC -Xmx24g -Dspillway.home="$root" -cp "$root/gpu/lib/*" \
    io.spillway.engine.cli.SpillwayCli ppl --data "$root/datasets/tiny-llama-valid.json" --kv "$m" --kv-mode "$mode" \
    --batch "$batch" ${LIMIT:+--limit $LIMIT} >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  ppl=$(sed -n 's/^ppl=\([0-9.]*\) tokens=\([0-9]*\)$/\1 \2/p' "$log")
  bits=$(sed -n 's/^ppl: kv_bytes_per_token=\([0-9.]*\) bits_per_element=\([0-9.]*\)$/\2 \1/p' "$log")
  echo "$m $mode $ppl $bits $(( $(date +%s) - start ))" | tee -a "$results"
  rm -f "$log"
done
