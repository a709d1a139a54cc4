#!/usr/bin/env bash
# One device-machine run: bench --native over PolyBench-ACC at its programs'
# launches (native-polybench.sh), then, in the time left, more llm.c
# programs under ncu for issue 18's recall (ncu_realworld.sh llmc).
#   bash tests/transpile-suites/device_native.sh SECONDS_FOR_POLYBENCH SECONDS_IN_ALL
# Carry `.gl` and `.realworld` (see tests/realworld/device_truth.sh).
set -u
start=$(date +%s)
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
rw=/tmp/rw; mkdir -p $rw /tmp/o
for t in .realworld/*.tar.xz; do tar xJf "$t" -C $rw; done
nvidia-smi --query-gpu=name,driver_version --format=csv > "$OUT/gpu.txt" 2>&1
bash tests/transpile-suites/native-polybench.sh $rw/polybench-acc .gl/cudalens "$OUT/native-polybench.txt" $(( start + $1 ))
left=$(( start + $2 - $(date +%s) - 20 ))
if [ $left -gt 30 ]; then
  timeout $left bash tests/realworld/ncu_realworld.sh llmc $rw /tmp/o
  tar cJf "$OUT/llmc.tar.xz" -C /tmp/o llmc
fi
