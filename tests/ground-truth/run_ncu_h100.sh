#!/usr/bin/env bash
# Regenerates the hardware ground truth for the analysis corpus on an NVIDIA GPU
# (run through the device tool on an H100; needs nvcc and ncu on PATH):
#   bash tests/ground-truth/run_ncu_h100.sh OUTDIR [SOURCE.cu...]
# (every corpus program when no source is named)
# Writes, per corpus program: ncu per-kernel metrics (CSV), the per-line source
# counters (CSV, when ncu can export them), and nvcc's resource usage.
set -uo pipefail
out=${1:?output directory}
shift
mkdir -p "$out"
root=$(cd "$(dirname "$0")/../.." && pwd)
metrics=(
  l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum
  l1tex__t_requests_pipe_lsu_mem_global_op_st.sum l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum
  l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum
  l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum
  smsp__sass_inst_executed_op_shared_ld.sum smsp__sass_inst_executed_op_shared_st.sum
  smsp__sass_inst_executed_op_global_ld.sum smsp__sass_inst_executed_op_global_st.sum
  launch__occupancy_limit_registers launch__occupancy_limit_shared_mem launch__occupancy_limit_warps
  launch__occupancy_limit_blocks sm__maximum_warps_per_active_cycle_pct launch__registers_per_thread
  launch__shared_mem_per_block_static launch__shared_mem_per_block_dynamic launch__block_size launch__grid_size
)
list=$(IFS=,; echo "${metrics[*]}")
nvidia-smi --query-gpu=name,driver_version --format=csv > "$out/gpu.txt" 2>&1
nvcc --version > "$out/nvcc-version.txt" 2>&1
ncu --version > "$out/ncu-version.txt" 2>&1
sources=("$@")
[ ${#sources[@]} -gt 0 ] || sources=("$root"/tests/corpus/memory/*.cu "$root"/tests/corpus/occupancy/*.cu)
for src in "${sources[@]}"; do
  name=$(basename "$(dirname "$src")")-$(basename "$src" .cu)
  echo "== $name"
  nvcc -O3 -arch=sm_90 -lineinfo --resource-usage -o "/tmp/$name" "$src" > "$out/$name.resource-usage.txt" 2>&1 || { echo "compile failed: $name"; continue; }
  ncu --csv --metrics "$list" "/tmp/$name" > "$out/$name.metrics.csv" 2> "$out/$name.ncu-stderr.txt"
  ncu --section SourceCounters --import-source yes -f -o "/tmp/$name" "/tmp/$name" >> "$out/$name.ncu-stderr.txt" 2>&1
  ncu -i "/tmp/$name.ncu-rep" --page source --csv --print-source sass > "$out/$name.source-sass.csv" 2>> "$out/$name.ncu-stderr.txt"
  ncu -i "/tmp/$name.ncu-rep" --page source --csv --print-source cuda > "$out/$name.source-cuda.csv" 2>> "$out/$name.ncu-stderr.txt"
done
