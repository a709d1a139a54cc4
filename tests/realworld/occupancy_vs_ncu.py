#!/usr/bin/env python3
"""Issue 18: is the theoretical occupancy cudalens states for a real launch
the one ncu measures? Reads what `device_truth.sh` brought back (untarred):

    python3 tests/realworld/occupancy_vs_ncu.py TRUTH_DIR [--rows]
        [--check DIR --cudalens BIN]

Truth: every kernel launch ncu profiled (PolyBench-ACC programs: the first
launch of each kernel, `polybench/<program>.csv`; llm.c dev/cuda programs:
the first launches of each kernel version, `llmc/<program>-<v>.details.csv`),
with its block size and ncu's "Theoretical Occupancy".

cudalens: `check --format json` over the same sources, with nvcc's register
counts (`registers/<project>.nvcc.json`) and without (`.estimate.json`). A
launch is matched to the kernel's launch in the JSON that has the same block
size; a kernel whose launches in the source have no block size cudalens could
resolve is matched to its first launch.

Counted per ncu launch:
- exact: cudalens states one occupancy (block from the code, registers
  from nvcc) and it equals ncu's;
- stated but different;
- bounded: the launch passes dynamic shared memory of a run-time size, so
  cudalens states an upper bound (and a range down to one block per SM);
  counted when the range contains ncu's;
- assumed: the block size is a run-time value (or the launch is in code
  cudalens does not see), so cudalens says the number is an assumption;
- without nvcc: the estimate's occupancy range contains ncu's.

With `--check DIR` (`<project>.nvcc.json` from another cudalens build, run
here without nvcc), the launches (blocks, what is resolved) come from that
build and the registers from the device run's nvcc counts: the occupancy
that build states with nvcc is recomputed by `cudalens occupancy` (the same
calculator) from nvcc's registers and static shared memory.
"""
import argparse
import csv
import glob
import io
import json
import os
import re
import subprocess


def ncu_launches(path):
    """(kernel, block threads, theoretical occupancy %) per profiled launch."""
    text = open(path, encoding="utf-8", errors="replace").read()
    start = text.find('"ID"')
    if start < 0:
        return []
    launches = {}
    for r in csv.DictReader(io.StringIO(text[start:])):
        key = r["ID"]
        k = launches.setdefault(key, {"kernel": r["Kernel Name"].split("(")[0].split("<")[0].strip(),
                                      "block": r["Block Size"], "occupancy": None, "registers": None})
        if r["Metric Name"] == "Theoretical Occupancy":
            k["occupancy"] = float(r["Metric Value"].replace(",", ""))
        if r["Metric Name"] == "Registers Per Thread":
            k["registers"] = int(float(r["Metric Value"].replace(",", "")))
    out = []
    for k in launches.values():
        dims = [int(d) for d in re.findall(r"\d+", k["block"])]
        if k["occupancy"] is None or not dims:
            continue
        out.append((k["kernel"], dims, k["occupancy"], k["registers"]))
    return out


def cudalens_kernels(path):
    """{(file basename, kernel name): [kernel JSON, ...]}"""
    out = {}
    if not os.path.exists(path):
        return out
    for f in json.load(open(path))["files"]:
        for k in f.get("kernels", []):
            out.setdefault((os.path.basename(f["path"]), k["name"]), []).append(k)
    return out


def pick_launch(kernels, dims):
    """The kernel's launch with ncu's block size, else its first launch."""
    want = (dims + [1, 1, 1])[:3]
    first = None
    for k in kernels:
        for launch in k.get("launches", []):
            if first is None:
                first = (k, launch)
            if launch.get("block") == want:
                return k, launch
    return first if first else ((kernels[0], None) if kernels else (None, None))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--rows", action="store_true", help="print every launch")
    ap.add_argument("--check", help="launches from this directory's <project>.nvcc.json")
    ap.add_argument("--cudalens", default="cudalens", help="for --check: the calculator")
    args = ap.parse_args()
    sources = [
        ("PolyBench-ACC", "polybench-acc", sorted(glob.glob(os.path.join(args.dir, "polybench", "*.csv"))),
         lambda p: os.path.basename(p)[: -len(".csv")] + ".cu"),
        ("llm.c dev/cuda", "llm.c", sorted(glob.glob(os.path.join(args.dir, "llmc", "*.details.csv"))),
         lambda p: re.sub(r"-\d+\.details\.csv$", ".cu", os.path.basename(p))),
        # A sample's kernels live in any of its folder's files: matched by name.
        ("CUDA samples", "cuda-samples", sorted(glob.glob(os.path.join(args.dir, "samples", "*.details.csv"))),
         lambda p: None),
    ]
    print("| project | launches ncu profiled | cudalens states the block (from the code) | stated occupancy equals ncu's | run-time dynamic shared memory: range contains ncu's | block a run-time value: stated as assumed | without nvcc: range contains ncu's |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    total = [0] * 7
    rows = []
    for label, project, files, source_of in sources:
        exact = cudalens_kernels(os.path.join(args.dir, "registers", f"{project}.nvcc.json"))
        estimate = cudalens_kernels(os.path.join(args.dir, "registers", f"{project}.estimate.json"))
        if args.check:
            exact = with_nvcc_registers(
                cudalens_kernels(os.path.join(args.check, f"{project}.nvcc.json")), exact, args.cudalens)
            estimate = cudalens_kernels(os.path.join(args.check, f"{project}.nvcc.json"))
        seen = set()
        n = [0] * 7
        for path in files:
            src = source_of(path)
            for kernel, dims, occ, regs in ncu_launches(path):
                src = source_of(path)
                if src is None:
                    files = {f for (f, k), ks in list(exact.items()) + list(estimate.items())
                             if k == kernel and any(x.get("range") for x in ks)}
                    src = files.pop() if len(files) == 1 else None
                key = (src, kernel, tuple(dims))
                if key in seen:  # one row per kernel and block size
                    continue
                seen.add(key)
                if (src, kernel) not in exact and (src, kernel) not in estimate:
                    continue  # a library's kernel (cuBLAS), not in the sources
                n[0] += 1
                k, launch = pick_launch(exact.get((src, kernel), []), dims)
                ke, le = pick_launch(estimate.get((src, kernel), []), dims)
                verdict = "not found"
                if k is not None and launch is not None and launch.get("occupancy") is not None:
                    from_code = launch.get("block") == (dims + [1, 1, 1])[:3] and k.get("block_source") in ("launch", "template")
                    stated = 100 * launch["occupancy"]
                    lo, hi = (100 * x for x in launch.get("occupancy_range") or [launch["occupancy"]] * 2)
                    if from_code and launch.get("dynamic_smem_unresolved"):
                        n[1] += 1
                        if lo - 0.5 <= occ <= hi + 0.5:
                            n[5] += 1
                            verdict = f"bounded: {lo:.1f}-{hi:.1f}% contains it"
                        else:
                            verdict = f"bounded: {lo:.1f}-{hi:.1f}% misses it"
                    elif from_code:
                        n[1] += 1
                        if abs(stated - occ) < 0.5:
                            n[2] += 1
                            verdict = "equal"
                        else:
                            verdict = f"differs: {stated:.1f}% (registers {k.get('registers')}, ncu {regs})"
                    else:
                        n[3] += 1
                        verdict = f"assumed block {launch.get('block')} ({k.get('block_source')})"
                if le is not None and le.get("occupancy_range") and from_code_ok(ke, le, dims):
                    n[6] += 1
                    lo, hi = le["occupancy_range"]
                    if 100 * lo - 0.5 <= occ <= 100 * hi + 0.5:
                        n[4] += 1
                rows.append(f"{label}\t{src}\t{kernel}\t{'x'.join(map(str, dims))}\tncu {occ:.1f}% ({regs} regs)\t{verdict}")
        for i in range(7):
            total[i] += n[i]
        print(f"| {label} | {n[0]} | {n[1]} | {n[2]} | {n[5]} | {n[3]} | {n[4]}/{n[6]} |")
    print(f"| all | {total[0]} | {total[1]} | {total[2]} | {total[5]} | {total[3]} | {total[4]}/{total[6]} |")
    if args.rows:
        print("\n".join(rows))


def with_nvcc_registers(launches_from, registers_from, cudalens):
    """`launches_from`'s kernels with each launch's occupancy recomputed at
    the register count (and static shared memory) of `registers_from`."""
    out = {}
    for key, kernels in launches_from.items():
        measured = [k for k in registers_from.get(key, []) if not k.get("registers_estimated")]
        if not measured:
            # A header's kernel: nvcc compiled it in the file that includes it.
            measured = [k for (f, name), ks in registers_from.items() if name == key[1]
                        for k in ks if not k.get("registers_estimated")]
            if len({k["registers"] for k in measured}) != 1:
                measured = []
        if not measured:
            continue
        regs, smem = measured[0]["registers"], measured[0].get("static_smem") or 0
        fixed = []
        for k in kernels:
            k = dict(k, registers=regs, registers_estimated=False)
            launches = []
            for l in k.get("launches", []):
                l = dict(l)
                block = "x".join(str(d) for d in l["block"])
                r = subprocess.run([cudalens, "occupancy", "--block", block, "--regs", str(regs),
                                    "--smem-static", str(smem), "--smem-dynamic", str(l.get("dynamic_smem") or 0),
                                    "--json"], capture_output=True, text=True)
                try:
                    occ = json.loads(r.stdout)["occupancy"]
                except (ValueError, KeyError):
                    occ = None
                lo = (l.get("occupancy_range") or [occ, occ])[0]
                l["occupancy"] = occ
                if occ is not None:
                    l["occupancy_range"] = [min(lo, occ) if l.get("dynamic_smem_unresolved") else occ, occ]
                launches.append(l)
            k["launches"] = launches
            fixed.append(k)
        out[key] = fixed
    return out


def from_code_ok(kernel, launch, dims):
    return launch.get("block") == (dims + [1, 1, 1])[:3] and kernel.get("block_source") in ("launch", "template")


if __name__ == "__main__":
    main()
