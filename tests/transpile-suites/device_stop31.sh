#!/usr/bin/env bash
# Stop 31's device check (issue 19): `bench --native` on NVIDIA's Vulkan
# driver for the HeCBench programs whose kernels stops 30 and 31 opened
# (.realworld/hec-stop30.tar.xz and hec-stop31.tar.xz: dp4a, rfs, gelu,
# relu, crossEntropy, lulesh; affine, s3d, ss, mnist, ace, che, hexciton,
# gmm, tpacf, groupnorm, d3q19-bgk, floydwarshall2, wedford, bn), or with
# `samples` the CUDA samples' sweep of device_correctness.sh alone (kernels
# with `__syncwarp` run since stop 31).
#   bash tests/transpile-suites/device_stop31.sh SECONDS [samples]
# Carry `.gl` (Vulkan loader, stripped cudalens) and `.realworld`.
# Leaves $OUT/stop31.tar.xz.
set -u
deadline=$(( $(date +%s) + ${1:-540} - 45 ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=/tmp NATIVE_BENCH_TIMEOUT_S=60
rw=/tmp/rw; o=/tmp/stop31; mkdir -p $rw $o
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
if [ "${2:-}" = samples ]; then
  tar xJf .realworld/rw-suites.tar.xz -C $rw
  python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only cuda-samples --deadline $deadline \
    --json $o/samples.json -- --iterations 20 > $o/samples.md 2> $o/samples.log
else
  for t in hec-stop30 hec-stop31; do tar xJf .realworld/$t.tar.xz -C $rw; done
  python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only hecbench --deadline $deadline \
    --json $o/hecbench.json -- --iterations 20 > $o/hecbench.md 2> $o/hecbench.log
fi
cd /tmp && tar cJf "$OUT/stop31.tar.xz" stop31 && ls -la "$OUT"
