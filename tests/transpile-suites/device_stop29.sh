#!/usr/bin/env bash
# Stop 29's device check (issue 19): `bench --native` on NVIDIA's Vulkan
# driver for what the stop made transpile — doubles' exp/log/pow/sin/...
# in software (f64_math.rs) and early returns before barriers as a flag
# (early_exit.rs): our own kernels (device/early_exit_and_f64.cu), then the
# real kernels they opened (Rodinia's myocyte, lavaMD, particlefilter; the
# HeCBench programs in .realworld/hec-stop29.tar.xz).
#   bash tests/transpile-suites/device_stop29.sh SECONDS
# Carry `.gl` (Vulkan loader, stripped cudalens) and `.realworld`.
# Leaves $OUT/stop29.tar.xz.
set -u
deadline=$(( $(date +%s) + ${1:-540} - 45 ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=/tmp
rw=/tmp/rw; o=/tmp/stop29; mkdir -p $rw $o
for t in .realworld/*.tar.xz; do tar xJf "$t" -C $rw; done
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
own=$o/own; mkdir -p $own; cp tests/transpile-suites/device/early_exit_and_f64.cu $own/
for k in double_math neighbours rows; do
  timeout 120 .gl/cudalens bench $own/early_exit_and_f64.cu --kernel $k --native \
    --iterations 20 > $o/own-$k.txt 2>&1
  echo "exit $?" >> $o/own-$k.txt
done
export NATIVE_BENCH_TIMEOUT_S=60
for m in myocyte lavaMD particlefilter; do
  python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only rodinia --match $m \
    --deadline $deadline --json $o/rodinia-$m.json -- --iterations 20 > $o/rodinia-$m.md 2> $o/rodinia-$m.log
done
python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only hecbench --deadline $deadline \
  --json $o/hecbench.json -- --iterations 20 > $o/hecbench.md 2> $o/hecbench.log
cd /tmp && tar cJf "$OUT/stop29.tar.xz" stop29 && ls -la "$OUT"
