#!/usr/bin/env python3
"""Transpiles every kernel of the public CUDA suites in suites.toml to WGSL
(`cudalens transpile --check --included --format json`, naga validation
included) and prints Markdown tables: kernels that transpile, by suite, and
the failures by cause (what BENCHMARKS.md shows).

    python3 tests/transpile-suites/coverage.py DIR [--cudalens BIN]
        [--only NAME] [--portable] [--json OUT] [--details CAUSE] [--keep-wgsl]

DIR holds each suite checked out at its commit as DIR/<name> (an absent
suite is skipped). By default the target has every optional WGSL feature
NVIDIA's Vulkan driver offers (`--all-features`: f16, f64, 64-bit integers,
subgroups, float atomics); `--portable` measures plain WebGPU instead.
`--keep-wgsl` writes each kernel's WGSL and sidecar next to its source in
DIR (`transpile --force`), for `examples/naga_roundtrip.rs`.

A kernel is counted once per file it is defined in, and compiled in the
context of each file of the suite that includes it (as nvcc compiles it:
a kernel in a `.cu` that another `.cu` includes sees its includer's macros
and types); it passes when one of those compilations does.
A failing kernel is counted under every cause among its errors; "only
cause" is how many would pass if that cause alone were fixed.
"""

import argparse
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# (cause, pattern over one error message), first match wins. The causes
# follow issue 19's list; the patterns match the transpiler's messages.
CAUSES = [
    ("internal compiler error", r"internal (compiler )?error"),
    ("barrier only some threads reach", r"uniform control flow"),
    ("cooperative groups", r"\bcg::|cooperative_groups|thread_block|thread_rank|grid_group|coalesced_group|tiled_partition|\b(cta|tile\d*|block|grid|warp|active|g|group|peer_group|tiledPartition\d*|threadBlockGroup|labeledGroup)\.(sync|size|shfl\w*|ballot|any|all|thread_rank|meta_group\w*|num_threads)"),
    ("tensor cores (wmma)", r"wmma::|\bmma_sync|__nv_bfloat16|nv_bfloat|precision::tf32"),
    ("async copy / pipelines", r"cuda::pipeline|cuda::barrier|memcpy_async|producer_\w+|consumer_\w+|__pipeline|cuda::memcpy|arrive_and_wait|cp\.async"),
    ("textures and surfaces", r"textures and surfaces|\btex[123]D|\btexture\b|cudaTextureObject|CUtexObject|CUsurfObject|surf[123]D"),
    ("64-bit integers", r"64-bit integers|enable_int64|\b(long long|size_t|int64_t|uint64_t|unsigned long)\b"),
    ("double", r"64-bit floats|enable_f64|`double\d?`"),
    ("half", r"16-bit floats|enable_f16|\b__h\w+|\bhalf2?\b|__half|__float2half|__half2float"),
    ("8/16-bit integers", r"8- or 16-bit|no 8|\b(char|short|uchar\d|char\d|uint8_t|int8_t|uint16_t|int16_t)\b.*(integer|host-shareable)|buffers are not host-shareable"),
    ("structs", r"struct"),
    ("__constant__/__device__ globals", r"file-scope variable|__constant__|__device__ global"),
    ("templates without arguments", r"template parameter `\w+` has no argument|template argument|unknown or unsupported type `(T|TData|TColor|Real|T\d?|typename [^`]*)`|unknown function `\(?T\)?`"),
    ("recursion", r"recursi"),
    ("function pointers / lambdas", r"through a pointer|lambda"),
    ("pointer casts", r"pointer casts?|reinterpret_cast|cannot cast `[^`]*\*`"),
    ("address-of", r"address of|taking (the|this) address"),
    ("other pointers", r"pointer"),
    ("warp intrinsics", r"subgroups|warp intrinsic|__shfl|__ballot|__any_sync|__all_sync|__activemask|__syncwarp"),
    ("atomics", r"atomic"),
    ("curand", r"curand"),
    ("printf / malloc / clock / assert", r"printf|malloc|free\b|clock|assert|dynamic memory"),
    ("CUDA runtime calls, dynamic parallelism", r"runtime API|dynamic parallelism|cudaStream|cudaGraph|cudaExtent|cufft"),
    ("inline assembly", r"asm|PTX"),
    ("unknown identifier (front end)", r"unknown identifier"),
    ("functional casts", r"unknown function `\(?(float|double|int|uint|unsigned|long|short|char|bool|size_t|fp)\)?`"),
    ("CUDA intrinsics not transpiled yet", r"a CUDA intrinsic cudalens does not transpile yet"),
    ("unknown function (front end)", r"unknown function|not a device function"),
    ("unknown type (front end)", r"unknown or unsupported type"),
]
COMPILED = [(name, re.compile(pattern)) for name, pattern in CAUSES]


def cause_of(message):
    for name, pattern in COMPILED:
        if pattern.search(message):
            return name
    return "other"


def suite_paths(suite, sdir):
    out = []
    for p in suite["paths"]:
        full = os.path.join(sdir, p)
        out += sorted(glob.glob(full)) if suite.get("glob") else [full]
    return [p for p in out if os.path.exists(p)]


def torch_extension_defines(directory):
    """`-D` flags of `extra_cuda_cflags` in a PyTorch extension's `run.py`
    (HeCBench's dwconv1d builds its kernels through `torch.utils.cpp_extension.load`),
    with `{NAME}` replaced by a `NAME = value` of the same file."""
    try:
        text = open(os.path.join(directory, "run.py"), errors="replace").read()
    except OSError:
        return []
    names = dict(re.findall(r"^(\w+)\s*=\s*([\w.]+)\s*$", text, re.M))
    flags = []
    for group in re.findall(r"extra_cuda_cflags\s*=\s*\[([^\]]*)\]", text):
        for flag in re.findall(r"f?'(-D[^']*)'|f?\"(-D[^\"]*)\"", group):
            flag = "".join(flag)
            flag = re.sub(r"\{(\w+)\}", lambda m: names.get(m.group(1), "$"), flag)
            if "$" not in flag:
                flags += ["-D", flag[2:]]
    return flags


def build_flags(directory, depth=0):
    """The -D and -I flags the default build of a program gives nvcc (as its
    compile_commands.json would), read from its Makefile: variables take
    their values in the file (`VAR = yes`, `?=`, `:=`, `+=`) and are
    expanded in flags (`-I $(INC_DIR)`); `ifeq`/`ifneq ($(VAR),value)` and
    `ifdef VAR` are evaluated with them; a flag still naming an unset
    variable is dropped. An `-I` must be a folder inside the program's (or
    the suite's: `-I../include`). Without a Makefile, a CMakeLists.txt's
    `include_directories` and `target_include_directories` folders and
    HeCBench's `add_hecbench_benchmark` `INCLUDE_DIRS` and `COMPILE_OPTIONS`
    `-D` flags. A Makefile that runs another (`$(MAKE) -C src`) adds that
    one's flags. A PyTorch extension's `-D` flags come from its `run.py`
    (`extra_cuda_cflags=[f'-DTmax={T_MAX}']`, the names set in the file)."""
    flags = torch_extension_defines(directory)
    text = None
    try:
        text = open(os.path.join(directory, "Makefile"), errors="replace").read()
    except OSError:
        pass
    if text is None:
        try:
            cmake = open(os.path.join(directory, "CMakeLists.txt"), errors="replace").read()
        except OSError:
            return []
        folders = []
        for group in re.findall(r"include_directories\s*\(([^)]*)\)", cmake):
            folders += group.replace('"', " ").split()
        # HeCBench's own function: `add_hecbench_benchmark(... INCLUDE_DIRS a b
        # COMPILE_OPTIONS -DX ...)`, each keyword's words up to the next keyword.
        for call in re.findall(r"add_hecbench_benchmark\s*\(([^)]*)\)", cmake):
            keyword = None
            for word in call.replace('"', " ").split():
                if re.fullmatch(r"[A-Z_]+", word):
                    keyword = word
                elif keyword == "INCLUDE_DIRS":
                    folders.append(word)
                elif keyword == "COMPILE_OPTIONS" and word.startswith("-D"):
                    flags += ["-D", word[2:]]
        for word in folders:
            word = word.replace("${CMAKE_CURRENT_LIST_DIR}", ".").replace("${CMAKE_CURRENT_SOURCE_DIR}", ".")
            if "$" not in word and os.path.isdir(os.path.join(directory, word)):
                flags += ["-I", os.path.normpath(os.path.join(directory, word))]
        return flags
    text = re.sub(r"\\\n", " ", text)
    values, active, lines = {}, [], []

    def expand(value):
        for _ in range(3):
            value = re.sub(r"\$[({](\w+)[)}]", lambda m: values.get(m.group(1), m.group(0)), value)
        return value

    for raw in text.split("\n"):
        recipe = raw.startswith("\t")
        line = raw.split("#", 1)[0].strip()
        words = line.split()
        if not words:
            continue
        if not recipe and words[0] in ("ifeq", "ifneq"):
            m = re.match(r"if(n?)eq\s*\(\s*\$\((\w+)\)\s*,\s*([^)]*?)\s*\)", line)
            if m:
                equal = values.get(m.group(2), "") == m.group(3)
                active.append(equal != (m.group(1) == "n"))
            else:
                active.append(False)
            continue
        if not recipe and words[0] in ("ifdef", "ifndef") and len(words) > 1:
            active.append((words[1] in values) == (words[0] == "ifdef"))
            continue
        if not recipe and words[0] == "else" and active:
            active[-1] = not active[-1]
            continue
        if not recipe and words[0] == "endif":
            active = active[:-1]
            continue
        if not all(active):
            continue
        m = None if recipe else re.match(r"(\w+)\s*(\?=|:=|\+=|=)\s*(.*)$", line)
        if m:
            name, op, value = m.groups()
            if op == "?=" and name in values:
                continue
            values[name] = (values.get(name, "") + " " + value) if op == "+=" else value
            if "FLAGS" in name:
                lines.append(value)
        elif recipe:
            lines.append(line)
    includes, defines = [], []
    # A Makefile that only runs another's (`$(MAKE) -C src`): that one's
    # flags, its -I folders taken from its own directory.
    subs = []
    for line in lines:
        m = re.search(r"(?:\$\(MAKE\)|\bmake)\s+-C\s+(\S+)", expand(line))
        sub = os.path.normpath(os.path.join(directory, m.group(1))) if m else None
        if sub and sub not in subs and sub != os.path.normpath(directory) \
                and sub.startswith(os.path.normpath(directory)) and os.path.isdir(sub) and depth < 2:
            subs.append(sub)
            flags += build_flags(sub, depth + 1)
    for line in lines:
        line = expand(line)
        words = line.split()
        for i, w in enumerate(words):
            if w.startswith("-D") and len(w) > 2 and "$" not in w and w[2:] not in defines:
                defines.append(w[2:])
            elif w.startswith("-I"):
                folder = w[2:] or (words[i + 1] if i + 1 < len(words) else "")
                full = os.path.normpath(os.path.join(directory, folder))
                if folder and "$" not in folder and not os.path.isabs(folder) and os.path.isdir(full) \
                        and full not in includes:
                    includes.append(full)
    for d in defines:
        flags += ["-D", d]
    for full in includes:
        flags += ["-I", full]
    return flags


def run_suite(suite, root, binary, portable, keep=False):
    sdir = os.path.join(root, suite.get("dir", suite["name"]))
    paths = suite_paths(suite, sdir)
    features = [] if portable else ["--all-features"]
    write = ["--force"] if keep else ["--check"]
    base = [binary, "transpile"] + write + ["--included", "--format", "json"] + features
    for inc in suite.get("include", []):
        base += ["-I", os.path.join(sdir, inc)]
    for d in suite.get("defines", []):
        base += ["-D", d]
    records = []
    # Directories one by one: a crash costs one directory, not the suite.
    for path in paths:
        own = build_flags(path) if suite.get("build_flags") else []
        proc = subprocess.run(base + own + [path], capture_output=True, text=True, timeout=600)
        if proc.returncode not in (0, 1):
            print(f"warning: {path}: exit {proc.returncode}: {proc.stderr[-400:]}", file=sys.stderr)
        try:
            records += json.loads(proc.stdout) if proc.stdout.strip() else []
        except json.JSONDecodeError:
            print(f"warning: {path}: unreadable output", file=sys.stderr)
    # One entry per (defining file, kernel, line): it passes when any
    # includer compiles it. The line tells overloads apart.
    kernels = {}
    for r in records:
        # A kernel *defined* in a C source is not counted: nvcc compiles
        # `.c` as C unless told `-x cu`, and amgmk keeps a dead C copy of
        # its main.cu. C sources still count as includers (leukocyte's
        # detect_main.c, built `--x cu`, compiles its kernels' headers).
        if r["defined_in"].endswith(".c"):
            continue
        key = (os.path.relpath(r["defined_in"], sdir), r["kernel"], r["line"])
        k = kernels.setdefault(key, {"ok": False, "causes": None, "errors": [], "line": r["line"]})
        if r["ok"]:
            k["ok"] = True
            if "structure" in r:
                k.setdefault("structure", r["structure"])
            continue
        causes = {cause_of(e["message"]) for e in r["errors"]} or {"other"}
        # The compilation with the fewest causes stands for the kernel.
        if k["causes"] is None or len(causes) < len(k["causes"]):
            k["causes"] = causes
            k["errors"] = r["errors"]
    # Named `kernel@line` only where one file defines the name twice.
    lines = collections.Counter((file, kernel) for file, kernel, _ in kernels)
    return {(file, kernel if lines[(file, kernel)] == 1 else f"{kernel}@{line}"): k
            for (file, kernel, line), k in kernels.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--cudalens", default=os.path.join(ROOT, "target", "release", "cudalens"))
    ap.add_argument("--only")
    ap.add_argument("--portable", action="store_true")
    ap.add_argument("--json")
    ap.add_argument("--details", metavar="CAUSE", help="list the kernels failing for CAUSE, with their first error")
    ap.add_argument("--keep-wgsl", action="store_true", help="write the WGSL and sidecars next to the sources in DIR")
    args = ap.parse_args()
    with open(os.path.join(HERE, "suites.toml"), "rb") as f:
        suites = tomllib.load(f)["suite"]
    results = {}
    for s in suites:
        if args.only and s["name"] != args.only:
            continue
        if not os.path.isdir(os.path.join(args.dir, s.get("dir", s["name"]))):
            print(f"skipped {s['name']}: not checked out", file=sys.stderr)
            continue
        results[s["name"]] = run_suite(s, args.dir, args.cudalens, args.portable, args.keep_wgsl)

    target = "plain WebGPU" if args.portable else "all features (f16, f64, int64, subgroups, float atomics)"
    print(f"Target: {target}.\n")
    print("| Suite | Kernels | Transpile + validate | % |")
    print("|---|---:|---:|---:|")
    total = ok_total = 0
    for name, kernels in results.items():
        ok = sum(k["ok"] for k in kernels.values())
        total += len(kernels)
        ok_total += ok
        pct = 100.0 * ok / len(kernels) if kernels else 0.0
        print(f"| {name} | {len(kernels)} | {ok} | {pct:.1f} |")
    if total:
        print(f"| **all** | {total} | {ok_total} | {100.0 * ok_total / total:.1f} |")

    structure = collections.Counter()
    for kernels in results.values():
        for k in kernels.values():
            structure.update(k.get("structure", {}))
    if structure["statements"]:
        # Issue 19, item 1: how much of the lowering is a tree yet.
        st = structure["statements"]
        en, ex = structure["expression_bytes"], structure["expression_text_bytes"]
        print(f"\nFunction bodies of the passing kernels: {st} statements, all trees; of their expressions' "
              f"text, {100.0 * (en - ex) / max(en, 1):.1f}% printed from tree nodes ({en - ex:,} of {en:,} bytes).")
        print(f"Modules built directly (`server/wgsl/src/build.rs`): {structure['built_same']} printed by naga "
              f"exactly as the module parsed from the text, {structure['built_differs']} valid but printed "
              f"differently, {structure['built_invalid']} refused by naga's validator, {structure['not_built']} not built.")

    print("\nFailures by cause (kernels; a kernel counts under each of its causes; "
          "*only*: kernels with no other cause):\n")
    names = list(results)
    print("| Cause | " + " | ".join(names) + " | all | only |")
    print("|---|" + "---:|" * (len(names) + 2))
    by_cause = collections.Counter()
    only = collections.Counter()
    per_suite = {n: collections.Counter() for n in names}
    for n, kernels in results.items():
        for k in kernels.values():
            if k["ok"]:
                continue
            for c in k["causes"]:
                by_cause[c] += 1
                per_suite[n][c] += 1
            if len(k["causes"]) == 1:
                only[next(iter(k["causes"]))] += 1
    for c, count in by_cause.most_common():
        cells = " | ".join(str(per_suite[n][c]) for n in names)
        print(f"| {c} | {cells} | {count} | {only[c]} |")

    if args.details:
        print(f"\nKernels failing for `{args.details}`:\n")
        for n, kernels in results.items():
            for (file, kernel), k in sorted(kernels.items()):
                if not k["ok"] and args.details in k["causes"]:
                    first = next((e for e in k["errors"] if cause_of(e["message"]) == args.details), k["errors"][0] if k["errors"] else {"line": 0, "message": "?"})
                    print(f"- {n}: {file}:{first['line']} `{kernel}`: {first['message'][:200]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({n: {f"{file}::{kernel}": {"ok": k["ok"], "causes": sorted(k["causes"] or []), "errors": k["errors"][:3],
                                                 **({"structure": k["structure"]} if "structure" in k else {})}
                           for (file, kernel), k in ks.items()} for n, ks in results.items()}, f, indent=1)


if __name__ == "__main__":
    main()
