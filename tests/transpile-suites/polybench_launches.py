#!/usr/bin/env python3
"""The launch each PolyBench-ACC kernel runs with in its own program
(STANDARD_DATASET): grid and block as ncu recorded them on the device
(`device_truth.sh` → polybench/<program>.csv), scalar arguments from the
program's sources (dataset sizes from the preprocessed `.cuh`, the first
value of a host loop counter, `*alpha = V;` in the program's init).

    python3 tests/transpile-suites/polybench_launches.py TRUTH_DIR PB_DIR > launches.tsv

Columns: file, kernel, grid, block, args (name=value ...), how each scalar
was found. Read by native-polybench.sh.
"""
import csv, glob, io, os, re, subprocess, sys

truth, pb = sys.argv[1], os.path.join(sys.argv[2], "CUDA")


def ncu_launches(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    start = text.find('"ID"')
    out = {}
    if start < 0:
        return out
    for r in csv.DictReader(io.StringIO(text[start:])):
        name = r["Kernel Name"].split("(")[0].strip()
        dims = lambda s: ",".join(d for d in re.findall(r"\d+", s))
        out.setdefault(name, (dims(r["Grid Size"]), dims(r["Block Size"])))
    return out


def defines(cu):
    cuh = [f for f in glob.glob(os.path.join(os.path.dirname(cu), "*.cuh"))]
    out = {}
    for h in cuh:
        text = subprocess.run(["cpp", "-dM", "-I", os.path.join(pb, "utilities"), h],
                              capture_output=True, text=True).stdout
        for m in re.finditer(r"#define (\w+) (.+)", text):
            out[m.group(1)] = m.group(2).strip()
    return out


def value(expr, defs, depth=0):
    expr = expr.strip()
    if re.fullmatch(r"-?\d+(\.\d*)?", expr):
        return expr
    if expr in defs and depth < 5:
        return value(defs[expr], defs, depth + 1)
    try:
        return str(int(eval(re.sub(r"\b[A-Z_]+\b", lambda m: value(m.group(0), defs, depth + 1) or "x", expr))))
    except Exception:
        return None


print("file\tkernel\tgrid\tblock\targs\tsources")
for csvpath in sorted(glob.glob(os.path.join(truth, "polybench", "*.csv"))):
    prog = os.path.basename(csvpath)[:-4]
    cus = glob.glob(os.path.join(pb, "**", prog + ".cu"), recursive=True)
    if not cus:
        continue
    cu = cus[0]
    src = open(cu, encoding="utf-8", errors="replace").read()
    defs = defines(cu)
    for kernel, (grid, block) in ncu_launches(csvpath).items():
        sig = re.search(r"__global__\s+void\s+" + kernel + r"\s*\(([^)]*)\)", src)
        args, how = [], []
        for p in (sig.group(1).split(",") if sig else []):
            p = p.strip()
            if "*" in p or "[" in p or not p:
                continue
            name = p.split()[-1]
            v = value(name.upper(), defs)
            where = f"{name.upper()} (dataset)"
            if v is None:
                # The loop around the launch: the last one before it.
                m0 = re.search(kernel + r"\s*<<<", src)
                launch = m0.start() if m0 else -1
                loops = list(re.finditer(r"for\s*\(\s*(?:int\s+)?" + name + r"\s*=\s*([^;]+);", src[:max(launch, 0)]))
                m = loops[-1] if loops else None
                if m:
                    v, where = value(m.group(1), defs), "first value of the host loop"
            if v is None:
                m = re.search(r"\*\s*" + name + r"\s*=\s*([^;]+);", src)
                if m:
                    v, where = value(m.group(1), defs), "init"
            if v is not None:
                args.append(f"{name}={v}")
                how.append(f"{name}: {where}")
            else:
                how.append(f"{name}: unresolved")
        rel = os.path.relpath(cu, pb)
        print(f"{rel}\t{kernel}\t{grid}\t{block}\t{' '.join(args)}\t{'; '.join(how)}")
