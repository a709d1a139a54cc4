#!/usr/bin/env bash
# bench --native on every PolyBench-ACC kernel with the launch and sizes its
# own program uses (STANDARD_DATASET): no --grid/--block/--arg, so bench
# reads grid, block and scalars from the program's host code (the launches
# it finds are those ncu recorded on the H200 for all 47 kernels:
# results/polybench-launches-h200.tsv, made by polybench_launches.py, against
# results/host-launch-polybench.tsv). BENCHMARKS.md's "Native comparison"
# table comes from this.
#   bash tests/transpile-suites/native-polybench.sh DIR/polybench-acc CUDALENS [OUT] [DEADLINE_EPOCH]
# Needs nvcc and an NVIDIA GPU with Vulkan (the device machine).
set -u
PB=$1; BIN=$(readlink -f "$2"); OUT=${3:-/dev/stdout}; deadline=${4:-0}
launches=$(readlink -f "$(dirname "$0")/results/polybench-launches-h200.tsv")
cd "$PB/CUDA" || exit 1
# corr_kernel and covar_kernel run seconds per launch (2,048 threads each
# looping over an n×m matrix): last, so that a deadline cuts them first.
slow='corr_kernel|covar_kernel'
{ tail -n +2 "$launches" | grep -Ev "$slow"; tail -n +2 "$launches" | grep -E "$slow"; } | while IFS=$'\t' read -r file kernel rest; do
  if [ "$deadline" -gt 0 ] && [ $(( deadline - $(date +%s) )) -lt 20 ]; then
    echo "== $file $kernel: not run (deadline)"; continue
  fi
  echo "== $file $kernel"
  timeout 90 "$BIN" bench "$file" --kernel "$kernel" -I utilities --native --iterations 20 --warmup 3 2>&1 \
    | grep -E "^(kernel|launch|scalars|buffers|time|native|ratio|compare|clamps|error|warning)" || echo "exit: ${PIPESTATUS[0]}"
done > "$OUT"
