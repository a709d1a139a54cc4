#!/usr/bin/env python3
"""nvcc's own list of each project's kernels, the truth conformance.py
compares cudalens with. Runs on the device machine (nvcc 13; for
flash-attention, PyTorch's headers):

    python3 tests/realworld/nvcc_kernels.py DIR OUT [--only NAME] [--jobs N]

DIR holds the projects (as for conformance.py). For a project whose truth
is "compiled", every source is compiled to PTX for sm_90 and its `.entry`
functions (the kernels) are demangled with cu++filt. For a "declared"
(header-only) project, each header is preprocessed by nvcc (-E) and every
function the real preprocessor leaves marked `__attribute__((global))` is a
kernel. Writes OUT/<name>.txt (one demangled kernel per line), and
OUT/<name>.log (per source: ok, failed with the first error line, or timed
out). Also writes OUT/device-macros.txt: the macros nvcc's device pass
defines (the preprocessing command of `nvcc --dryrun`, run with -dM).
"""

import argparse
import concurrent.futures
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT_S = 300


def torch_includes():
    try:
        from torch.utils import cpp_extension

        return " ".join("-I" + p for p in cpp_extension.include_paths())
    except Exception:
        return ""


def flags_of(p, root, pdir):
    out = []
    for inc in p.get("include", []):
        if inc.startswith("@"):
            other, _, rest = inc[1:].partition("/")
            out += ["-I", os.path.join(root, other, rest)]
        else:
            out += ["-I", os.path.join(pdir, inc)]
    out += ["-D" + d for d in p.get("defines", [])]
    extra = p.get("nvcc", "").replace("@torch", torch_includes())
    out += shlex.split(extra)
    if not any(f.startswith("-arch") for f in out):
        out.append("-arch=sm_90")
    return out


def sources(p, pdir):
    files = []
    for pattern in p["sources"]:
        files += sorted(glob.glob(os.path.join(pdir, pattern), recursive=True))
    return files


def first_error(text):
    for line in text.splitlines():
        if "error" in line:
            return line.strip()[:200]
    return text.strip().splitlines()[-1][:200] if text.strip() else ""


def compiled_kernels(src, flags, work):
    """The demangled `.entry` names of `src`'s PTX, or an error."""
    ptx = os.path.join(work, re.sub(r"[^A-Za-z0-9_.]", "_", src) + ".ptx")
    arch = [f.replace("-arch=sm_", "-arch=compute_") for f in flags]
    cmd = ["nvcc", "-ptx", *arch, src, "-o", ptx]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if r.returncode != 0:
        return None, "failed: " + first_error(r.stderr)
    with open(ptx) as fh:
        names = re.findall(r"\.entry\s+([A-Za-z0-9_$]+)", fh.read())
    os.remove(ptx)
    return names, "ok"


GLOBAL = re.compile(r"__attribute__\s*\(\(\s*global\s*\)\)")


def declared_kernels(header, flags, work, stubs, pdir):
    """Functions marked global in the project's own files, as the
    preprocessed header (nvcc -E) shows them."""
    tu = os.path.join(work, re.sub(r"[^A-Za-z0-9_.]", "_", header) + ".cu")
    with open(tu, "w") as fh:
        fh.write(f'#include "{header}"\n')
    for _ in range(8):
        cmd = ["nvcc", "-E", *flags, "-I", stubs, tu]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None, "timeout"
        missing = re.search(r"fatal error: ([^:]+): No such file", r.stderr)
        if r.returncode != 0 and missing:
            # A dependency outside the project (a logger, a transport): an
            # empty stand-in is enough for the preprocessor.
            stub = os.path.join(stubs, missing.group(1).strip())
            os.makedirs(os.path.dirname(stub), exist_ok=True)
            open(stub, "a").close()
            continue
        break
    if r.returncode != 0:
        return None, "failed: " + first_error(r.stderr)
    text = r.stdout
    # `# 12 "/path/file.cuh" 2`: the file the following lines come from.
    markers = [(m.start(), m.group(1)) for m in re.finditer(r'^# \d+ "([^"]*)"', text, re.M)]
    names, k = [], 0
    current = header
    for m in GLOBAL.finditer(text):
        while k < len(markers) and markers[k][0] < m.start():
            current = markers[k][1]
            k += 1
        if os.path.abspath(current).startswith(os.path.abspath(pdir) + os.sep):
            names.append(kernel_name_after(text, m.end()))
    return [n for n in names if n], "ok"


def kernel_name_after(text, at):
    """The declared name: the last identifier before the parameter list,
    skipping attributes and the return type."""
    i, last = at, None
    while i < len(text) and i < at + 4000:
        m = re.match(r"\s*__attribute__\s*\(\(", text[i:])
        if m:
            depth, j = 2, i + m.end()
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            i = j
            continue
        m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*(?:\s*::\s*[A-Za-z_][A-Za-z0-9_]*)*)", text[i:])
        if m:
            last = m.group(1)
            i += m.end()
            continue
        m = re.match(r"\s*(\(|<|\*|&|;|\{)", text[i:])
        if m and m.group(1) in "(;{":
            return last if m.group(1) == "(" else None
        if m and m.group(1) == "<":
            # template arguments of the name (a specialization): skip them
            depth, j = 0, i + m.end() - 1
            while j < len(text):
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            i = j
            continue
        i += (m.end() if m else 1)
    return None


def demangle(names):
    if not names:
        return []
    r = subprocess.run(["cu++filt"], input="\n".join(names), capture_output=True, text=True)
    return r.stdout.splitlines() if r.returncode == 0 else names


def device_macros(out):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "x.cu")
        open(src, "w").write("__global__ void k() {}\n")
        r = subprocess.run(["nvcc", "--dryrun", "-arch=sm_90", "-c", src], capture_output=True, text=True, cwd=d)
        lines = [l.split("#$ ", 1)[-1] for l in (r.stdout + r.stderr).splitlines()]
        env = {}
        for l in lines:
            m = re.match(r"\s*(\w+)=(.*)", l)
            if m and " " not in m.group(1):
                env[m.group(1)] = m.group(2)
        for l in lines:
            if "-D__CUDA_ARCH__=" in l and " -E " in f" {l} ":
                cmd = re.sub(r'"\$([A-Z_]+)"|\$([A-Z_]+)', lambda m: env.get(m.group(1) or m.group(2), ""), l)
                cmd = re.sub(r'\s-o\s+"?[^ "]+"?', " ", cmd) + " -dM -o " + os.path.join(out, "device-macros.txt")
                subprocess.run(cmd, shell=True, cwd=d, capture_output=True, text=True)
                with open(os.path.join(out, "device-preprocess-command.txt"), "w") as fh:
                    fh.write(l + "\n")
                break


TOOLKIT = ("cub::", "thrust::", "cuda::", "at::", "c10::", "std::")


def write_truth(args, p, flags, kernels):
    sys.path.insert(0, HERE)
    from conformance import base_name

    own, toolkit = {}, set()
    for k in kernels:
        if re.sub(r"^void ", "", k).startswith(TOOLKIT):
            toolkit.add(base_name(k))
        else:
            own[base_name(k)] = own.get(base_name(k), 0) + 1
    shown = " ".join(flags).replace(args.dir.rstrip("/") + "/", "DIR/")
    with open(os.path.join(args.out, p["name"] + ".txt"), "w") as fh:
        fh.write(f"# {p['name']} {p['commit']}: {p['truth']} kernels, nvcc {shown}\n")
        fh.write("# made by tests/realworld/nvcc_kernels.py; kernel name<TAB>instantiations (compiled) "
                 "or declarations (declared); the CUDA toolkit's kernels left out: "
                 + (", ".join(sorted(toolkit)) or "none") + "\n")
        for k in sorted(own):
            fh.write(f"{k}\t{own[k]}\n")
    with open(os.path.join(args.out, p["name"] + ".full.txt"), "w") as fh:
        fh.write("\n".join(kernels) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("out")
    ap.add_argument("--only", action="append")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 4)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    device_macros(args.out)
    with open(os.path.join(HERE, "projects.toml"), "rb") as fh:
        manifest = tomllib.load(fh)
    work = tempfile.mkdtemp()
    stubs = os.path.join(work, "stubs")
    os.makedirs(stubs)
    for p in manifest["project"]:
        if args.only and p["name"] not in args.only:
            continue
        pdir = os.path.join(args.dir, p.get("dir", p["name"]))
        if not os.path.isdir(pdir):
            continue
        flags = flags_of(p, args.dir, pdir)
        files = sources(p, pdir)
        job = compiled_kernels if p["truth"] == "compiled" else declared_kernels
        extra = () if p["truth"] == "compiled" else (stubs, pdir)
        kernels, log = [], []
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = {pool.submit(job, f, flags, work, *extra): f for f in files}
            for fut in concurrent.futures.as_completed(futures):
                names, status = fut.result()
                log.append(f"{os.path.relpath(futures[fut], pdir)}\t{status}\t{len(names or [])}")
                if names:
                    kernels += demangle(names) if p["truth"] == "compiled" else names
        if p["truth"] == "compiled":
            kernels = sorted(set(kernels))
        write_truth(args, p, flags, kernels)
        with open(os.path.join(args.out, p["name"] + ".log"), "w") as fh:
            fh.write("\n".join(sorted(log)) + "\n")
        ok = sum(1 for l in log if "\tok\t" in l)
        print(f"{p['name']}: {len(kernels)} kernels from {ok}/{len(files)} sources", flush=True)


if __name__ == "__main__":
    sys.exit(main())
