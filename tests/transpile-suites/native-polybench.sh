#!/usr/bin/env bash
# bench --native on every PolyBench-ACC kernel with the launch and sizes its
# own program uses (STANDARD_DATASET): grid and block as ncu recorded them,
# scalars from the program (results/polybench-launches-h200.tsv, made by
# polybench_launches.py). BENCHMARKS.md's "Native comparison" table comes
# from this.
#   bash tests/transpile-suites/native-polybench.sh DIR/polybench-acc CUDALENS [OUT] [DEADLINE_EPOCH]
# Needs nvcc and an NVIDIA GPU with Vulkan (the device machine).
# Without --grid/--block/--arg, bench now reads each program's own launch
# from its host code (tests/transpile-suites/host-launch.py lists them);
# atax_kernel1 and mvt_kernel1 below are NOT their programs' launches,
# which are grid 128 × block 32×8.
set -u
PB=$1; BIN=$(readlink -f "$2"); OUT=${3:-/dev/stdout}; deadline=${4:-0}
launches=$(readlink -f "$(dirname "$0")/results/polybench-launches-h200.tsv")
cd "$PB/CUDA" || exit 1
# corr_kernel and covar_kernel run seconds per launch (2,048 threads each
# looping over an n×m matrix): last, so that a deadline cuts them first.
slow='corr_kernel|covar_kernel'
{ tail -n +2 "$launches" | grep -Ev "$slow"; tail -n +2 "$launches" | grep -E "$slow"; } | while IFS=$'\t' read -r file kernel grid block args how; do
  if [ "$deadline" -gt 0 ] && [ $(( deadline - $(date +%s) )) -lt 20 ]; then
    echo "== $file $kernel: not run (deadline)"; continue
  fi
  flags=()
  for a in $args; do flags+=(--arg "$a"); done
  echo "== $file $kernel --grid $grid --block $block $args"
  timeout 90 "$BIN" bench "$file" --kernel "$kernel" -I utilities --native --iterations 20 --warmup 3 \
    --grid "$grid" --block "$block" "${flags[@]}" 2>&1 \
    | grep -E "^(kernel|launch|scalars|buffers|time|native|ratio|compare|clamps|error|warning)" || echo "exit: ${PIPESTATUS[0]}"
done > "$OUT"
