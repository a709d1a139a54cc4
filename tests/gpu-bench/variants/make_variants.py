#!/usr/bin/env python3
"""Ablation variants of transpiled suite kernels, for `suite_bench --variants DIR`.

Usage: make_variants.py WGSL_DIR OUT_DIR, where WGSL_DIR holds the transpiled
`<stem>.wgsl` files (suite_bench writes them to OUT/wgsl/). Each variant is the
transpiled shader with one thing changed, so its timing isolates one cost:

  b256 / b512   the same shader run with a larger block (grid covers the same threads)
  merge2        one 256-thread workgroup runs two 128-thread CUDA blocks
                (valid for kernels without shared memory, barriers or blockDim-sized
                cooperation: vector_add, templates_device)
  bare          the folded-grid prologue (surplus check, three-way block index)
                replaced by the one line the dispatch needs
  unroll        the barrier loop over s / offset written out with constants
"""
import re
import sys
from pathlib import Path

PROLOGUE = re.compile(
    r"    // Grids past 65,535.*?\n    thread_idx = local_id;\n.*?\n    }\n", re.S)


def bare(src: str, folded: bool) -> str:
    # The one line the dispatch needs: a 2D fold of a 1D grid, or the grid itself.
    if folded:
        line = ("    thread_idx = local_id;\n"
                "    block_idx = vec3<u32>(workgroup_id.x + workgroup_id.y * num_workgroups.x, 0u, 0u);\n"
                "    if (block_idx.x >= params.grid_dim.x) {\n        return;\n    }\n")
    else:
        line = "    thread_idx = local_id;\n    block_idx = workgroup_id;\n"
    out, n = PROLOGUE.subn(line, src)
    assert n == 1, "prologue not found"
    return out


def merge2(src: str) -> str:
    # Workgroup of 2*128 threads: CUDA block = 2*workgroup + (lane / 128).
    out = src.replace("thread_idx = local_id;", "thread_idx = vec3<u32>(local_id.x % 128u, 0u, 0u);")
    out = out.replace("block_idx = workgroup_id;", "block_idx = vec3<u32>(workgroup_id.x * 2u + local_id.x / 128u, 0u, 0u);")
    out = out.replace("block_idx = vec3<u32>(block_linear, 0u, 0u);",
                      "block_idx = vec3<u32>(block_linear * 2u + local_id.x / 128u, 0u, 0u);")
    body = out.split("@compute", 1)
    body[1] = body[1].replace("BLOCK_DIM_X", "128u").replace("@workgroup_size(128u,", "@workgroup_size(BLOCK_DIM_X,")
    out = "@compute".join(body)
    return "// variant-block: 256 1 1\n" + out


def unroll_reduce(src: str, loop_var: str) -> str:
    # for (var s: u32 = BLOCK_DIM_X / 2u; s > 0u; s >>= 1u) { BODY } with BLOCK_DIM_X = 256
    m = re.search(r"( *)for \(var s: u32 = BLOCK_DIM_X / 2u; s > 0u; s >>= 1u\) \{\n(.*?)\n\1\}\n", src, re.S)
    assert m, "reduction loop not found"
    indent, body = m.group(1), m.group(2)
    copies = []
    for s in [128, 64, 32, 16, 8, 4, 2, 1]:
        copies.append(f"{indent}{{\n{indent}    let s: u32 = {s}u;\n{body}\n{indent}}}\n")
    return src[:m.start()] + "".join(copies) + src[m.end():]


def unroll_scan(src: str) -> str:
    m = re.search(r"( *)for \(var offset: i32 = 1; u32\(offset\) < BLOCK_DIM_X; offset \*= 2\) \{\n(.*?)\n\1\}\n", src, re.S)
    assert m, "scan loop not found"
    indent, body = m.group(1), m.group(2)
    copies = "".join(f"{indent}{{\n{indent}    let offset: i32 = {1 << k};\n{body}\n{indent}}}\n" for k in range(8))
    return src[:m.start()] + copies + src[m.end():]


def main() -> None:
    src_dir, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    read = lambda stem: (src_dir / f"{stem}.wgsl").read_text()
    variants = {}
    for stem in ["vector_add", "templates_device"]:
        variants[f"{stem}.b256"] = "// variant-block: 256 1 1\n" + read(stem)
        variants[f"{stem}.merge2"] = merge2(read(stem))
        variants[f"{stem}.bare"] = bare(read(stem), folded=True)
    variants["vector_add.b512"] = "// variant-block: 512 1 1\n" + read("vector_add")
    variants["reduce_first_add.bare"] = bare(read("reduce_first_add"), folded=False)
    variants["reduce_first_add.unroll"] = unroll_reduce(read("reduce_first_add"), "s")
    for stem in ["reduce_sequential", "scan_hillis_steele"]:
        variants[f"{stem}.bare"] = bare(read(stem), folded=True)
    variants["reduce_sequential.unroll"] = unroll_reduce(read("reduce_sequential"), "s")
    variants["scan_hillis_steele.unroll"] = unroll_scan(read("scan_hillis_steele"))
    for name, text in variants.items():
        (out_dir / f"{name}.wgsl").write_text(text)
    print(f"{len(variants)} variants in {out_dir}")


if __name__ == "__main__":
    main()
