#!/usr/bin/env bash
# Stop 34's device check (issue 19): `bench --native` on NVIDIA's Vulkan
# driver for the HeCBench programs this stop opened (ldpc, kernelLaunch and
# nqueen: 8- and 16-bit struct members; seam-carving: an initialised
# `__constant__` struct) and those stop 32's run did not reach (tpacf, sph):
# .realworld/hec-stop34.tar.xz holds their sources and src/include.
#   bash tests/transpile-suites/device_stop34.sh SECONDS
# Carry `.gl` (Vulkan loader, stripped cudalens) and `.realworld`.
# Leaves $OUT/stop34.tar.xz.
set -u
deadline=$(( $(date +%s) + ${1:-540} - 45 ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=/tmp NATIVE_BENCH_TIMEOUT_S=40
rw=/tmp/rw; o=/tmp/stop34; mkdir -p $rw $o
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
tar xJf .realworld/hec-stop34.tar.xz -C $rw
python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only hecbench --deadline $deadline \
  --json $o/hecbench.json -- --iterations 20 > $o/hecbench.md 2> $o/hecbench.log
cd /tmp && tar cJf "$OUT/stop34.tar.xz" stop34 && ls -la "$OUT"
