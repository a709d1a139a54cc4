#!/usr/bin/env python3
"""Writes a compile_commands.json into each CUDA sample folder whose build
adds an `inc` folder (`-I inc`, as the samples' CMakeLists do), so that
`cudalens check Samples -I Common` reads each sample with its own include
path, as a user's CMake export would give it:

    python3 tests/realworld/samples_compile_commands.py CUDA_SAMPLES_DIR
"""
import glob
import json
import os
import sys

root = os.path.abspath(sys.argv[1])
for inc in sorted(glob.glob(os.path.join(root, "Samples", "*", "*", "inc"))):
    sample = os.path.dirname(inc)
    sources = sorted(glob.glob(os.path.join(sample, "**", "*.cu"), recursive=True))
    entries = [
        {
            "directory": sample,
            "file": src,
            "arguments": ["nvcc", "-I", inc, "-I", os.path.join(root, "Common"), "-c", src],
        }
        for src in sources
    ]
    with open(os.path.join(sample, "compile_commands.json"), "w") as f:
        json.dump(entries, f, indent=1)
    print(f"{os.path.relpath(sample, root)}: {len(entries)} files")
