#!/usr/bin/env python3
"""Runs `cudalens bench --native` on every kernel of the public suites in
suites.toml that transpiles: the WGSL run and the same kernel compiled by
nvcc, on the same inputs, grid, block and arguments; prints a Markdown
table (native and WGSL medians, their ratio, whether the outputs agree) and
the geometric mean of native/WGSL. Needs nvcc and an NVIDIA GPU (the
device machine); elsewhere every row says `skipped`.

    python3 tests/transpile-suites/native.py DIR [--cudalens BIN]
        [--only NAME] [--match TEXT] [--limit N] [--scratch DIR]
        [--json OUT] [--deadline UNIX_TIME] [-- BENCH ARGS...]

DIR holds each suite checked out at its commit as DIR/<name> (as for
coverage.py). Each suite is copied to a scratch directory first (default:
a temporary one): `bench` writes its history and the native harness under
the workspace, and the checkouts stay untouched. The launch is what `bench`
derives (the file's own `<<<>>>` when it resolves, else its default size);
arguments after `--` go to every `bench` (`--iterations 50`,
`--nvcc-flag=-arch=sm_90`, ...). A kernel counts as compared when its
outputs agree within bench's tolerance (`--tolerance`, default 1e-4).
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


sys.path.insert(0, HERE)
from coverage import build_flags  # noqa: E402  (the same per-program flags coverage.py counts with)


def transpiled_kernels(suite, sdir, binary):
    """(compiled file, kernel, the program's own -D/-I flags) for every
    kernel that transpiles with all features, as coverage.py compiles it."""
    base = [binary, "transpile", "--check", "--included", "--format", "json", "--all-features"]
    for inc in suite.get("include", []):
        base += ["-I", os.path.join(sdir, inc)]
    for d in suite.get("defines", []):
        base += ["-D", d]
    import glob

    paths = []
    for p in suite["paths"]:
        full = os.path.join(sdir, p)
        paths += sorted(glob.glob(full)) if suite.get("glob") else [full]
    # One compilation per (defining file, kernel): the first that passes,
    # but an includer (a `.cu` that is not the defining header) over the
    # header itself, since nvcc compiles a header's kernels only with what
    # its includer defines first (graphB+'s `kernels.h` alone lacks `node`).
    chosen = {}
    order = []
    for path in paths:
        if not os.path.exists(path):
            continue
        own = build_flags(path) if suite.get("build_flags") else []
        proc = subprocess.run(base + own + [path], capture_output=True, text=True, timeout=600)
        try:
            records = json.loads(proc.stdout) if proc.stdout.strip() else []
        except json.JSONDecodeError:
            continue
        for r in records:
            if not r["ok"]:
                continue
            key = (r["defined_in"], r["kernel"])
            includer = r["file"] != r["defined_in"] and r["file"].endswith(".cu")
            if key not in chosen:
                order.append(key)
                chosen[key] = (r["file"], r["kernel"], own, includer)
            elif includer and not chosen[key][3]:
                chosen[key] = (r["file"], r["kernel"], own, includer)
    return [chosen[k][:3] for k in order]


# One kernel's bench (WGSL run, nvcc, native run) past this is reported as a
# timeout (NATIVE_BENCH_TIMEOUT_S overrides it, for sweeps over whole suites).
BENCH_TIMEOUT_S = int(os.environ.get("NATIVE_BENCH_TIMEOUT_S", "180"))


def bench(binary, suite, sdir, file, kernel, own, extra):
    cmd = [binary, "bench", file, "--kernel", kernel, "--native", "--json"]
    for inc in suite.get("include", []):
        cmd += ["-I", os.path.join(sdir, inc)]
    for d in suite.get("defines", []):
        cmd += ["-D", d]
    cmd += own + extra
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    try:
        value = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = (proc.stderr or "").strip().splitlines()[-1:] or ["?"]
        return {"status": "bench failed", "detail": tail[0][:200]}
    row = {"wgsl_ms": value.get("timing", {}).get("median_ms")}
    native = value.get("native")
    if native is None:
        row["status"] = "skipped (no nvcc/device)" if "native:    skipped" in proc.stderr else "not run"
        row["detail"] = (proc.stderr or "").strip().splitlines()[-1:][0][:200] if proc.stderr.strip() else ""
        return row
    if "error" in native:
        row["status"] = "native failed"
        # The first line says which step failed; nvcc's first error follows.
        lines = native["error"].strip().splitlines()
        # (A run's failure is the harness's own line: `cudalens native:
        # launch(): cudaErrorIllegalAddress (...)`.)
        first_error = next((l for l in lines[1:] if "error" in l.lower()), lines[1] if len(lines) > 1 else "")
        row["detail"] = (lines[0] + " " + first_error.strip())[:300]
        return row
    if "Unavailable" in native:
        row["status"] = "skipped"
        row["detail"] = native["Unavailable"]
        return row
    m = native["Measured"]
    row["native_ms"] = m["timing"]["median_ms"]
    row["device"] = m["timing"]["device"]
    bad = [o for o in m["outputs"] if o["mismatches"] > 0]
    row["outputs"] = len(m["outputs"])
    # A run that compared no buffer shows nothing about correctness.
    row["status"] = "differ" if bad else "equal" if m["outputs"] else "not compared"
    if bad:
        o = bad[0]
        row["detail"] = f"{o['name']}: {o['mismatches']} values differ, first {o['first_mismatch']}"
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--cudalens", default=os.path.join(ROOT, "target", "release", "cudalens"))
    ap.add_argument("--only")
    ap.add_argument("--match", help="only kernels whose file path or name contains TEXT")
    ap.add_argument("--limit", type=int, default=0, help="at most N kernels per suite")
    ap.add_argument("--scratch", help="where the suites are copied (default: a temporary directory)")
    ap.add_argument("--json")
    ap.add_argument("--deadline", type=float, default=0,
                    help="Unix time after which no further kernel is started (the table covers those run)")
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = ap.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    args.extra = extra
    binary = os.path.abspath(args.cudalens)
    with open(os.path.join(HERE, "suites.toml"), "rb") as f:
        suites = tomllib.load(f)["suite"]
    scratch = args.scratch or tempfile.mkdtemp(prefix="cudalens-native-")
    rows = []
    for s in suites:
        if args.only and s["name"] != args.only:
            continue
        src = os.path.join(args.dir, s.get("dir", s["name"]))
        if not os.path.isdir(src):
            print(f"skipped {s['name']}: not checked out", file=sys.stderr)
            continue
        sdir = os.path.join(scratch, s["name"])
        if not os.path.isdir(sdir):
            shutil.copytree(src, sdir, symlinks=True, ignore=shutil.ignore_patterns(".git"))
            # The workspace root for bench's history and harness.
            os.makedirs(os.path.join(sdir, ".git"), exist_ok=True)
        kernels = transpiled_kernels(s, sdir, binary)
        if args.match:
            kernels = [k for k in kernels if args.match in k[0] or args.match in k[1]]
        if args.limit:
            kernels = kernels[: args.limit]
        for i, (file, kernel, own) in enumerate(kernels):
            if args.deadline and time.time() > args.deadline:
                print(f"deadline: {len(kernels) - i} kernels of {s['name']} not run", file=sys.stderr)
                break
            print(f"[{s['name']} {i + 1}/{len(kernels)}] {os.path.relpath(file, sdir)} {kernel}", file=sys.stderr)
            row = bench(binary, s, sdir, file, kernel, own, args.extra)
            row.update({"suite": s["name"], "file": os.path.relpath(file, sdir), "kernel": kernel})
            print(f"    {json.dumps(row)}", file=sys.stderr, flush=True)
            rows.append(row)

    print("| Suite | File | Kernel | native ms | WGSL ms | native/WGSL | outputs |")
    print("|---|---|---|---:|---:|---:|---|")
    ratios = []
    for r in rows:
        n, w = r.get("native_ms"), r.get("wgsl_ms")
        ratio = n / w if n and w else None
        if ratio and r["status"] == "equal":
            ratios.append(ratio)
        fmt = lambda v: f"{v:.4f}" if isinstance(v, (int, float)) else "–"
        status = r["status"] + (f" ({r['detail']})" if r.get("detail") and r["status"] != "equal" else "")
        print(f"| {r['suite']} | {r['file']} | {r['kernel']} | {fmt(n)} | {fmt(w)} | {fmt(ratio)} | {status} |")
    equal = sum(r["status"] == "equal" for r in rows)
    print(f"\n{equal} of {len(rows)} kernels: outputs equal to native CUDA.")
    if ratios:
        gmean = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        print(f"Geometric mean native/WGSL over those: {gmean:.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}).")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
