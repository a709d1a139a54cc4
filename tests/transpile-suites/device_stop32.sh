#!/usr/bin/env bash
# Stop 32's device check (issue 19): `bench --native` on NVIDIA's Vulkan
# driver for
#   hecbench  the HeCBench programs whose kernels stop 32 opened (aes,
#             bitcracker, deredundancy, entropy, mr, present,
#             all-pairs-distance, blockAccess, cbsfil, memtest) and those
#             with buffers of structs that bench now fills (tpacf,
#             d3q19-bgk, sph, particles, b+tree, sheath, floydwarshall2):
#             .realworld/hec-stop32.tar.xz;
#   samples   the CUDA samples' sweep (kernels with `__syncwarp` run since
#             stop 31, buffers of structs since stop 32);
#   rodinia   Rodinia's sweep (dwt2d's components opened, b+tree's structs).
#   bash tests/transpile-suites/device_stop32.sh SECONDS hecbench|samples|rodinia
# Carry `.gl` (Vulkan loader, stripped cudalens) and `.realworld`.
# Leaves $OUT/stop32-MODE.tar.xz.
set -u
mode=${2:-hecbench}
deadline=$(( $(date +%s) + ${1:-540} - 45 ))
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $icd ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=/tmp NATIVE_BENCH_TIMEOUT_S=60
rw=/tmp/rw; o=/tmp/stop32-$mode; mkdir -p $rw $o
nvidia-smi --query-gpu=name,driver_version --format=csv > $o/gpu.txt 2>&1
case $mode in
  hecbench) tar xJf .realworld/hec-stop32.tar.xz -C $rw; only=hecbench ;;
  samples) tar xJf .realworld/rw-suites.tar.xz -C $rw; only=cuda-samples ;;
  rodinia) tar xJf .realworld/rw-suites.tar.xz -C $rw; only=rodinia ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
python3 tests/transpile-suites/native.py $rw --cudalens .gl/cudalens --only $only --deadline $deadline \
  --json $o/$only.json -- --iterations 20 > $o/$only.md 2> $o/$only.log
cd /tmp && tar cJf "$OUT/stop32-$mode.tar.xz" stop32-$mode && ls -la "$OUT"
