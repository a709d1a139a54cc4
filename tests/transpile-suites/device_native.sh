#!/usr/bin/env bash
# One device-machine run: bench --native over PolyBench-ACC at its programs'
# launches (native-polybench.sh), then, in the time left, more llm.c
# programs under ncu for issue 18's recall (ncu_realworld.sh llmc), and
# `check` with nvcc's registers over llm.c. Leaves $OUT/native-polybench.txt
# and $OUT/truth2.tar.xz.
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
# check with nvcc's registers over llm.c meanwhile (CPU only).
ONLY=llm.c timeout $(( $2 - 40 )) bash tests/realworld/ncu_realworld.sh registers $rw .gl/cudalens /tmp/o/registers &
bash tests/transpile-suites/native-polybench.sh $rw/polybench-acc .gl/cudalens "$OUT/native-polybench.txt" $(( start + $1 ))
left=$(( start + $2 - $(date +%s) - 20 ))
[ $left -gt 30 ] && timeout $left bash tests/realworld/ncu_realworld.sh llmc $rw /tmp/o
wait
rm -f /tmp/o/llmc/*.source.csv  # the projects' own source text
tar cJf "$OUT/truth2.tar.xz" -C /tmp/o .
