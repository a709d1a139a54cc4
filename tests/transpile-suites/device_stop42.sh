#!/usr/bin/env bash
# Stop 42's device checks (issue 19): `bench --native` on NVIDIA's Vulkan
# driver over the kernels that validated but could not become a pipeline
# before stop 42 (HeCBench's wedford, jacobi, metropolis, sss; the samples'
# shfl_scan) and softmax-online, whose three kernels timed out at 40 s per
# `bench --native` call at stop 42's first run (its program allocates two
# buffers of 411 million floats): here each call has 240 s.
#   bash tests/transpile-suites/device_stop42.sh SECONDS
# Carry `.gl` (Vulkan loader, stripped cudalens) and `.realworld` with
# hec-stop42.tar.xz and samples-stop42.tar.xz (the programs' sources,
# src/include and Common). Leaves $OUT/stop42.tar.xz (a .json, .md and .log per program).
set -u
deadline=$(( $(date +%s) + ${1:-560} - 30 ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=/tmp
rw=/tmp/rw; o=/tmp/stop42; mkdir -p $rw $o
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
tar xJf .realworld/hec-stop42.tar.xz -C $rw
tar xJf .realworld/samples-stop42.tar.xz -C $rw
NATIVE_BENCH_TIMEOUT_S=60 python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only cuda-samples \
  --match shfl_scan --deadline $deadline --json $o/samples.json -- --iterations 20 > $o/samples.md 2> $o/samples.log
# The small programs first, softmax-online last (the deadline may stop it).
for p in wedford jacobi metropolis sss softmax-online; do
  NATIVE_BENCH_TIMEOUT_S=240 python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only hecbench \
    --match src/$p-cuda/ --deadline $deadline --json $o/$p.json -- --iterations 20 > $o/$p.md 2> $o/$p.log
done
cd /tmp && tar cJf "$OUT/stop42.tar.xz" stop42 && ls -la "$OUT"
