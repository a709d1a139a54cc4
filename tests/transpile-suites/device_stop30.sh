#!/usr/bin/env bash
# Stop 30's device check (issue 19): `bench --native` on NVIDIA's Vulkan
# driver for the HeCBench kernels the stop's intrinsics opened (`__dp4a`,
# `ldexpf`, the half comparisons, `__float22half2_rn`, `hexp`, the SIMD-in-a-word
# `__vmaxs4`, `cbrt` of a double): dp4a, rfs, lulesh,
# gelu, relu and crossEntropy, from .realworld/hec-stop30.tar.xz.
#   bash tests/transpile-suites/device_stop30.sh SECONDS
# Carry `.gl` (Vulkan loader, stripped cudalens) and `.realworld`.
# Leaves $OUT/stop30.tar.xz.
set -u
deadline=$(( $(date +%s) + ${1:-540} - 45 ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=/tmp NATIVE_BENCH_TIMEOUT_S=60
rw=/tmp/rw; o=/tmp/stop30; mkdir -p $rw $o
tar xJf .realworld/hec-stop30.tar.xz -C $rw
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only hecbench --deadline $deadline \
  --json $o/hecbench.json -- --iterations 20 > $o/hecbench.md 2> $o/hecbench.log
cd /tmp && tar cJf "$OUT/stop30.tar.xz" stop30 && ls -la "$OUT"
