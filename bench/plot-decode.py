#!/usr/bin/env python3
"""Plots decode tokens/s against context from gpu-bench and hf-decode-bench CSVs (batch 1 and the
largest batch that fits the KV budget; gpu-bench's greedy rows with CUDA graphs on), log-scaled context; the
title names the device a CSV's '# ... device NAME' line gives.

usage: python3 bench/plot-decode.py OUT.png CSV...
"""
import csv
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

out, files = sys.argv[1], sys.argv[2:]
series = {}
device = "GPU"
for f in files:
    for line in open(f):
        if line.startswith("#") and " device " in line:
            device = line.split(" device ", 1)[1].strip()
    for r in csv.DictReader(line for line in open(f) if line[0] not in "#W" and not line.startswith("gpu-bench")):
        if r["tokens_per_s"] in ("", "OOM") or r.get("graphs") == "off" or (r.get("sampling") or "greedy") != "greedy":
            continue
        which = "batch 1" if r["batch"] == "1" else ("max batch" if r["batch"] == r["max_batch"] else None)
        if which:
            key = f'{r["backend"]} {r["kv"]} KV, {which}'
            series.setdefault(key, []).append((int(r["context"]), float(r["tokens_per_s"])))
fig, ax = plt.subplots(figsize=(8, 5))
for key, pts in sorted(series.items()):
    pts.sort()
    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=key)
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("context (tokens)")
ax.set_ylabel("decode tokens/s")
ax.set_title(f"Llama-3-8B shapes, random weights, {device}: decode throughput")
ax.grid(True, which="both", alpha=0.3)
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
fig.savefig(out, dpi=110, bbox_inches="tight")
