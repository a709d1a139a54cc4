#!/usr/bin/env python3
"""Turns the raw output of run_ncu_h100.sh into the ground-truth files the tests read.

usage: parse_ncu.py RAW_DIR OUT_DIR

For each corpus program it writes OUT_DIR/<program>.json:
  {"gpu": ..., "kernels": {"<name>": {
      "block": [x,y,z]-less block size, "grid": total blocks,
      "global_ld"/"global_st": {"instructions", "sectors", "requests"},
      "shared_ld"/"shared_st": {"instructions", "wavefronts", "bank_conflicts"},
      "occupancy": {"registers", "static_smem", "dynamic_smem", "block_limit_registers",
                    "block_limit_shared_mem", "block_limit_warps", "block_limit_blocks",
                    "theoretical_occupancy_pct"},
      "instructions": [per-instruction rows of the SASS source page for memory instructions]}}}
and copies the memory-instruction rows of the SASS source page to <program>.sass-memory.csv.
Only the standard library is used.
"""
import csv, json, os, sys

def num(v):
    v = (v or "").replace(",", "").strip()
    try:
        return float(v) if "." in v else int(v)
    except ValueError:
        return None

def read_metrics(path):
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith('"ID"')), None)
    kernels = {}
    if start is None:
        return kernels
    for r in csv.DictReader(lines[start:]):
        name = r["Kernel Name"].split("(")[0].strip()
        k = kernels.setdefault(name, {"_block": r["Block Size"], "_grid": r["Grid Size"]})
        k[r["Metric Name"]] = num(r["Metric Value"])
    return kernels

def read_sass(path):
    kernels, cur, header = {}, None, None
    for row in csv.reader(open(path, encoding="utf-8", errors="replace").read().splitlines()):
        if not row:
            continue
        if row[0] == "Kernel Name":
            cur = row[1].split("(")[0].strip(); kernels[cur] = []; header = None
        elif row[0] == "Address":
            header = row
        elif header and cur and len(row) == len(header):
            d = dict(zip(header, row))
            if d.get("Address Space") in ("Global", "Shared", "Local", "Generic"):
                kernels[cur].append(d)
    return kernels

KEEP = ["Source", "Address Space", "Access Operation", "Access Size", "Instructions Executed",
        "Predicated-On Thread Instructions Executed", "L1 Tag Requests Global", "L1 Conflicts Shared N-Way",
        "L2 Theoretical Sectors Global", "L2 Theoretical Sectors Global Ideal", "L2 Theoretical Sectors Global Excessive"]

def dims(s):
    s = s.strip("() ")
    parts = [int(p) for p in s.replace(" ", "").split(",") if p]
    return parts

def main(raw, out):
    os.makedirs(out, exist_ok=True)
    gpu = open(os.path.join(raw, "gpu.txt")).read().strip().splitlines()[-1] if os.path.exists(os.path.join(raw, "gpu.txt")) else "?"
    for f in sorted(os.listdir(raw)):
        if not f.endswith(".metrics.csv"):
            continue
        prog = f[: -len(".metrics.csv")]
        metrics = read_metrics(os.path.join(raw, f))
        sass_path = os.path.join(raw, prog + ".source-sass.csv")
        sass = read_sass(sass_path) if os.path.exists(sass_path) else {}
        result = {"gpu": gpu, "kernels": {}}
        for name, m in metrics.items():
            g = lambda k: m.get(k)
            block, grid = dims(m["_block"]), dims(m["_grid"])
            total_blocks = 1
            for d in grid:
                total_blocks *= d
            result["kernels"][name] = {
                "block": block, "grid": grid, "blocks": total_blocks,
                "global_ld": {"instructions": g("smsp__sass_inst_executed_op_global_ld.sum"),
                              "sectors": g("l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum"),
                              "requests": g("l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum")},
                "global_st": {"instructions": g("smsp__sass_inst_executed_op_global_st.sum"),
                              "sectors": g("l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum"),
                              "requests": g("l1tex__t_requests_pipe_lsu_mem_global_op_st.sum")},
                "shared_ld": {"instructions": g("smsp__sass_inst_executed_op_shared_ld.sum"),
                              "wavefronts": g("l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum"),
                              "bank_conflicts": g("l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum")},
                "shared_st": {"instructions": g("smsp__sass_inst_executed_op_shared_st.sum"),
                              "wavefronts": g("l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum"),
                              "bank_conflicts": g("l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum")},
                "occupancy": {"registers": g("launch__registers_per_thread"),
                              "static_smem": g("launch__shared_mem_per_block_static"),
                              "dynamic_smem": g("launch__shared_mem_per_block_dynamic"),
                              "block_limit_registers": g("launch__occupancy_limit_registers"),
                              "block_limit_shared_mem": g("launch__occupancy_limit_shared_mem"),
                              "block_limit_warps": g("launch__occupancy_limit_warps"),
                              "block_limit_blocks": g("launch__occupancy_limit_blocks"),
                              "theoretical_occupancy_pct": g("sm__maximum_warps_per_active_cycle_pct")},
                "instructions": [{k: r.get(k) for k in KEEP} for r in sass.get(name, [])],
            }
        with open(os.path.join(out, prog + ".json"), "w") as fh:
            json.dump(result, fh, indent=1, sort_keys=True)
            fh.write("\n")
        print(f"{prog}: {len(result['kernels'])} kernels")

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
