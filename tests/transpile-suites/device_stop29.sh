#!/usr/bin/env bash
# Stop 29's device check (issue 19): `bench --native` on NVIDIA's Vulkan
# driver for what the stop made transpile — doubles' exp/log/pow/sin/...
# in software (f64_math.rs) and early returns before barriers as a flag
# (early_exit.rs): our own kernels (device/early_exit_and_f64.cu), then the
# real kernels they opened (Rodinia's myocyte, lavaMD, particlefilter; the
# HeCBench programs in .realworld/hec-stop29.tar.xz, crs apart: its scalars
# are parameters of uncalled host functions, and bench's default for them,
# the problem size, makes each launch loop a million times, so crs runs with
# the sizes of its own main.cu's smallest case given as --arg).
#   bash tests/transpile-suites/device_stop29.sh PHASES SECONDS
# PHASES: a comma list of own, rodinia, hecbench, crs, and rerun (HeCBench's
# rushlarsen alone; run 1 was own,rodinia,hecbench with crs inside hecbench,
# where it timed out; run 2 crs,hecbench; run 3 rerun, after pow's special
# values and the NaN tests were fixed).
# Carry `.gl` (Vulkan loader, stripped cudalens) and `.realworld`.
# Leaves $OUT/stop29.tar.xz.
set -u
phases=",$1,"
deadline=$(( $(date +%s) + ${2:-540} - 45 ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=/tmp
rw=/tmp/rw; o=/tmp/stop29; mkdir -p $rw $o
for t in .realworld/*.tar.xz; do tar xJf "$t" -C $rw; done
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
if [[ $phases == *,own,* ]]; then
  own=$o/own; mkdir -p $own; cp tests/transpile-suites/device/early_exit_and_f64.cu $own/
  for k in double_math neighbours rows; do
    timeout 120 .gl/cudalens bench $own/early_exit_and_f64.cu --kernel $k --native \
      --iterations 20 > $o/own-$k.txt 2>&1
    echo "exit $?" >> $o/own-$k.txt
  done
fi
export NATIVE_BENCH_TIMEOUT_S=60
if [[ $phases == *,rodinia,* ]]; then
  for m in myocyte lavaMD particlefilter; do
    python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only rodinia --match $m \
      --deadline $deadline --json $o/rodinia-$m.json -- --iterations 20 > $o/rodinia-$m.md 2> $o/rodinia-$m.log
  done
fi
if [[ $phases == *,crs,* ]]; then
  # main.cu's smallest case: k = 4 data blocks, w from the kernel's name.
  crs=$o/crs; mkdir -p $crs; cp -r $rw/hecbench/src/crs-cuda/. $crs/
  for k in gcrs_m_1_w_4 gcrs_m_2_w_5 gcrs_m_3_w_6 gcrs_m_4_w_8; do
    timeout 150 .gl/cudalens bench $crs/kernels.cu --kernel ${k}_coding_dotprod --native \
      --iterations 20 --arg k=4 --arg index=0 --arg size=1048576 > $o/crs-$k.txt 2>&1
    echo "exit $?" >> $o/crs-$k.txt
  done
  rm -rf $rw/hecbench/src/crs-cuda
fi
if [[ $phases == *,rerun,* ]]; then
  python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only hecbench --match rushlarsen \
    --deadline $deadline --json $o/rerun.json -- --iterations 20 > $o/rerun.md 2> $o/rerun.log
fi
if [[ $phases == *,hecbench,* ]]; then
  python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only hecbench --deadline $deadline \
    --json $o/hecbench.json -- --iterations 20 > $o/hecbench.md 2> $o/hecbench.log
fi
rm -rf $o/own/.cudalens $o/crs
cd /tmp && tar cJf "$OUT/stop29.tar.xz" stop29 && ls -la "$OUT"
