#!/usr/bin/env bash
# One device-machine run that regenerates the hardware truth for issue 18 on
# real code (see ncu_realworld.sh for each part), within a deadline:
#   bash tests/realworld/device_truth.sh SECONDS
# Run from the repository root through the device tool, carrying `.gl` (the
# Vulkan loader debs and a stripped release `cudalens`) and `.realworld`
# (rw-src.tar.xz, rw-more.tar.xz: the projects at tests/realworld/projects.toml's
# commits). Leaves $OUT/truth.tar.xz.
set -u
deadline=$(( $(date +%s) + ${1:-560} ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
rw=/tmp/rw; o=/tmp/truth; mkdir -p $rw $o
for t in .realworld/*.tar.xz; do tar xJf "$t" -C $rw; done
S=tests/realworld/ncu_realworld.sh
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
nvcc --version > $o/nvcc-version.txt; ncu --version > $o/ncu-version.txt
# cudalens check with nvcc's register counts and without (CPU only).
timeout $(( deadline - $(date +%s) - 20 )) bash -c \
  "for p in polybench-acc llm.c; do ONLY=\$p bash $S registers $rw .gl/cudalens $o/registers; done" &
bash $S polybench $rw $o
bash $S polybench-source $rw $o
left=$(( deadline - $(date +%s) - 25 ))
[ $left -gt 30 ] && LLMC_PROGS="${LLMC_PROGS:-}" timeout $left bash $S llmc $rw $o
wait
cd /tmp && tar cJf "$OUT/truth.tar.xz" truth && ls -la "$OUT"
