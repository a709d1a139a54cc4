#!/usr/bin/env python3
"""The table of BENCHMARKS.md's "Native comparison" from native-polybench.sh's
output: per kernel the launch bench read from the host code, native and WGSL
medians, their ratio and the output comparison; then the geometric mean.

    python3 tests/transpile-suites/native_table.py results/native-polybench-h200.txt
"""
import math
import re
import sys

rows, cur = [], None
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("== "):
        parts = line[3:].split()
        cur = {"file": parts[0], "kernel": parts[1].rstrip(":"), "launch": "", "ratio": None,
               "native": None, "wgsl": None, "compare": [], "error": None}
        rows.append(cur)
    elif cur is None:
        continue
    elif line.startswith("launch:"):
        cur["launch"] = re.sub(r"\s*\(.*", "", line.split(":", 1)[1].strip())
    elif line.startswith("ratio:"):
        m = re.search(r"native/WGSL ([\d.]+) \(native ([\d.]+) ms, WGSL ([\d.]+) ms\)", line)
        if m:
            cur["ratio"], cur["native"], cur["wgsl"] = float(m.group(1)), m.group(2), m.group(3)
    elif line.startswith("compare:"):
        cur["compare"].append(line.split(":", 1)[1].strip())
    elif line.startswith("error:") and cur["error"] is None:
        cur["error"] = line.split(":", 1)[1].strip()

print("| kernel (file) | launch (from the host code) | native (ms) | WGSL (ms) | native/WGSL | outputs |")
print("|---|---|---:|---:|---:|---|")
timed, equal = [], 0
for r in rows:
    same = r["compare"] and all(" equal " in c for c in r["compare"])
    if r["ratio"] is not None and r["error"] is None:
        timed.append(r["ratio"])
    equal += bool(same and r["error"] is None)
    if same:
        outputs = "equal"
    elif r["compare"]:
        outputs = "differ: " + "; ".join(c.split(" (")[0] for c in r["compare"] if " equal " not in c)
    else:
        outputs = "–"
    if r["error"] and "clamped" in r["error"]:
        outputs = "no time: accesses clamped (buffers not bounded by the analysis)"
    name = r["file"].split("/")[-1]
    ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "–"
    print(f"| {r['kernel']} (`{name}`) | {r['launch']} | {r['native'] or '–'} | {r['wgsl'] or '–'} | {ratio} | {outputs} |")
if timed:
    gm = math.exp(sum(math.log(x) for x in timed) / len(timed))
    print(f"\n{len(rows)} kernels; {equal} with outputs equal to native; {len(timed)} timed without error: "
          f"geometric mean native/WGSL {gm:.2f}, lowest {min(timed):.2f}, "
          f"{sum(x < 0.8 for x in timed)} below 0.80")
