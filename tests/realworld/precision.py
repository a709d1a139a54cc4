#!/usr/bin/env python3
"""Precision of cudalens's findings on real code, per rule, against the
labelled set in labels.tsv (issue 18): findings `cudalens check` makes on the
projects of projects.toml, each read by a CUDA performance engineer, source
in hand, and judged TRUE (an expert would agree: the waste, race or limit is
real) or FALSE, with a one-line reason.

The sample (drawn once, from the findings of `cudalens check` at commit
fec6ece, 514 findings on 8 projects): every finding of the projects with
fewer than 50 findings (cub 3, cutlass 2, raft 28, polybench-acc 35), and
every third finding, in (file, line, rule) order, of the others (rodinia 73,
ggml 89, llm.c 101, cuda-samples 183): 218 findings; then the 6 new
findings that launches from other files brought (issue 18 item 7: kernels
in `*_kernel.cu` files analysed under their includers' launches), judged
the same way, at the end of the file. Precision per rule is
TRUE / (TRUE + FALSE) over the labelled findings cudalens still makes.
Findings outside the set are counted as "unlabelled" (`--dump` prints them
with their source, ready to judge); they fail the run only with `--strict`.

    python3 tests/realworld/precision.py DIR [--cudalens BIN] [--only NAME]
        [--dump] [--json OUT] [--rows SAVED.json] [--strict]

DIR holds the projects checked out at their commits, as for conformance.py
(a project that is absent is skipped). Prints one Markdown row per rule:
findings made, judged TRUE / FALSE, not yet judged, and precision
TRUE / (TRUE + FALSE). Labels whose finding is no longer made are counted
as dropped (a dropped TRUE is a lost true finding). `--dump` prints each
unjudged finding with its message and the source around it, ready to judge.

Exit status 1 when a rule's precision is below BAR (or, with --strict, when a
finding is not labelled). `--rows` scores the findings a previous `--json`
run saved instead of running cudalens again (a full run takes ~10 minutes).

labels.tsv holds one finding per line, tab-separated:
project, commit (first 10 hex digits), file (relative to the project),
line (1-based), rule, TRUE or FALSE, reason. The code itself is never copied.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from conformance import resolve  # noqa: E402

BAR = 0.9
# The analyses' rules: claims about the user's code. The front end's notes
# (syntax, headers-macros-only, include-not-found, ...) are about what
# cudalens could read, and are measured by conformance.py.
RULES = [
    "uncoalesced-access",
    "bank-conflict",
    "barrier-in-divergent-code",
    "missing-syncthreads",
    "low-occupancy",
    "launch-exceeds-limit",
    "block-size-not-multiple-of-32",
    "grid-too-small",
]
LABELS = os.path.join(HERE, "labels.tsv")


def load_labels(path=LABELS):
    labels = {}
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 7:
                sys.exit(f"{path}:{n}: expected 7 tab-separated fields, got {len(parts)}")
            project, commit, file, ln, rule, verdict, reason = parts
            if verdict not in ("TRUE", "FALSE"):
                sys.exit(f"{path}:{n}: verdict must be TRUE or FALSE, not {verdict!r}")
            if rule not in RULES:
                sys.exit(f"{path}:{n}: unknown rule {rule!r}")
            if not reason.strip():
                sys.exit(f"{path}:{n}: every verdict needs its reason")
            key = (project, file, int(ln), rule)
            if key in labels:
                sys.exit(f"{path}:{n}: {key} is labelled twice")
            labels[key] = {"commit": commit, "verdict": verdict == "TRUE", "reason": reason}
    return labels


def findings(p, root, binary):
    """(file, line, rule, message) of every analysis finding on project `p`."""
    pdir = os.path.join(root, p.get("dir", p["name"]))
    args = [binary, "check", "--format", "json"]
    args += [resolve(pdir, root, c) for c in p["check"]]
    for inc in p.get("include", []):
        args += ["-I", resolve(pdir, root, inc)]
    for d in p.get("defines", []):
        args += ["-D", d]
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(f"{p['name']}: cudalens check exited {proc.returncode}: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    out = []
    for f in report["files"]:
        rel = os.path.relpath(f["path"], pdir)
        for d in f["diagnostics"]:
            if d["code"] in RULES:
                out.append((rel, d["range"]["start"]["line"] + 1, d["code"], d["message"]))
    return sorted(set(out))


def context(path, line, around=6):
    try:
        with open(path, errors="replace") as fh:
            lines = fh.readlines()
    except OSError:
        return "    (unreadable)"
    lo, hi = max(0, line - 1 - around), min(len(lines), line + around)
    return "".join(
        f"{'>' if i + 1 == line else ' '}{i + 1:5} {lines[i].rstrip()[:160]}\n" for i in range(lo, hi)
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="folder holding the projects, one folder each")
    ap.add_argument("--cudalens", default=os.path.join(ROOT, "target", "release", "cudalens"))
    ap.add_argument("--only", action="append", help="project name (repeatable)")
    ap.add_argument("--dump", action="store_true", help="print unjudged findings with their source")
    ap.add_argument("--labels", default=LABELS)
    ap.add_argument("--json", help="write every finding and its verdict here")
    ap.add_argument("--rows", help="score the findings saved by an earlier --json run")
    ap.add_argument("--strict", action="store_true", help="fail when a finding is not labelled")
    args = ap.parse_args()
    with open(os.path.join(HERE, "projects.toml"), "rb") as fh:
        manifest = tomllib.load(fh)
    labels = load_labels(args.labels)
    saved = None
    if args.rows:
        saved = collections.defaultdict(list)
        with open(args.rows) as fh:
            for r in json.load(fh):
                saved[r["project"]].append((r["file"], r["line"], r["rule"], r["message"]))
    per_rule = collections.defaultdict(lambda: collections.Counter())
    per_project = collections.defaultdict(lambda: collections.Counter())
    unjudged, rows, seen_projects = [], [], set()
    for p in manifest["project"]:
        if args.only and p["name"] not in args.only:
            continue
        pdir = os.path.join(args.dir, p.get("dir", p["name"]))
        if saved is None and not os.path.isdir(pdir):
            print(f"{p['name']}: absent, skipped", file=sys.stderr)
            continue
        seen_projects.add(p["name"])
        made = set()
        if saved is not None and p["name"] not in saved:
            continue
        made_now = saved[p["name"]] if saved is not None else findings(p, args.dir, args.cudalens)
        for file, line, rule, message in sorted(set(made_now)):
            key = (p["name"], file, line, rule)
            if key in made:
                continue  # two findings of one rule on one line: one judgement
            made.add(key)
            label = labels.get(key)
            if label is None:
                verdict = "unjudged"
                unjudged.append((p, file, line, rule, message))
            else:
                if label["commit"] != p["commit"][:10]:
                    sys.exit(f"{key}: labelled at {label['commit']}, project is at {p['commit'][:10]}")
                verdict = "TRUE" if label["verdict"] else "FALSE"
            per_rule[rule][verdict] += 1
            per_project[p["name"]][verdict] += 1
            rows.append({"project": p["name"], "file": file, "line": line, "rule": rule,
                         "message": message, "verdict": verdict,
                         "reason": label["reason"] if label else None})
        for key, label in labels.items():
            if key[0] == p["name"] and key not in made:
                per_rule[key[3]]["dropped " + ("TRUE" if label["verdict"] else "FALSE")] += 1
    print("| rule | findings | TRUE | FALSE | unlabelled | precision | labels no longer found (TRUE / FALSE) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    failed = []
    for rule in RULES:
        c = per_rule.get(rule, collections.Counter())
        judged = c["TRUE"] + c["FALSE"]
        made = judged + c["unjudged"]
        if made == 0 and not (c["dropped TRUE"] or c["dropped FALSE"]):
            continue
        precision = c["TRUE"] / judged if judged else None
        shown = f"{precision:.3f}" if precision is not None else "–"
        print(f"| `{rule}` | {made} | {c['TRUE']} | {c['FALSE']} | {c['unjudged']} | {shown} | "
              f"{c['dropped TRUE']} / {c['dropped FALSE']} |")
        if precision is not None and precision < BAR:
            failed.append(f"{rule}: precision {precision:.3f} < {BAR}")
    total = collections.Counter()
    for c in per_rule.values():
        total.update(c)
    judged = total["TRUE"] + total["FALSE"]
    if judged:
        print(f"| all | {judged + total['unjudged']} | {total['TRUE']} | {total['FALSE']} | "
              f"{total['unjudged']} | {total['TRUE'] / judged:.3f} | "
              f"{total['dropped TRUE']} / {total['dropped FALSE']} |")
    print()
    print(f"{len(labels)} labelled findings (the sample of the docstring: every finding of the projects "
          "with fewer than 50 at fec6ece, every third of the others, and later additions); unlabelled findings are not scored.")
    for name in sorted(per_project):
        c = per_project[name]
        print(f"{name}: {c['TRUE']} TRUE, {c['FALSE']} FALSE, {c['unjudged']} unlabelled", file=sys.stderr)
    if args.dump:
        for p, file, line, rule, message in unjudged:
            pdir = os.path.join(args.dir, p.get("dir", p["name"]))
            print(f"=== {p['name']}\t{p['commit'][:10]}\t{file}\t{line}\t{rule}\n    {message}")
            print(context(os.path.join(pdir, file), line))
    if unjudged and args.strict:
        failed.append(f"{len(unjudged)} findings not labelled (--dump lists them)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    for f in failed:
        print(f"FAIL: {f}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
