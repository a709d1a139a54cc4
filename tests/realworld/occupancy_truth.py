#!/usr/bin/env python3
"""Issue 18, item 5: does the register estimate's range contain nvcc's count
on real kernels, and how far off is it? Reads what
`ncu_realworld.sh registers` wrote on the device machine (two `check --format
json` runs per project: --nvcc off and --nvcc auto):

    python3 tests/realworld/occupancy_truth.py DIR [--misses]

For each kernel (file, name) that nvcc measured, the estimate's
`registers_range` [low, high] is compared with nvcc's count (the largest over
the kernel's template instantiations), and each launch's occupancy range
with the occupancy at nvcc's count. Prints one row per project and the total.
"""
import argparse
import json
import os


def kernels(path):
    out = {}
    with open(path) as fh:
        report = json.load(fh)
    for f in report["files"]:
        for k in f.get("kernels", []):
            out[(f["path"], k["name"], k["range"]["start"]["line"])] = k
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--misses", action="store_true")
    args = ap.parse_args()
    total = dict(kernels=0, inside=0, below=0, above=0, launches=0, occ_inside=0, occ_equal_low=0)
    print("| project | kernels nvcc measured | range contains nvcc's count | nvcc below the range | nvcc above it | launches | occupancy range contains the exact one |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    misses = []
    for name in sorted({f.split(".")[0] if not f.startswith("llm.c") else "llm.c" for f in os.listdir(args.dir) if f.endswith(".nvcc.json")}):
        if not os.path.exists(os.path.join(args.dir, f"{name}.estimate.json")):
            continue
        est = kernels(os.path.join(args.dir, f"{name}.estimate.json"))
        exact = kernels(os.path.join(args.dir, f"{name}.nvcc.json"))
        row = dict(kernels=0, inside=0, below=0, above=0, launches=0, occ_inside=0, occ_equal_low=0)
        for key, k in exact.items():
            if k["registers_estimated"] or key not in est:
                continue
            e = est[key]
            lo, hi = e["registers_range"]
            r = k["registers"]
            row["kernels"] += 1
            if lo <= r <= hi:
                row["inside"] += 1
            elif r < lo:
                row["below"] += 1
                misses.append((name, key, lo, hi, r))
            else:
                row["above"] += 1
                misses.append((name, key, lo, hi, r))
            for le, lx in zip(e["launches"], k["launches"]):
                if lx.get("occupancy") is None or le.get("occupancy") is None:
                    continue
                row["launches"] += 1
                rng = le.get("occupancy_range") or [le["occupancy"], le["occupancy"]]
                if min(rng) - 1e-9 <= lx["occupancy"] <= max(rng) + 1e-9:
                    row["occ_inside"] += 1
        for k2 in total:
            total[k2] += row[k2]
        pct = lambda a, b: f"{a}/{b} ({100 * a / b:.0f}%)" if b else "–"
        print(f"| {name} | {row['kernels']} | {pct(row['inside'], row['kernels'])} | {row['below']} | {row['above']} | "
              f"{row['launches']} | {pct(row['occ_inside'], row['launches'])} |")
    pct = lambda a, b: f"{a}/{b} ({100 * a / b:.0f}%)" if b else "–"
    print(f"| all | {total['kernels']} | {pct(total['inside'], total['kernels'])} | {total['below']} | {total['above']} | "
          f"{total['launches']} | {pct(total['occ_inside'], total['launches'])} |")
    if args.misses:
        for name, (path, kernel, line), lo, hi, r in sorted(misses, key=lambda m: m[4] - m[3]):
            print(f"{name} {path}:{line} {kernel}: estimate {lo}-{hi}, nvcc {r}")


if __name__ == "__main__":
    main()
