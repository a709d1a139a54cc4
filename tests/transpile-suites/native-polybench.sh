#!/usr/bin/env bash
# bench --native on PolyBench-ACC kernels with the launches and sizes their
# programs use (STANDARD_DATASET; grid and block as each program computes
# them): the table in BENCHMARKS.md's "Native comparison" comes from this.
#   bash tests/transpile-suites/native-polybench.sh DIR/polybench-acc CUDALENS [OUT]
# Needs nvcc and an NVIDIA GPU with Vulkan (the device machine).
# Without --grid/--block/--arg, bench now reads each program's own launch
# from its host code (tests/transpile-suites/host-launch.py lists them);
# atax_kernel1 and mvt_kernel1 below are NOT their programs' launches,
# which are grid 128 × block 32×8.
set -u
PB=$1; BIN=$2; OUT=${3:-/dev/stdout}
cd "$PB/CUDA" || exit 1
run() { # file kernel args...
  local file=$1 kernel=$2; shift 2
  echo "== $file $kernel $*"
  timeout 240 "$BIN" bench "$file" --kernel "$kernel" -I utilities --native --iterations 50 "$@" 2>&1 \
    | grep -E "^(kernel|launch|scalars|buffers|time|native|ratio|compare|clamps|error|warning)" || true
}
{
run linear-algebra/kernels/gemm/gemm.cu gemm_kernel --grid 16,64 --block 32,8 --arg ni=512 --arg nj=512 --arg nk=512 --arg alpha=32412 --arg beta=2123
run linear-algebra/kernels/syrk/syrk.cu syrk_kernel --grid 32,128 --block 32,8 --arg ni=1024 --arg nj=1024 --arg alpha=32412 --arg beta=2123
run linear-algebra/kernels/atax/atax.cu atax_kernel1 --grid 16 --block 256 --arg nx=4096 --arg ny=4096
run linear-algebra/kernels/mvt/mvt.cu mvt_kernel1 --grid 16 --block 256 --arg n=4096
run stencils/convolution-2d/2DConvolution.cu convolution2D_kernel --grid 128,512 --block 32,8 --arg ni=4096 --arg nj=4096
} > "$OUT"
