#!/usr/bin/env python3
"""Issue 18, item 5: fit the register estimate (server/analysis/src/launch.rs,
`RegisterFeatures::estimate`) to nvcc's counts.

    register_fit.py [--features BIN --rw DIR]

With `--features`, the feature columns of
tests/ground-truth/h200/registers-realworld.tsv are first regenerated from
the projects' sources under DIR (checked out at the TSV's commits) with BIN,
the `register_features` example of cudalens-analysis (build it with
`cargo build --release -p cudalens-analysis --example register_features`),
and the TSV is rewritten in place. The nvcc column is never touched: it
comes from the device machine (`ncu_realworld.sh registers`).

Then the model is fitted: ordinary least squares of ln(nvcc registers) on
ln(1 + n) of each feature, over the CUDA samples' kernels only (llm.c and
Rodinia are held out), with the range the fit's 4th to 96th percentile
residual. It prints the constants, rounded as launch.rs holds them, and how
many kernels of each project the rounded range holds nvcc's count for.
"""

import math
import os
import subprocess
import sys
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
TSV = os.path.join(HERE, "..", "ground-truth", "h200", "registers-realworld.tsv")
FEATURES = ["pointers", "scalars", "calls", "loops", "wide_locals"]
# The include paths of tests/realworld/projects.toml for the projects measured.
INCLUDES = {"cuda-samples": ["Common"], "llm.c": ["."], "rodinia": ["common", "cuda/util"]}
FIT_ON = "cuda-samples"
LOW_Q, HIGH_Q = 0.04, 0.96


def read():
    comments, header, rows = [], None, []
    with open(TSV) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                comments.append(line)
            elif header is None:
                header = line.split("\t")
            elif line:
                rows.append(dict(zip(header, line.split("\t"))))
    return comments, header, rows


def regenerate(rows, binary, rw):
    by_project = defaultdict(set)
    for r in rows:
        by_project[r["project"]].add(r["file"])
    feats = {}
    for project, files in by_project.items():
        root = os.path.join(rw, project)
        args = [binary] + sorted(files)
        for inc in INCLUDES.get(project, []):
            args += ["-I", inc]
        out = subprocess.run(args, cwd=root, capture_output=True, text=True, check=True).stdout
        for line in out.splitlines()[1:]:
            c = line.split("\t")
            feats[(project, c[0], c[1], c[2])] = dict(zip(FEATURES, c[3:8]))
    missing = 0
    for r in rows:
        f = feats.get((r["project"], r["file"], r["kernel"], r["line"]))
        if f is None:
            missing += 1
            print(f"not found: {r['project']} {r['file']}:{r['line']} {r['kernel']}", file=sys.stderr)
            continue
        r.update(f)
    if missing:
        sys.exit(f"{missing} kernels not found; the TSV is left as it was")


def write(comments, header, rows):
    with open(TSV, "w") as f:
        for c in comments:
            f.write(c + "\n")
        f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(r[h] for h in header) + "\n")


def solve(a, b):
    """Gaussian elimination with partial pivoting: a x = b."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        for r in range(n):
            if r != col and m[col][col] != 0:
                k = m[r][col] / m[col][col]
                m[r] = [x - k * y for x, y in zip(m[r], m[col])]
    return [m[i][n] / m[i][i] for i in range(n)]


def design(r):
    return [1.0] + [math.log1p(int(r[f])) for f in FEATURES]


def quantile(xs, q):
    xs = sorted(xs)
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def estimate(coef, low, high, r):
    centre = math.exp(sum(c * x for c, x in zip(coef, design(r))))
    lo = min(max(math.floor(centre * low), 1), 255)
    hi = min(max(math.ceil(centre * high), lo), 255)
    return lo, hi


def main():
    comments, header, rows = read()
    if "--features" in sys.argv:
        binary = os.path.abspath(sys.argv[sys.argv.index("--features") + 1])
        rw = sys.argv[sys.argv.index("--rw") + 1]
        regenerate(rows, binary, rw)
        write(comments, header, rows)
    fit = [r for r in rows if r["project"] == FIT_ON]
    xs = [design(r) for r in fit]
    ys = [math.log(int(r["nvcc_registers"])) for r in fit]
    k = len(xs[0])
    xtx = [[sum(x[i] * x[j] for x in xs) for j in range(k)] for i in range(k)]
    xty = [sum(x[i] * y for x, y in zip(xs, ys)) for i in range(k)]
    coef = [round(c, 3) for c in solve(xtx, xty)]
    res = [y - sum(c * v for c, v in zip(coef, x)) for x, y in zip(xs, ys)]
    low = round(math.exp(quantile(res, LOW_Q)), 3)
    high = round(math.exp(quantile(res, HIGH_Q)), 3)
    print(f"INTERCEPT {coef[0]}")
    for name, c in zip(FEATURES, coef[1:]):
        print(f"PER_{name.upper()} {c}")
    print(f"LOW {low}\nHIGH {high}")
    totals = defaultdict(lambda: [0, 0, 0, 0])
    widths = []
    for r in rows:
        lo, hi = estimate(coef, low, high, r)
        n = int(r["nvcc_registers"])
        for key in (r["project"], "all", "held out" if r["project"] != FIT_ON else None):
            if key is None:
                continue
            t = totals[key]
            t[0] += lo <= n <= hi
            t[1] += 1
            t[2] += n < lo
            t[3] += n > hi
        widths.append((lo, hi))
    for key, (held, total, below, above) in totals.items():
        print(f"{key}: {held}/{total} inside, {below} below, {above} above")
    widths.sort(key=lambda w: w[1] - w[0])
    print("median range", widths[len(widths) // 2])


if __name__ == "__main__":
    main()
