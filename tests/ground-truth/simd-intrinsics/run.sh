#!/usr/bin/env bash
# Regenerates h100.csv (or the name given) on a machine with nvcc and an
# NVIDIA GPU: every SIMD intrinsic of simd.cu on fixed inputs.
set -euo pipefail
cd "$(dirname "$0")"
nvcc -O2 -arch=sm_90 -o /tmp/simd-ground-truth simd.cu
/tmp/simd-ground-truth > "${1:-h100.csv}"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > "${1:-h100.csv}.gpu"
