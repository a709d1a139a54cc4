#!/usr/bin/env python3
"""Prints the launch `cudalens bench` reads from each kernel's host code
(`bench --print-launch`: grid, block, scalar arguments, and what stays
assumed), for every kernel of a suite in suites.toml that transpiles.
Nothing runs on a GPU.

    python3 tests/transpile-suites/host-launch.py DIR [--only NAME]
        [--cudalens BIN] [--tsv OUT] [--markdown]

DIR holds each suite checked out at its commit as DIR/<name> (as for
coverage.py). Output: TSV (file, kernel, grid, block, scalars,
assumptions, buffers), one row per kernel, on stdout or OUT; `--markdown` prints a
Markdown table instead. Grids and blocks are `X,Y,Z` (`?` where the host
code does not resolve them); scalars `name=value` separated by `;` (those
bench would assume are marked `name=value*`); buffers `name=elements`
(what the kernel can index at that launch, `?` where the analysis cannot
bound it: bench then sizes it from grid × block).
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def kernels_of(suite, sdir, binary):
    """(compiled file, kernel) for every kernel that transpiles."""
    base = [binary, "transpile", "--check", "--included", "--format", "json", "--all-features"]
    for inc in suite.get("include", []):
        base += ["-I", os.path.join(sdir, inc)]
    paths = []
    for p in suite["paths"]:
        full = os.path.join(sdir, p)
        if os.path.isdir(full):
            paths += sorted(glob.glob(os.path.join(full, "**", "*.cu"), recursive=True))
        else:
            paths += sorted(glob.glob(full))
    out, seen = [], set()
    for path in paths:
        proc = subprocess.run(base + [path], capture_output=True, text=True, timeout=600)
        try:
            records = json.loads(proc.stdout) if proc.stdout.strip() else []
        except json.JSONDecodeError:
            continue
        for r in records:
            key = (r["defined_in"], r["kernel"])
            if r["ok"] and key not in seen:
                seen.add(key)
                out.append((r["file"], r["kernel"]))
    return out


def dims(d):
    return "?" if d is None else ",".join(str(v) for v in d)


def launch_of(binary, suite, sdir, file, kernel):
    cmd = [binary, "bench", file, "--kernel", kernel, "--print-launch", "--json"]
    for inc in suite.get("include", []):
        cmd += ["-I", os.path.join(sdir, inc)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--only", default="polybench-acc")
    ap.add_argument("--cudalens", default=os.path.join(ROOT, "target", "debug", "cudalens"))
    ap.add_argument("--tsv")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    with open(os.path.join(HERE, "suites.toml"), "rb") as f:
        suites = [s for s in tomllib.load(f)["suite"] if s["name"] == args.only]
    rows = []
    for s in suites:
        sdir = os.path.join(args.dir, s["name"])
        for file, kernel in kernels_of(s, sdir, args.cudalens):
            r = launch_of(args.cudalens, s, sdir, file, kernel)
            rel = os.path.relpath(file, sdir)
            if "error" in r:
                rows.append((rel, kernel, "?", "?", "", "error: " + r["error"], ""))
                continue
            scalars = ";".join(
                f"{x['name']}={x['value']:g}" + ("" if x["origin"] in ("host", "--arg") else "*")
                for x in r["scalars"]
            )
            buffers = ";".join(
                f"{b['name']}={'?' if b['elements'] is None else b['elements']}"
                for b in r["buffers"]
            )
            rows.append((rel, kernel, dims(r["grid"]), dims(r["block"]), scalars,
                         " | ".join(r["assumptions"]), buffers))
    if args.markdown:
        print("| file | kernel | grid | block | scalars | assumed | buffers |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            cells = [c.replace("|", "\\|") for c in r]
            print("| " + " | ".join(f"`{c}`" if i < 2 else c for i, c in enumerate(cells)) + " |")
    else:
        out = open(args.tsv, "w") if args.tsv else sys.stdout
        print("file\tkernel\tgrid\tblock\tscalars\tassumptions\tbuffers", file=out)
        for r in rows:
            print("\t".join(c.replace("\t", " ") for c in r), file=out)
    resolved = sum(1 for r in rows if "?" not in (r[2] + r[3]))
    bounded = sum(1 for r in rows if r[6] and "=?" not in r[6])
    print(f"{resolved} of {len(rows)} kernels: grid and block resolved from the host code; "
          f"{bounded} with every buffer bounded by the analysis", file=sys.stderr)


if __name__ == "__main__":
    main()
