#!/usr/bin/env bash
# Stop 34's device checks (issue 19): `bench --native` on NVIDIA's Vulkan
# driver over the HeCBench programs a tarball in .realworld holds:
#   hec-stop34   the programs stop 34 opened first (ldpc, kernelLaunch and
#                nqueen: 8- and 16-bit struct members; seam-carving: an
#                initialised `__constant__` struct) and those stop 32's run
#                did not reach (tpacf, sph);
#   hec-stop34b  those member functions, constructors and narrow vector
#                views opened (projectile, mandelbrot, aop, dpid, cfd,
#                hogbom, distort, base64e).
# Each holds the programs' sources and src/include.
#   bash tests/transpile-suites/device_stop34.sh SECONDS [TARBALL]
# Carry `.gl` (Vulkan loader, stripped cudalens) and `.realworld`.
# Leaves $OUT/TARBALL.tar.xz.
set -u
name=${2:-hec-stop34}
deadline=$(( $(date +%s) + ${1:-540} - 30 ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=/tmp NATIVE_BENCH_TIMEOUT_S=40
rw=/tmp/rw; o=/tmp/$name; mkdir -p $rw $o
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
tar xJf .realworld/$name.tar.xz -C $rw
python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only hecbench --deadline $deadline \
  --json $o/hecbench.json -- --iterations 20 > $o/hecbench.md 2> $o/hecbench.log
cd /tmp && tar cJf "$OUT/$name.tar.xz" $name && ls -la "$OUT"
