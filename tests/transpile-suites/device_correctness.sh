#!/usr/bin/env bash
# One device-machine run of `bench --native` (native.py) over the CUDA
# samples and Rodinia, for issue 19's correctness count: every kernel that
# transpiles, WGSL and nvcc on the same inputs, outputs compared. The two
# suites run side by side to fit the run's time, so their timings are not
# comparable to a quiet run's; only the outputs are read from this run.
#   bash tests/transpile-suites/device_correctness.sh SECONDS
# Carry `.gl` and `.realworld` (see tests/realworld/device_truth.sh).
# Leaves $OUT/correctness.tar.xz.
set -u
deadline=$(( $(date +%s) + ${1:-540} - 60 ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
rw=/tmp/rw; o=/tmp/correctness; mkdir -p $rw $o
for t in .realworld/*.tar.xz; do tar xJf "$t" -C $rw; done
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
export NATIVE_BENCH_TIMEOUT_S=60
for s in rodinia cuda-samples; do
  python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only $s --deadline $deadline \
    --json $o/$s.json -- --iterations 20 > $o/$s.md 2> $o/$s.log &
done
wait
cd /tmp && tar cJf "$OUT/correctness.tar.xz" correctness && ls -la "$OUT"
