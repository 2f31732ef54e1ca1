#!/usr/bin/env python3
"""Summarises bench/gpu-kernel-compare.sh's kernel-compare.csv as a Markdown table: per KV method, context and
batch (and draw, where gpu-bench --sampling measured draws other than greedy), each variant's mean decode tokens/s over
its rounds, its ratio to the baseline variant's mean, and the spread of its rounds (max / min - 1), so that a gain
can be told from the call's noise.

usage: python3 bench/compare-summary.py kernel-compare.csv [--baseline jar]
"""
import argparse
import csv
import sys
from collections import defaultdict

p = argparse.ArgumentParser()
p.add_argument("csv")
p.add_argument("--baseline", default="jar")
a = p.parse_args()

runs = defaultdict(list)
variants = []
for r in csv.DictReader(open(a.csv)):
    # Rows of jars older than gpu-bench's sampling column drew greedily.
    kv = r["kv"] if (r.get("sampling") or "greedy") == "greedy" else r["kv"] + ", " + r["sampling"]
    key = (kv, int(r["context"]), int(r["batch"]))
    runs[key + (r["variant"],)].append(float(r["tokens_per_s"]))
    if r["variant"] not in variants:
        variants.append(r["variant"])
if a.baseline not in variants:
    sys.exit(f"no rows of baseline variant {a.baseline!r} in {a.csv}; variants: {', '.join(variants)}")
others = [v for v in variants if v != a.baseline]


def mean(xs):
    return sum(xs) / len(xs)


def spread(xs):
    return max(xs) / min(xs) - 1


print("| kv | context | batch | " + a.baseline + " tok/s (spread) | "
      + " | ".join(f"{v} tok/s (spread) | {v} / {a.baseline}" for v in others) + " |")
print("|---|---|---|---|" + "---|---|" * len(others))
for kv, context, batch in sorted({k[:3] for k in runs}):
    base = runs.get((kv, context, batch, a.baseline))
    if not base:
        continue
    cells = [f"{mean(base):.1f} ({spread(base):.1%})"]
    for v in others:
        xs = runs.get((kv, context, batch, v))
        cells += [f"{mean(xs):.1f} ({spread(xs):.1%})", f"{mean(xs) / mean(base):.3f}x"] if xs else ["—", "—"]
    print(f"| {kv} | {context} | {batch} | " + " | ".join(cells) + " |")
