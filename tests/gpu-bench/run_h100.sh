#!/usr/bin/env bash
# Runs the whole WGSL-vs-CUDA comparison on an NVIDIA GPU and writes the
# results into tests/gpu-bench/results/ (or $RESULTS):
#   1. build the native harness (nvcc -O3 -arch=sm_90; register/smem usage kept
#      in nvcc.log);
#   2. run the Rust driver (WGSL on wgpu/Vulkan, GPU timestamps): writes the
#      inputs, the WGSL outputs and wgsl.jsonl into $WORK;
#   3. run the CUDA harness on the same inputs and launches: cuda.jsonl plus
#      the per-buffer comparison;
#   4. compare.py -> results.json + results.md.
#
# The driver binary: $SUITE_BENCH, else .gl/suite_bench (carried to the device
# machine, see README.md), else it is built with cargo.
# Extra driver flags (e.g. --small, --only k1,k2) go in $BENCH_FLAGS.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${WORK:-/tmp/gpu-bench-work}
RES=${RESULTS:-$ROOT/tests/gpu-bench/results}
BENCH_FLAGS=${BENCH_FLAGS:-}
mkdir -p "$WORK" "$RES"
rm -rf "$WORK"/in "$WORK"/wgsl "$WORK"/cuda "$WORK"/*.jsonl

BIN=${SUITE_BENCH:-}
if [ -z "$BIN" ] && [ -x "$ROOT/.gl/suite_bench" ]; then BIN="$ROOT/.gl/suite_bench"; fi
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --release -p cudalens-gpu --example suite_bench) || exit 1
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/suite_bench"
fi

{
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv
    nvcc --version | tail -2
} > "$RES/device.txt" 2>&1
cat "$RES/device.txt"

echo "== nvcc"
nvcc -O3 -arch=sm_90 -std=c++17 -Xptxas -v -I"$ROOT" -o "$WORK/harness" \
    "$ROOT/tests/gpu-bench/cuda/harness.cu" > "$RES/nvcc.log" 2>&1
NVCC_RC=$?
grep -E "error|Compiling entry|Used" "$RES/nvcc.log" | head -80
[ $NVCC_RC -eq 0 ] || echo "nvcc failed (rc $NVCC_RC); CUDA side skipped"

echo "== WGSL (wgpu)"
# shellcheck disable=SC2086
timeout 420 "$BIN" --out "$WORK" --kernels "$ROOT/server/wgsl/tests/kernels" --ablate $BENCH_FLAGS > "$RES/wgsl.log" 2>&1
echo "suite_bench rc $?"
cat "$RES/wgsl.log" | grep -v '^{' 
cp "$WORK/wgsl.jsonl" "$RES/wgsl.jsonl" 2>/dev/null
mkdir -p "$RES/wgsl"
cp "$WORK"/wgsl/*.wgsl "$RES/wgsl/" 2>/dev/null

if [ $NVCC_RC -eq 0 ]; then
    echo "== CUDA"
    "$WORK/harness" "$WORK" > "$RES/cuda.log" 2>&1
    echo "harness rc $?"
    cat "$RES/cuda.log"
    cp "$WORK/cuda.jsonl" "$RES/cuda.jsonl" 2>/dev/null
    # SASS instruction mix of the native kernels, for the gap analysis.
    cuobjdump -sass "$WORK/harness" > "$WORK/harness.sass" 2>/dev/null &&
        gzip -c "$WORK/harness.sass" > "$RES/harness.sass.gz"
fi

echo "== compare"
python3 "$ROOT/tests/gpu-bench/compare.py" "$WORK" --out "$RES"
