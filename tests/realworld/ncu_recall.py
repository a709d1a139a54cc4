#!/usr/bin/env python3
"""Issue 18: recall (and ncu-judged precision) of `uncoalesced-access` and
`bank-conflict` on real kernels that ncu measured. Reads what
`device_truth.sh` brought back (untarred):

    python3 tests/realworld/ncu_recall.py TRUTH_DIR [--rows] [--check DIR]

Truth, per kernel ncu profiled (PolyBench-ACC: every kernel, one report each,
`polybench-source/*.details.csv`; llm.c dev/cuda: the first launches of each
kernel version, `llmc/*.details.csv`): ncu's source-counter rules
"UncoalescedGlobalAccess" and "UncoalescedSharedAccess" give the kernel's
excessive sectors (wavefronts) as a share of all its global sectors (shared
wavefronts); no rule means no excess. Kernels of libraries (cuBLAS) are not
in the sources and are skipped.

cudalens: the `check --format json` run with nvcc's registers
(`registers/<project>.nvcc.json`); a kernel is flagged when a finding of the
rule lies inside its body.

The thresholds are those of `server/analysis/tests/ncu_agreement.rs`: more
than 15% excess must be flagged (a miss otherwise), under 5% must not be (a
false positive by ncu's measure otherwise); between them either is fine.
"""
import argparse
import csv
import glob
import json
import os
import re

RULES = {
    "UncoalescedGlobalAccess": "uncoalesced-access",
    "UncoalescedSharedAccess": "bank-conflict",
}


def ncu_kernels(path):
    """{kernel name: {rule code: excess share}} for every kernel profiled."""
    out = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for r in csv.reader(fh):
            if len(r) < 5 or r[0] == "ID" or not r[0].isdigit():
                continue
            name = r[4].split("(")[0].split("<")[0].strip()
            k = out.setdefault(name, {code: 0.0 for code in RULES.values()})
            if len(r) > 17 and r[15] in RULES:
                m = re.search(r"total of (\d+) excessive \w+ \((\d+)% of the total (\d+)", r[17])
                if m:
                    share = int(m.group(1)) / max(int(m.group(3)), 1)
                    code = RULES[r[15]]
                    k[code] = max(k[code], share)
    return out


def cudalens_flags(path):
    """{(file basename, kernel name): {rule code: [lines]}}"""
    out = {}
    if not os.path.exists(path):
        return out
    for f in json.load(open(path))["files"]:
        base = os.path.basename(f["path"])
        for k in f.get("kernels", []):
            if not k.get("range"):
                continue  # a kernel of another file, launched from this one
            lo, hi = k["range"]["start"]["line"], k["range"]["end"]["line"]
            flags = out.setdefault((base, k["name"]), {code: [] for code in RULES.values()})
            for d in f.get("diagnostics", []):
                line = d["range"]["start"]["line"]
                if d.get("code") in flags and lo <= line <= hi:
                    flags[d["code"]].append(line + 1)
                # A finding in a device function the kernel calls names the
                # kernel in its related information.
                elif d.get("code") in flags and any(k["name"] in (rel.get("message") or "") for rel in d.get("related", [])):
                    flags[d["code"]].append(line + 1)
    return out


def by_name(found, src, name):
    """The key of `found` for kernel `name` defined in file `src`; with no
    file (`None`), the one file that defines a kernel of that name."""
    if src is not None:
        return (src, name) if (src, name) in found else None
    keys = [k for k in found if k[1] == name]
    return keys[0] if len(keys) == 1 else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--rows", action="store_true")
    ap.add_argument("--check", help="directory of <project>.nvcc.json from another cudalens build "
                    "(default TRUTH_DIR/registers: the device run's own)")
    args = ap.parse_args()
    check_dir = args.check or os.path.join(args.dir, "registers")
    sources = [
        ("PolyBench-ACC", "polybench-acc", glob.glob(os.path.join(args.dir, "polybench-source", "*.details.csv")),
         lambda p: os.path.basename(p).split("-")[0] + ".cu"),
        ("llm.c dev/cuda", "llm.c", glob.glob(os.path.join(args.dir, "llmc", "*.details.csv")),
         lambda p: re.sub(r"-\d+\.details\.csv$", ".cu", os.path.basename(p))),
        # A sample's kernels live in any of its folder's files: matched by name.
        ("CUDA samples", "cuda-samples", glob.glob(os.path.join(args.dir, "samples", "*.details.csv")),
         lambda p: None),
    ]
    print("| project | rule | kernels ncu measured | ncu: > 15% excess | flagged by cudalens (recall) | ncu: < 5% | flagged anyway |")
    print("|---|---|---:|---:|---:|---:|---:|")
    rows = []
    totals = {}
    for label, project, files, source_of in sources:
        flags = cudalens_flags(os.path.join(check_dir, f"{project}.nvcc.json"))
        kernels = {}
        for path in sorted(files):
            src = source_of(path)
            for name, excess in ncu_kernels(path).items():
                key = by_name(flags, src, name)
                if key is None:
                    continue  # a library kernel, or one cudalens did not find
                src_of_kernel = key[0]
                prev = kernels.setdefault((src_of_kernel, name), excess)
                for code, share in excess.items():
                    prev[code] = max(prev[code], share)
        for code in RULES.values():
            n = dict(measured=0, pos=0, hit=0, neg=0, fp=0)
            for (src, name), excess in sorted(kernels.items()):
                n["measured"] += 1
                share = excess[code]
                flagged = flags[(src, name)][code]
                if share > 0.15:
                    n["pos"] += 1
                    n["hit"] += bool(flagged)
                    verdict = "found" if flagged else "MISSED"
                elif share < 0.05:
                    n["neg"] += 1
                    n["fp"] += bool(flagged)
                    verdict = "FLAGGED without excess" if flagged else "quiet"
                else:
                    verdict = "either (5-15%)" + (" flagged" if flagged else "")
                if share > 0 or flagged:
                    rows.append(f"{label}\t{code}\t{src}\t{name}\tncu excess {100 * share:.0f}%\tcudalens lines {flagged}\t{verdict}")
            t = totals.setdefault(code, dict(measured=0, pos=0, hit=0, neg=0, fp=0))
            for key in t:
                t[key] += n[key]
            print(f"| {label} | `{code}` | {n['measured']} | {n['pos']} | {n['hit']}/{n['pos']} | {n['neg']} | {n['fp']}/{n['neg']} |")
    for code, t in totals.items():
        print(f"| all | `{code}` | {t['measured']} | {t['pos']} | {t['hit']}/{t['pos']} | {t['neg']} | {t['fp']}/{t['neg']} |")
    if args.rows:
        print("\n".join(rows))


if __name__ == "__main__":
    main()
