#!/usr/bin/env python3
"""Runs `cudalens check` on the public CUDA projects of projects.toml, as a
user of each would (with their build's include paths and defines), and
prints one Markdown row per project: files, kernels found against nvcc's
list (kernels/<name>.txt, made on the device by nvcc_kernels.py),
diagnostics by severity, the slowest file, total time and peak memory.

    python3 tests/realworld/conformance.py DIR [--cudalens BIN] [--only NAME]
        [--json OUT] [--details]

DIR holds each project checked out at its commit as DIR/<name> (a project
that is absent is skipped, as in CI). Exit status 1 when any project breaks
the front end's bar: an error-severity diagnostic, a kernel nvcc compiles
that cudalens does not find (below 99%), a file over 2 s, a project over
60 s or 1 GB.
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

BAR = {"kernels_found": 0.99, "file_s": 2.0, "project_s": 60.0, "rss_mb": 1024}


def base_name(name):
    """`void ns::kernel<T>(T*)` -> `kernel` (how kernels are compared: by
    name, as cu++filt prints them or cudalens reports them)."""
    depth, out = 0, []
    for ch in name:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "(" and depth == 0:
            break
        elif depth == 0:
            out.append(ch)
    words = "".join(out).split("::")[-1].split()
    return words[-1] if words else ""


def resolve(project_dir, root, path):
    """A manifest path: relative to the project, or `@other/...`."""
    if path.startswith("@"):
        other, _, rest = path[1:].partition("/")
        return os.path.join(root, other, rest)
    return os.path.join(project_dir, path)


def run_project(p, root, binary):
    pdir = os.path.join(root, p.get("dir", p["name"]))
    args = [binary, "check", "--format", "json", "--timings"]
    args += [resolve(pdir, root, c) for c in p["check"]]
    for inc in p.get("include", []):
        args += ["-I", resolve(pdir, root, inc)]
    for d in p.get("defines", []):
        args += ["-D", d]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    # /usr/bin/time gives this child's own peak; RUSAGE_CHILDREN only the
    # largest child so far.
    timer = ["/usr/bin/time", "-f", "%M"] if os.path.exists("/usr/bin/time") else []
    proc = subprocess.run(timer + args, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    stderr = proc.stderr.splitlines()
    if timer and stderr and stderr[-1].strip().isdigit():
        rss_kb = int(stderr.pop().strip())
    else:
        rss_kb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    report = json.loads(proc.stdout) if proc.stdout.strip() else {"files": [], "skipped": []}
    timings = []
    for line in stderr:
        m = re.match(r"timing:\s+([\d.]+) ms\s+(.*)", line)
        if m:
            timings.append((float(m.group(1)) / 1000.0, os.path.relpath(m.group(2), pdir)))
    found = {}
    severities = {"error": 0, "warning": 0, "info": 0, "hint": 0}
    codes = {}
    errors = []
    for f in report["files"]:
        for k in f.get("kernels", []):
            if k.get("file"):  # defined in an included file, launched here
                continue
            found.setdefault(base_name(k["name"]), os.path.relpath(f["path"], pdir))
        for d in f["diagnostics"]:
            severities[d["severity"]] = severities.get(d["severity"], 0) + 1
            codes[(d["severity"], d["code"])] = codes.get((d["severity"], d["code"]), 0) + 1
            if d["severity"] == "error":
                line = d["range"]["start"]["line"] + 1
                errors.append(f"{os.path.relpath(f['path'], pdir)}:{line} {d['code']}: {d['message']}")
    truth_file = os.path.join(HERE, "kernels", p["name"] + ".txt")
    truth = None
    if os.path.exists(truth_file):
        with open(truth_file) as fh:
            truth = sorted({l.split("\t")[0].strip() for l in fh if l.strip() and not l.startswith("#")})
        truth = [k for k in truth if k not in p.get("toolkit_kernels", [])]
    return {
        "name": p["name"],
        "commit": p["commit"][:10],
        "exit": proc.returncode,
        "files": len(report["files"]),
        "skipped": report.get("skipped", []),
        "kernels_found": sorted(found),
        "truth": truth,
        "truth_kind": p.get("truth"),
        "missing": [k for k in (truth or []) if k not in found],
        "severities": severities,
        "codes": {f"{s}:{c}": n for (s, c), n in sorted(codes.items())},
        "errors": errors,
        "seconds": elapsed,
        "slowest": sorted(timings, reverse=True)[:3],
        "rss_mb": rss_kb / 1024.0,
    }


def failures(r):
    out = []
    if r["severities"].get("error"):
        out.append(f"{r['severities']['error']} error diagnostics")
    if r["truth"]:
        share = 1 - len(r["missing"]) / len(r["truth"])
        if share < BAR["kernels_found"]:
            out.append(f"kernels found {share:.1%}")
    if r["slowest"] and r["slowest"][0][0] > BAR["file_s"]:
        out.append(f"slowest file {r['slowest'][0][0]:.1f} s")
    if r["seconds"] > BAR["project_s"]:
        out.append(f"project {r['seconds']:.0f} s")
    if r["rss_mb"] > BAR["rss_mb"]:
        out.append(f"{r['rss_mb']:.0f} MB")
    if r["exit"] not in (0, 1):
        out.append(f"exit {r['exit']}")
    return out


def row(r):
    if r["truth"]:
        found = len(r["truth"]) - len(r["missing"])
        kernels = f"{found} / {len(r['truth'])} ({r['truth_kind']})"
    else:
        kernels = f"{len(r['kernels_found'])} / –"
    s = r["severities"]
    slow = f"{r['slowest'][0][0]:.2f} s" if r["slowest"] else "–"
    return (
        f"| {r['name']} | `{r['commit']}` | {r['files']} | {kernels} | {s.get('error', 0)} | "
        f"{s.get('warning', 0)} | {s.get('info', 0) + s.get('hint', 0)} | {slow} | "
        f"{r['seconds']:.1f} s | {r['rss_mb']:.0f} MB |"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="folder holding the projects, one folder each")
    ap.add_argument("--cudalens", default=os.path.join(ROOT, "target", "release", "cudalens"))
    ap.add_argument("--only", action="append", help="project name (repeatable)")
    ap.add_argument("--json", help="write every result here")
    ap.add_argument("--details", action="store_true", help="missing kernels, errors, slowest files")
    args = ap.parse_args()
    with open(os.path.join(HERE, "projects.toml"), "rb") as fh:
        manifest = tomllib.load(fh)
    results = []
    print("| project | commit | files | kernels found / nvcc | errors | warnings | notes | slowest file | time | peak RSS |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for p in manifest["project"]:
        if args.only and p["name"] not in args.only:
            continue
        if not os.path.isdir(os.path.join(args.dir, p.get("dir", p["name"]))):
            print(f"| {p['name']} | (absent: skipped) |||||||||", flush=True)
            continue
        r = run_project(p, args.dir, args.cudalens)
        results.append(r)
        print(row(r), flush=True)
    bad = False
    for r in results:
        f = failures(r)
        bad |= bool(f)
        if args.details or f:
            print(f"\n{r['name']}: {'; '.join(f) if f else 'meets the bar'}")
            print(f"  diagnostics: {r['codes']}")
            if r["missing"]:
                print(f"  kernels not found ({len(r['missing'])}): {', '.join(r['missing'][:40])}")
            for e in r["errors"][:10]:
                print(f"  error: {e}")
            for t, path in r["slowest"]:
                print(f"  slow: {t:.2f} s {path}")
            for s in r["skipped"][:5]:
                print(f"  skipped: {s['path']}: {s['reason']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
