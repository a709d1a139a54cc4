#!/usr/bin/env bash
# One device-machine run for issue 18's recall and occupancy on more real
# kernels, within a deadline: the CUDA samples that use shared memory under
# ncu (ncu_realworld.sh samples), then llm.c dev/cuda programs not profiled
# before (LLMC_PROGS), and meanwhile `check` with nvcc's registers and
# without over the CUDA samples, llm.c and PolyBench-ACC (CPU only).
#   bash tests/realworld/device_samples.sh SECONDS SAMPLE_SECONDS
# Carry `.gl` and `.realworld` as for device_truth.sh. Leaves $OUT/truth3.tar.xz.
set -u
deadline=$(( $(date +%s) + ${1:-560} ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
rw=/tmp/rw; o=/tmp/truth3; mkdir -p $rw $o
for t in .realworld/*.tar.xz; do tar xJf "$t" -C $rw; done
S=tests/realworld/ncu_realworld.sh
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
nvcc --version > $o/nvcc-version.txt; ncu --version > $o/ncu-version.txt
timeout $(( deadline - $(date +%s) - 20 )) bash -c \
  "for p in cuda-samples llm.c polybench-acc; do ONLY=\$p bash $S registers $rw .gl/cudalens $o/registers; done" &
export SAMPLES="${SAMPLES:-Samples/6_Performance/transpose Samples/0_Introduction/matrixMul
  Samples/2_Concepts_and_Techniques/reduction Samples/2_Concepts_and_Techniques/scan
  Samples/2_Concepts_and_Techniques/scalarProd Samples/2_Concepts_and_Techniques/convolutionSeparable
  Samples/2_Concepts_and_Techniques/histogram Samples/2_Concepts_and_Techniques/sortingNetworks
  Samples/0_Introduction/mergeSort Samples/2_Concepts_and_Techniques/dct8x8
  Samples/5_Domain_Specific/fastWalshTransform Samples/5_Domain_Specific/dwtHaar1D
  Samples/2_Concepts_and_Techniques/shfl_scan Samples/2_Concepts_and_Techniques/threadFenceReduction
  Samples/0_Introduction/simpleTemplates Samples/5_Domain_Specific/binomialOptions
  Samples/5_Domain_Specific/SobolQRNG Samples/5_Domain_Specific/stereoDisparity
  Samples/2_Concepts_and_Techniques/eigenvalues Samples/0_Introduction/fp16ScalarProduct
  Samples/5_Domain_Specific/FDTD3d Samples/0_Introduction/template}"
timeout "${2:-300}" bash $S samples $rw $o
left=$(( deadline - $(date +%s) - 25 ))
[ $left -gt 30 ] && LLMC_PROGS="${LLMC_PROGS:-layernorm_backward matmul_backward_bias attention_backward classifier_fused global_norm fused_residual_forward matmul_forward trimat_forward}" \
  timeout $left bash $S llmc $rw $o
wait
rm -f $o/llmc/*.source.csv  # the projects' own source text
cd /tmp && tar cJf "$OUT/truth3.tar.xz" truth3 && ls -la "$OUT"
