#!/usr/bin/env python3
"""Merge the WGSL and CUDA runs of the suite into results.json + results.md.

Usage: compare.py WORK_DIR --out RESULTS_DIR

WORK_DIR holds what `suite_bench` (WGSL on wgpu) and `harness` (native CUDA)
wrote: wgsl.jsonl, cuda.jsonl (with the per-buffer output comparison the
harness computed), in/<kernel>.txt (launch manifests). Standard library only.

Agreement rules (per read_write buffer), as in server/wgsl/tests/execute.rs:
  * integer buffers: bit-exact;
  * float buffers: either at most K ULPs from the CUDA value ("ulp", K), or
    |wgsl - cuda| <= tol * magnitude ("mag", tol) where the magnitude is the
    sum of the absolute terms (|a*x|+|y|, (|A||B|)_ij, block sum of |x|, ...)
    computed by the harness. The ratio reported is native/WGSL, i.e.
    CUDA median time / WGSL median time (> 1: WGSL is faster).
"""

import json
import math
import os
import sys

EPS = 1.2e-7  # ~ one f32 rounding (2^-23)


def tolerance(kernel, buf, ctype, args):
    """(rule, bound, why) for one output buffer."""
    if ctype != "f32":
        return ("exact", 0, "integers: bit-exact")
    if kernel in ("vector_add", "transpose_naive", "transpose_shared"):
        return ("ulp", 0, "one rounding or none: bit-exact")
    if kernel in ("reduce_sequential", "scan_hillis_steele"):
        return ("ulp", 0, "same addition tree, adds only: bit-exact")
    if kernel == "stencil2d":
        return ("ulp", 1, "explicit fmaf; 1 ULP as in execute.rs")
    if kernel == "templates_device":
        return ("ulp", 3, "WGSL division is 2.5 ULP, CUDA's is correctly rounded")
    if kernel == "saxpy":
        return ("mag", EPS, "a*x+y may or may not be contracted to an fma")
    if kernel in ("matmul_naive", "matmul_tiled"):
        n = int(args[3])
        return ("mag", n * EPS, "same order; fma contraction may differ (N roundings)")
    if kernel == "reduce_warp_shfl":
        return ("mag", 256 * EPS, "shuffle tree follows the subgroup size")
    if kernel == "control_flow" and buf == "total":
        n = int(args[3])
        return ("mag", n * EPS, "float atomic add: order unspecified (as in CUDA)")
    return ("ulp", 0, "default: bit-exact")


def read_jsonl(path):
    out = {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    obj = json.loads(line)
                    out[obj["kernel"]] = obj
    return out


def read_manifest(path):
    args = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] == "arg":
                args[int(parts[1])] = float(parts[2])
    return args


def main():
    if len(sys.argv) != 4 or sys.argv[2] != "--out":
        sys.exit(__doc__)
    work, out_dir = sys.argv[1], sys.argv[3]
    os.makedirs(out_dir, exist_ok=True)
    wgsl = read_jsonl(os.path.join(work, "wgsl.jsonl"))
    cuda = read_jsonl(os.path.join(work, "cuda.jsonl"))
    order = []
    kpath = os.path.join(work, "kernels.txt")
    if os.path.exists(kpath):
        order = [k.strip() for k in open(kpath) if k.strip()]
    order += [k for k in wgsl if k not in order]

    rows = []
    for k in order:
        w, c = wgsl.get(k, {}), cuda.get(k, {})
        mpath = os.path.join(work, "in", k + ".txt")
        args = read_manifest(mpath) if os.path.exists(mpath) else {}
        row = {
            "kernel": k,
            "size": w.get("size") or c.get("size"),
            "grid": w.get("grid"),
            "block": w.get("block"),
            "cuda_median_ms": c.get("median_ms"),
            "cuda_min_ms": c.get("min_ms"),
            "cuda_p95_ms": c.get("p95_ms"),
            "wgsl_median_ms": w.get("median_ms"),
            "wgsl_min_ms": w.get("min_ms"),
            "wgsl_p95_ms": w.get("p95_ms"),
            "wgsl_gb_per_s": w.get("gb_per_s"),
            "bytes": w.get("bytes"),
            "wgsl_error": w.get("error") or w.get("skipped"),
            "no_storage_barrier": w.get("no_storage_barrier"),
            "unchecked": w.get("unchecked"),
            "bounds_only": w.get("bounds_only"),
            "buffers": {},
        }
        if row["cuda_median_ms"] and row["wgsl_median_ms"]:
            row["ratio_native_over_wgsl"] = row["cuda_median_ms"] / row["wgsl_median_ms"]
            if row["bytes"]:
                row["cuda_gb_per_s"] = row["bytes"] / row["cuda_median_ms"] / 1e6
        else:
            row["ratio_native_over_wgsl"] = None
        unchecked_ms = (row["unchecked"] or {}).get("median_ms")
        row["ratio_native_over_wgsl_unchecked"] = (
            row["cuda_median_ms"] / unchecked_ms if row["cuda_median_ms"] and unchecked_ms else None
        )
        bounds_ms = (row["bounds_only"] or {}).get("median_ms")
        row["ratio_native_over_wgsl_bounds_only"] = (
            row["cuda_median_ms"] / bounds_ms if row["cuda_median_ms"] and bounds_ms else None
        )
        agree = bool(c.get("compare"))
        for buf, m in (c.get("compare") or {}).items():
            rule, bound, why = tolerance(k, buf, m["ctype"], args)
            if m.get("missing_wgsl_output"):
                ok = False
            elif m["mismatches"] == 0:
                ok = True
            elif rule == "exact":
                ok = False
            elif rule == "ulp":
                ok = m["max_ulp"] <= bound
            else:
                ok = m["max_err_over_magnitude"] <= bound
            agree = agree and ok
            row["buffers"][buf] = dict(m, rule=rule, bound=bound, why=why, ok=ok)
        row["outputs_agree"] = agree
        rows.append(row)

    ratios = [r["ratio_native_over_wgsl"] for r in rows if r["ratio_native_over_wgsl"]]
    geomean = math.exp(sum(math.log(x) for x in ratios) / len(ratios)) if ratios else None
    any_w = next(iter(wgsl.values()), {})
    any_c = next(iter(cuda.values()), {})
    summary = {
        "adapter": any_w.get("adapter"),
        "backend": any_w.get("backend"),
        "vulkan_driver": any_w.get("driver"),
        "cuda_device": any_c.get("device"),
        "wgsl_timing": any_w.get("timing_source"),
        "cuda_timing": "cuda_events",
        "kernels": len(rows),
        "kernels_timed_both": len(ratios),
        "geomean_native_over_wgsl": geomean,
        "min_ratio": min(ratios) if ratios else None,
        "all_outputs_agree": all(r["outputs_agree"] for r in rows),
        "target": "geomean >= 0.95 and every kernel >= 0.80",
        "target_met": bool(ratios) and geomean >= 0.95 and min(ratios) >= 0.80,
    }
    unchecked = [r["ratio_native_over_wgsl_unchecked"] for r in rows if r["ratio_native_over_wgsl_unchecked"]]
    if unchecked:
        summary["geomean_native_over_wgsl_unchecked"] = math.exp(
            sum(math.log(x) for x in unchecked) / len(unchecked))
        summary["min_ratio_unchecked"] = min(unchecked)
        summary["kernels_timed_unchecked"] = len(unchecked)
    bounded = [r["ratio_native_over_wgsl_bounds_only"] for r in rows if r["ratio_native_over_wgsl_bounds_only"]]
    if bounded:
        summary["geomean_native_over_wgsl_bounds_only"] = math.exp(
            sum(math.log(x) for x in bounded) / len(bounded))
        summary["min_ratio_bounds_only"] = min(bounded)
        # The mode `cudalens bench` uses by default.
        summary["target_met_bounds_only"] = (
            summary["geomean_native_over_wgsl_bounds_only"] >= 0.95 and min(bounded) >= 0.80)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"summary": summary, "kernels": rows}, f, indent=2)

    def fmt(x, spec=".4f"):
        return "—" if x is None else format(x, spec)

    md = []
    md.append(f"Adapter: {summary['adapter']} ({summary['backend']}, driver {summary['vulkan_driver']}); "
              f"CUDA device: {summary['cuda_device']}. WGSL timed by {summary['wgsl_timing']}, "
              "CUDA by one event pair per launch; medians over the stated iterations after warm-up.\n")
    md.append("| kernel | size | CUDA ms | WGSL ms | native/WGSL | CUDA GB/s | WGSL GB/s | outputs agree | max diff (rule) |")
    md.append("|---|---|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        diffs = []
        for b, m in r["buffers"].items():
            if m.get("missing_wgsl_output"):
                diffs.append(f"{b}: no WGSL output")
                continue
            if m["mismatches"] == 0:
                d = "bit-exact"
            elif m["ctype"] == "f32":
                d = f"{m['mismatches']} differ, ≤{m['max_ulp']} ULP, err/mag {m['max_err_over_magnitude']:.2e}"
            else:
                d = f"{m['mismatches']} differ, max |Δ| {m['max_abs']:.0f}"
            rule = {"exact": "exact", "ulp": f"≤{m['bound']} ULP", "mag": f"≤{m['bound']:.2e}·mag"}[m["rule"]]
            diffs.append(f"{b}: {d} ({rule})")
        agree = "yes" if r["outputs_agree"] else ("**NO**" if r["buffers"] else "not compared")
        if r["wgsl_error"]:
            agree += f" (WGSL: {r['wgsl_error'][:60]})"
        md.append(
            f"| {r['kernel']} | {r['size']} | {fmt(r['cuda_median_ms'])} | {fmt(r['wgsl_median_ms'])} | "
            f"{fmt(r['ratio_native_over_wgsl'], '.3f')} | {fmt(r.get('cuda_gb_per_s'), '.0f')} | "
            f"{fmt(r['wgsl_gb_per_s'], '.0f')} | {agree} | {'; '.join(diffs)} |"
        )
    md.append("")
    md.append(f"Geometric mean of native/WGSL (wgpu's full checks) over {len(ratios)} kernels: **{fmt(geomean, '.3f')}** "
              f"(min {fmt(summary['min_ratio'], '.3f')}); target ≥ 0.95 overall and ≥ 0.80 per kernel: "
              f"{'met' if summary['target_met'] else 'NOT met'}. All outputs agree: "
              f"{'yes' if summary['all_outputs_agree'] else 'NO'}.")
    unc = [r for r in rows if r["ratio_native_over_wgsl_unchecked"]]
    if unc:
        md.append("")
        md.append("The same shaders with wgpu's runtime checks off (`RuntimeChecks::Unchecked`: no bounds "
                  "clamps, no loop bounding; native CUDA has neither):")
        md.append("")
        md.append("| kernel | CUDA ms | WGSL ms | WGSL bounds-only ms | native/WGSL bounds-only | "
                  "WGSL unchecked ms | native/WGSL unchecked | outputs identical |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---|")
        for r in unc:
            u = r["unchecked"]
            b = r["bounds_only"] or {}
            md.append(f"| {r['kernel']} | {fmt(r['cuda_median_ms'])} | {fmt(r['wgsl_median_ms'])} | "
                      f"{fmt(b.get('median_ms'))} | {fmt(r['ratio_native_over_wgsl_bounds_only'], '.3f')} | "
                      f"{fmt(u['median_ms'])} | {fmt(r['ratio_native_over_wgsl_unchecked'], '.3f')} | "
                      f"{u['outputs_identical']}{'' if b.get('outputs_identical', True) else ' (bounds-only differs)'} |")
        md.append("")
        md.append(f"Geometric mean of native/WGSL unchecked over {len(unc)} kernels: "
                  f"**{fmt(summary['geomean_native_over_wgsl_unchecked'], '.3f')}** "
                  f"(min {fmt(summary['min_ratio_unchecked'], '.3f')}).")
        if summary.get("geomean_native_over_wgsl_bounds_only"):
            md.append("")
            md.append("With bounds checks but no loop bounding (`RuntimeChecks::BoundsOnly`): "
                      f"**{fmt(summary['geomean_native_over_wgsl_bounds_only'], '.3f')}** "
                      f"(min {fmt(summary['min_ratio_bounds_only'], '.3f')}); target ≥ 0.95 overall and ≥ 0.80 "
                      f"per kernel in this mode, the default of `cudalens bench`: "
                      f"{'met' if summary['target_met_bounds_only'] else 'NOT met'}.")
    abl = [r for r in rows if r["no_storage_barrier"]]
    if abl:
        md.append("")
        md.append("Ablation: the same WGSL with every `storageBarrier();` deleted (only `workgroupBarrier()` left):")
        md.append("")
        md.append("| kernel | WGSL ms | without storageBarrier ms | speed-up | outputs identical |")
        md.append("|---|---:|---:|---:|---|")
        for r in abl:
            a = r["no_storage_barrier"]
            md.append(f"| {r['kernel']} | {fmt(r['wgsl_median_ms'])} | {fmt(a['median_ms'])} | "
                      f"{fmt(r['wgsl_median_ms'] / a['median_ms'], '.2f')}x | {a['outputs_identical']} |")
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
