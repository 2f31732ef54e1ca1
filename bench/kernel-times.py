#!/usr/bin/env python3
"""Summarises bench/gpu-kernel-times.sh's Nsight Compute CSVs as a Markdown table: per kernel, its calls, mean and
total microseconds, and the DRAM bytes it read per call and per second. GEMVs and GEMMs are also keyed by grid and
by the megabytes they read (two significant figures), which tells a layer's projections apart. The profile covers
260 consecutive kernels, about one decode step, so per-layer kernels show a few calls more than the model's layers.

usage: python3 bench/kernel-times.py kernel-times-*.csv
"""
import csv
import sys
from collections import defaultdict

if len(sys.argv) < 2:
    sys.exit(__doc__)
for path in sys.argv[1:]:
    kernels = {}
    with open(path) as f:
        for r in csv.DictReader(line for line in f if line.startswith('"')):
            key = (r["ID"], r["Kernel Name"], r["Grid Size"])
            kernels.setdefault(key, {})[r["Metric Name"]] = float(r["Metric Value"].replace(",", ""))
    if not kernels:
        sys.exit(f"{path}: no kernel rows (see the .err file beside it)")
    by_name = defaultdict(lambda: [0, 0.0, 0.0])
    for (_, name, grid), m in kernels.items():
        mb = m["dram__bytes_read.sum"] / 1e6
        entry = by_name[f"{name} {grid} ~{float(f'{mb:.2g}'):g} MB" if "gem" in name or "xmma" in name or "nvjet" in name else name]
        entry[0] += 1
        entry[1] += m["gpu__time_duration.sum"] / 1000
        entry[2] += m["dram__bytes_read.sum"]
    total = sum(e[1] for e in by_name.values())
    print(f"\n{path}: {len(kernels)} kernels, {total:.1f} us")
    print("| kernel | calls | mean us | total us | DRAM MB read per call | GB/s |")
    print("|---|---|---|---|---|---|")
    for name, (calls, us, read) in sorted(by_name.items(), key=lambda e: -e[1][1]):
        print(f"| {name} | {calls} | {us / calls:.2f} | {us:.1f} | {read / calls / 1e6:.2f} | {read / us / 1e3:.0f} |")
