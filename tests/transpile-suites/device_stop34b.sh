#!/usr/bin/env bash
# Stop 34's second device check (issue 19): `bench --native` over the
# HeCBench programs whose kernels member functions, constructors and the
# narrow vector views opened (projectile, mandelbrot, aop, dpid, cfd,
# hogbom, distort, base64e): .realworld/hec-stop34b.tar.xz.
#   bash tests/transpile-suites/device_stop34b.sh SECONDS
# Carry `.gl` (Vulkan loader, stripped cudalens) and `.realworld`.
# Leaves $OUT/stop34b.tar.xz.
set -u
deadline=$(( $(date +%s) + ${1:-540} - 20 ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=/tmp NATIVE_BENCH_TIMEOUT_S=20
rw=/tmp/rw; o=/tmp/stop34b; mkdir -p $rw $o
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
tar xJf .realworld/hec-stop34b.tar.xz -C $rw
python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only hecbench --deadline $deadline \
  --json $o/hecbench.json -- --iterations 10 > $o/hecbench.md 2> $o/hecbench.log
cd /tmp && tar cJf "$OUT/stop34b.tar.xz" stop34b && ls -la "$OUT"
