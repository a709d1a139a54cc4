#!/usr/bin/env bash
# Stop 46's device checks (issue 19): the SIMD, DPX and __byte_perm ground
# truth (tests/ground-truth/simd-intrinsics), then `bench --native` on
# HeCBench's intrinsics-simd (every SIMD and DPX intrinsic in one kernel,
# transpiled since stop 46) and tridiagonal (`__frcp_rn`).
#   bash tests/transpile-suites/device_stop46.sh SECONDS
# Carry `.gl` (Vulkan loader, stripped cudalens) and `.realworld` with
# hec-stop46.tar.xz (the programs' sources and src/include). Leaves
# $OUT/stop46.tar.xz (the ground-truth CSV, a .json, .md and .log per program).
set -u
deadline=$(( $(date +%s) + ${1:-560} - 30 ))
o=/tmp/stop46; rw=/tmp/rw; mkdir -p $o $rw
bash tests/ground-truth/simd-intrinsics/run.sh $o/simd-intrinsics.csv > $o/ground-truth.log 2>&1
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=/tmp
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
tar xJf .realworld/hec-stop46.tar.xz -C $rw
for p in intrinsics-simd tridiagonal; do
  NATIVE_BENCH_TIMEOUT_S=120 python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only hecbench \
    --match src/$p-cuda/ --deadline $deadline --json $o/$p.json -- --iterations 20 > $o/$p.md 2> $o/$p.log
done
cd /tmp && tar cJf "$OUT/stop46.tar.xz" stop46 && ls -la "$OUT"
