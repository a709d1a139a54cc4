#!/usr/bin/env python3
"""Every WGSL module (and sidecar) the suites' kernels give, collected into
one folder, and two such folders compared file by file.

    python3 tests/transpile-suites/wgsl_snapshot.py take DIR OUT [--cudalens BIN]
    python3 tests/transpile-suites/wgsl_snapshot.py compare OLD NEW

`take` runs `coverage.py DIR --keep-wgsl` (which writes each kernel's WGSL
next to its source), moves what it wrote under OUT (same relative paths)
and leaves DIR as it was. `compare` lists the files that differ, appear or
disappear, and exits 1 if any does: a refactoring of the lowering that must
not change its output (issue 19, item 1: values carrying an expression
tree instead of text) is checked on the 1,956 modules this way.
"""

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def take(args):
    start = time.time() - 1
    cmd = [sys.executable, os.path.join(HERE, "coverage.py"), args.dir, "--keep-wgsl",
           "--json", args.out + ".coverage.json"]
    if args.cudalens:
        cmd += ["--cudalens", args.cudalens]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    moved = 0
    for root, _, files in os.walk(args.dir):
        for f in files:
            # `transpile --force` writes FILE.KERNEL.wgsl and FILE.KERNEL.json.
            if not (f.endswith(".wgsl") or f.endswith(".json")):
                continue
            path = os.path.join(root, f)
            if os.path.getmtime(path) < start:
                continue
            dest = os.path.join(args.out, os.path.relpath(path, args.dir))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.move(path, dest)
            moved += 1
    print(f"{moved} files under {args.out}")


def listing(top):
    return {os.path.relpath(os.path.join(r, f), top) for r, _, fs in os.walk(top) for f in fs}


def compare(args):
    old, new = listing(args.old), listing(args.new)
    changed = sorted(p for p in old & new
                     if not filecmp.cmp(os.path.join(args.old, p), os.path.join(args.new, p), shallow=False))
    for p in changed:
        print(f"changed {p}")
    for p in sorted(old - new):
        print(f"gone    {p}")
    for p in sorted(new - old):
        print(f"new     {p}")
    print(f"{len(old & new)} in both, {len(changed)} changed, {len(old - new)} gone, {len(new - old)} new")
    return 1 if changed or old != new else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("take")
    t.add_argument("dir")
    t.add_argument("out")
    t.add_argument("--cudalens")
    c = sub.add_parser("compare")
    c.add_argument("old")
    c.add_argument("new")
    args = ap.parse_args()
    if args.cmd == "take":
        take(args)
        return 0
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
