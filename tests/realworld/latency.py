#!/usr/bin/env python3
"""Open and edit latency of cudalens, and of clangd when installed, on the
largest CUDA files of the real projects (issue 16's targets: under 100 ms to
open, under 5 ms median per one-character edit), with each project's
include paths given as its users would: a compile_commands.json written into
the project folder (clang's spelling, which both servers read).

    python3 tests/realworld/latency.py DIR [--cudalens BIN] [--edits N] [--no-clangd]

DIR holds the projects as for conformance.py. Prints one Markdown row per
(file, server) with open_ms, the median and p95 edit, from
server/cudalens/tests/tools/lsp_latency.py (the team's measuring script).
clangd runs with `-xcuda --cuda-gpu-arch=sm_80 -nocudainc -nocudalib`, as
in BENCHMARKS.md's other clangd figures (this machine has no CUDA toolkit).
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LATENCY = os.path.join(ROOT, "server/cudalens/tests/tools/lsp_latency.py")

# (project folder, include paths, sources for compile_commands.json, files measured)
FILES = [
    ("ggml", ["include", "src", "src/ggml-cuda"], ["src/ggml-cuda/**/*.cu", "src/ggml-cuda/**/*.cuh"],
     ["src/ggml-cuda/ggml-cuda.cu", "src/ggml-cuda/fattn-mma-f16.cuh", "src/ggml-cuda/mmq-load-tiles.cuh",
      "src/ggml-cuda/mmq.cuh"]),
    ("llm.c", ["."], ["*.cu", "llmc/*.cuh", "dev/cuda/*.cu"], ["train_gpt2.cu", "llmc/attention.cuh"]),
]


def compile_commands(root, includes, patterns):
    root = os.path.abspath(root)
    files = sorted({f for p in patterns for f in glob.glob(os.path.join(root, p), recursive=True)})
    entries = [{
        "directory": root,
        "file": f,
        "arguments": ["clang++", "-xcuda", "--cuda-gpu-arch=sm_80", "-nocudainc", "-nocudalib", "-std=c++17"]
        + [f"-I{os.path.join(root, i)}" for i in includes] + ["-c", f],
    } for f in files]
    with open(os.path.join(root, "compile_commands.json"), "w") as fh:
        json.dump(entries, fh, indent=1)


def measure(server, path, edits, timeout):
    out = subprocess.run([sys.executable, LATENCY, server, path, "--edits", str(edits), "--timeout", str(timeout)],
                         capture_output=True, text=True)
    line = (out.stdout.strip().splitlines() or ["{}"])[-1]
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return {"error": line or out.stderr[-200:]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--cudalens", default=os.path.join(ROOT, "target/release/cudalens"))
    ap.add_argument("--edits", type=int, default=30)
    ap.add_argument("--no-clangd", action="store_true")
    args = ap.parse_args()
    servers = [("cudalens", f"{args.cudalens} lsp", 60)]
    if not args.no_clangd and shutil.which("clangd"):
        version = subprocess.run(["clangd", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        servers.append((version.replace("Debian ", ""), "clangd --log=error", 600))
    print("| file | lines | server | open (ms) | edit median (ms) | edit p95 (ms) | diagnostics at open |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for project, includes, patterns, files in FILES:
        root = os.path.join(args.dir, project)
        if not os.path.isdir(root):
            continue
        compile_commands(root, includes, patterns)
        for rel in files:
            for name, command, timeout in servers:
                edits = args.edits if name == "cudalens" else min(args.edits, 10)
                r = measure(command, os.path.join(root, rel), edits, timeout)
                if "error" in r:
                    print(f"| {project}/{rel} | | {name} | {r['error']} | | | |")
                    continue
                print(f"| {project}/{rel} | {r['lines']} | {name} | {r['open_ms']} | {r['edit_ms']} | "
                      f"{r['edit_p95_ms']} | {r['open_diagnostics']} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
