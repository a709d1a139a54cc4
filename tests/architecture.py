#!/usr/bin/env python3
"""Checks the invariants of ARCHITECTURE.md that the compiler does not:

1. Layers: a crate depends only on crates of lower layers (LAYERS).
2. LSP types: only the server crate depends on them, and only its src/lsp uses them.
3. Import circles between the files of each crate, as follows.

A file imports another when it names an item of the other's module through a
path (`use crate::a::b`, `super::c::f()`, `use super::{d, e}`, `child::g()`):
the edge goes to the file of the longest module prefix of that path. Edges
between a module and its own ancestors (lib.rs, mod.rs) do not count: those
are one facade (the parent calls into its children, which use the types it
declares). A circle is a strongly connected component of two or more files.

Prints each problem; exits 1 on a layer problem or on any circle.
Usage: tests/architecture.py [REPO_ROOT]
"""
import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
CRATES = sorted(p.parent for p in ROOT.glob("server/*/Cargo.toml")) + sorted(
    p.parent for p in ROOT.glob("plugins/*/Cargo.toml")
)


def module_path(src: Path, file: Path):
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    # String literals can hold `crate::` in messages.
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def expand_use_tree(tree: str):
    """`a::{b, c::{d}}` → ["a::b", "a::c::d"]."""
    tree = re.sub(r"\s+", "", tree)
    depth, brace = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                brace = i
            depth += 1
        elif ch == "}":
            depth -= 1
    if brace is None:
        return [tree]
    prefix, inner = tree[:brace], tree[brace + 1 : tree.rfind("}")]
    items, depth, start = [], 0, 0
    for i, ch in enumerate(inner + ","):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            if inner[start:i]:
                items.append(inner[start:i])
            start = i + 1
    out = []
    for item in items:
        out.extend(prefix + sub for sub in expand_use_tree(item))
    return out


def paths_in(text: str, children, facade: bool):
    """Paths naming another module's items. `children`: the current
    module's child module names (paths may start with them). In a facade
    (lib.rs, mod.rs) `pub use` re-exports are declarations, not imports."""
    if facade:
        text = re.sub(r"\bpub(?:\([^)]*\))?\s+use\s+[^;]+;", "", text)
    heads = ["crate", "super", "self"] + sorted(children)
    alternatives = "|".join(re.escape(h) for h in heads)
    for m in re.finditer(rf"\buse\s+((?:{alternatives})::[^;]+);", text):
        yield from expand_use_tree(m.group(1))
    for m in re.finditer(rf"(?<![\w:])((?:{alternatives})(?:::[A-Za-z_]\w*)+)", text):
        yield m.group(1)


def resolve(path: str, current, modules):
    parts = [p for p in path.split("::") if p and " as " not in p]
    if not parts:
        return None
    base = list(current)
    head = parts.pop(0)
    if head == "crate":
        base = []
    elif head == "super":
        base = base[:-1]
        while parts and parts[0] == "super":
            parts.pop(0)
            base = base[:-1]
    elif head == "self":
        pass
    else:  # a child module of the current one
        parts.insert(0, head)
    best = tuple(base) if tuple(base) in modules else None
    for part in parts:
        base.append(part)
        if tuple(base) in modules:
            best = tuple(base)
        else:
            break
    return best


def circles_of(src: Path):
    files = [f for f in src.rglob("*.rs")]
    modules = {module_path(src, f): f for f in files}
    edges = {m: set() for m in modules}
    for mod, file in modules.items():
        # A file's own module is `mod` (for mod.rs/lib.rs the directory's).
        current = list(mod)
        is_dir_module = file.name in ("mod.rs", "lib.rs", "main.rs")
        text = strip_comments(file.read_text(encoding="utf-8"))
        children = {m[-1] for m in modules if len(m) == len(mod) + 1 and m[:-1] == mod}
        # `mod tests { use super::*; }` inside a file is the file itself.
        for path in paths_in(text, children, is_dir_module):
            path = path.replace("{", "").replace("}", "")
            target = resolve(path, current, modules)
            # A module and its ancestors (lib.rs, mod.rs) are one facade:
            # the parent calls into its children, children use the types it
            # declares. Only imports between modules on different branches count.
            related = target is not None and (
                target[: len(mod)] == mod or mod[: len(target)] == target
            )
            if target is not None and not related:
                edges[mod].add(target)
    return modules, edges


def sccs(edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


# Lowest first; a crate may depend only on crates of earlier layers.
LAYERS = [
    ["cudalens-syntax", "cudalens-occupancy", "cudalens-plugin-protocol"],
    ["cudalens-analysis", "cudalens-wgsl", "cudalens-gpu", "cudalens-plugin-host"],
    ["cudalens-ide"],
    ["cudalens", "cudalens-autotune", "cudalens-learned-tuner"],
]
LSP_CRATES = ("tower-lsp-server", "tower-lsp", "lsp-types", "ls-types")


def dependencies(cargo_toml: Path):
    text = cargo_toml.read_text(encoding="utf-8")
    name = re.search(r'^name\s*=\s*"([^"]+)"', text, re.M).group(1)
    section = re.search(r"^\[dependencies\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    deps = re.findall(r"^([A-Za-z0-9_-]+)\s*=", section.group(1), re.M) if section else []
    return name, deps


def check_layers():
    layer_of = {c: i for i, layer in enumerate(LAYERS) for c in layer}
    problems = []
    for crate in CRATES:
        name, deps = dependencies(crate / "Cargo.toml")
        if name not in layer_of:
            problems.append(f"{name}: not in LAYERS (tests/architecture.py)")
            continue
        for dep in deps:
            if dep in layer_of and layer_of[dep] >= layer_of[name]:
                problems.append(f"{name} depends on {dep}, which is not below it")
            if dep in LSP_CRATES and name != "cudalens":
                problems.append(f"{name} depends on {dep}: only the server knows LSP types")
    server_src = ROOT / "server" / "cudalens" / "src"
    for file in sorted(ROOT.glob("server/*/src/**/*.rs")) + sorted(ROOT.glob("plugins/*/src/**/*.rs")):
        if server_src / "lsp" in file.parents:
            continue
        if re.search(r"\b(tower_lsp_server|tower_lsp|lsp_types|ls_types)\b", strip_comments(file.read_text(encoding="utf-8"))):
            problems.append(f"{file.relative_to(ROOT)}: uses LSP types outside server/cudalens/src/lsp")
    for p in problems:
        print(f"LAYERS: {p}")
    print(f"layers: {len(CRATES)} crates checked, {len(problems)} problem(s)")
    return not problems


def main():
    failed = not check_layers()
    found = 0
    for crate in CRATES:
        src = crate / "src"
        if not src.is_dir():
            continue
        modules, edges = circles_of(src)
        for comp in sccs(edges):
            names = {str(modules[m].relative_to(src)) for m in comp}
            found += 1
            print(f"CIRCLE: {crate.relative_to(ROOT)}/src: {', '.join(sorted(names))}")
            failed = True
    print(f"{found} import circle(s) in {len(CRATES)} crates")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
