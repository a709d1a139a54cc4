#!/usr/bin/env bash
# Hardware truth for issue 18 on real code, on the device machine (nvcc, ncu,
# an sm_90 GPU). Regenerates what tests/realworld/occupancy_truth.py and
# ncu_recall.py read:
#   bash tests/realworld/ncu_realworld.sh registers RW CUDALENS OUT
#       `cudalens check --format json` over llm.c, PolyBench-ACC, Rodinia and
#       the CUDA samples twice: --nvcc off (the estimate) and --nvcc auto
#       (nvcc's counts): OUT/<project>.{estimate,nvcc}.json (ONLY=<project>: one)
#   bash tests/realworld/ncu_realworld.sh polybench RW OUT
#       each PolyBench-ACC program under ncu (launch statistics, occupancy):
#       OUT/polybench/<program>.csv
#   bash tests/realworld/ncu_realworld.sh polybench-source RW OUT
#       each PolyBench-ACC kernel (SMALL_DATASET, -lineinfo) under ncu with the
#       source counters, one kernel per report: OUT/polybench-source/
#       <program>-<kernel>.{source.csv,details.csv}
#   bash tests/realworld/ncu_realworld.sh llmc RW OUT [FIRST_VERSION LAST_VERSION]
#       each llm.c dev/cuda program, kernel versions 1..8, under ncu with the
#       source counters (sectors per line, shared-memory conflicts per line)
#       and occupancy: OUT/llmc/<program>-<version>.{source.csv,details.csv}
#   bash tests/realworld/ncu_realworld.sh samples RW OUT
#       each CUDA sample that uses shared memory (SAMPLES: the folders under
#       Samples/, default: every one with __shared__ that builds on its own)
#       built from its folder's .cu/.cpp files, under ncu with the source
#       counters and occupancy, first launch of each kernel:
#       OUT/samples/<folder>.details.csv
# RW holds the projects at the commits of tests/realworld/projects.toml.
set -u
what=$1; rw=$2
case $what in
registers)
  bin=$(readlink -f "$3"); out=$(readlink -f "$4"); mkdir -p "$out"
  check() { # project dir, then check's arguments
    local name=$1 dir=$2; shift 2
    [ -n "${ONLY:-}" ] && [ "$ONLY" != "$name" ] && return
    for mode in off auto; do
      local tag=estimate; [ $mode = auto ] && tag=nvcc
      (cd "$rw/$dir" && timeout 900 "$bin" check --format json -j 16 --nvcc $mode "$@" \
        > "$out/$name.$tag.json" 2> "$out/$name.$tag.stderr")
    done
  }
  check llm.c llm.c dev/cuda llmc train_gpt2.cu test_gpt2.cu train_gpt2_fp32.cu profile_gpt2.cu -I .
  # nvcc 13 no longer declares the CUDA 3 names PolyBench-ACC calls.
  check polybench-acc polybench-acc CUDA -I CUDA/utilities -D cudaThreadSynchronize=cudaDeviceSynchronize \
    -D cudaThreadExit=cudaDeviceReset
  check rodinia rodinia cuda
  # Each sample with an `inc` folder gets it through a compile_commands.json, as its CMake build would.
  python3 "$(dirname "$0")/samples_compile_commands.py" "$rw/cuda-samples" > /dev/null
  check cuda-samples cuda-samples Samples -I Common
  ;;
polybench)
  out=$(readlink -f "$3")/polybench; mkdir -p "$out" /tmp/pb
  cd "$rw/polybench-acc/CUDA" || exit 1
  for f in $(find . -name '*.cu' | sort); do
    name=$(basename "$f" .cu)
    nvcc -O3 -arch=sm_90 -I utilities -DcudaThreadSynchronize=cudaDeviceSynchronize \
      -DcudaThreadExit=cudaDeviceReset "$f" -o /tmp/pb/$name > "$out/$name.nvcc.txt" 2>&1 || continue
    # The first launch of each kernel; the program is stopped once each of
    # its kernels was profiled (before its CPU reference run).
    kernels=$(grep -c "__global__" "$f")
    (cd "$(dirname "$f")" && timeout 120 ncu --csv --section LaunchStats --section Occupancy \
      --kernel-id ::regex:.:1 --launch-count "$kernels" --kill 1 /tmp/pb/$name \
      > "$out/$name.csv" 2> "$out/$name.ncu-stderr.txt")
  done
  ;;
polybench-source)
  # Access patterns do not depend on the dataset size; the small one keeps
  # the source counters' instrumented replays short.
  out=$(readlink -f "$3")/polybench-source; mkdir -p "$out" /tmp/pbs
  cd "$rw/polybench-acc/CUDA" || exit 1
  for f in $(find . -name '*.cu' | sort); do
    name=$(basename "$f" .cu)
    nvcc -O3 -arch=sm_90 -lineinfo -DSMALL_DATASET -I utilities -DcudaThreadSynchronize=cudaDeviceSynchronize \
      -DcudaThreadExit=cudaDeviceReset "$f" -o /tmp/pbs/$name > "$out/$name.nvcc.txt" 2>&1 || continue
    for k in $(grep -o '__global__ void [A-Za-z0-9_]*' "$f" | awk '{print $3}' | sort -u); do
      rep=/tmp/pbs/$name-$k
      (cd "$(dirname "$f")" && timeout 60 ncu --section SourceCounters --section LaunchStats --section Occupancy \
        --import-source yes --kernel-name "regex:^$k\$" --launch-count 1 --kill 1 -f -o "$rep" /tmp/pbs/$name \
        > "$out/$name-$k.run.txt" 2>&1)
      [ -e "$rep.ncu-rep" ] || continue
      ncu -i "$rep.ncu-rep" --page source --csv --print-source cuda > "$out/$name-$k.source.csv" 2>/dev/null
      ncu -i "$rep.ncu-rep" --page details --csv > "$out/$name-$k.details.csv" 2>/dev/null
    done
  done
  ;;
llmc)
  out=$(readlink -f "$3")/llmc; mkdir -p "$out" /tmp/llmc
  first=${4:-1}; last=${5:-8}
  cd "$rw/llm.c/dev/cuda" || exit 1
  # LLMC_PROGS: the programs to profile, in this order (default: all).
  progs=${LLMC_PROGS:-$(ls *.cu | grep -v nccl_all_reduce | sed 's/\.cu$//')}
  [ -e /tmp/llmc/.built ] || {
    printf '%s\n' $progs | xargs -P 16 -I{} sh -c \
      'nvcc -O3 -arch=sm_90 -lineinfo -std=c++17 -Xcompiler -fopenmp {}.cu -lcublas -lcublasLt -o /tmp/llmc/{} > /tmp/llmc/{}.nvcc.txt 2>&1'
    cp /tmp/llmc/*.nvcc.txt "$out/" ; touch /tmp/llmc/.built; }
  for p in $progs; do
    [ -x /tmp/llmc/$p ] || continue
    for v in $(seq "$first" "$last"); do
      rep=/tmp/llmc/$p-$v
      timeout 60 ncu --section SourceCounters --section LaunchStats --section Occupancy --import-source yes \
        --kernel-id ::regex:.:1 --launch-count 8 -f -o "$rep" /tmp/llmc/$p $v > "$out/$p-$v.run.txt" 2>&1
      [ -e "$rep.ncu-rep" ] || { echo "$p $v: no report" >> "$out/summary.txt"; break; }
      ncu -i "$rep.ncu-rep" --page source --csv --print-source cuda > "$out/$p-$v.source.csv" 2>/dev/null
      ncu -i "$rep.ncu-rep" --page details --csv > "$out/$p-$v.details.csv" 2>/dev/null
      echo "$p $v: ok" >> "$out/summary.txt"
    done
  done
  ;;
samples)
  out=$(readlink -f "$3")/samples; mkdir -p "$out" /tmp/smp
  cd "$rw/cuda-samples" || exit 1
  # Samples that need OpenGL, NVRTC, the driver API's PTX files, several
  # GPUs or dynamic parallelism's separate linking are left out.
  dirs=${SAMPLES:-$(grep -rl "__shared__" --include=*.cu --include=*.cuh Samples | xargs -n1 dirname | sed 's,/\(src\|inc\)$,,' \
    | sort -u | grep -v -e nvrtc -e GL -e Drv -e cdp -e MultiGPU -e MultiDevice -e Tegra -e simpleHyperQ)}
  build() { # sample folder -> /tmp/smp/<name>
    local d=$1 name; name=$(basename "$d")
    nvcc -O3 -arch=sm_90 -lineinfo -std=c++17 -I Common -I "$d" -I "$d/inc" \
      $(ls "$d"/*.cu "$d"/*.cpp "$d"/src/*.cu "$d"/src/*.cpp 2>/dev/null) \
      -lcublas -lcurand -lcufft -lcusparse -o /tmp/smp/$name > /tmp/smp/$name.nvcc.txt 2>&1
  }
  export -f build
  printf '%s\n' $dirs | xargs -P 16 -I{} bash -c 'build {}'
  for d in $dirs; do
    name=$(basename "$d")
    [ -x /tmp/smp/$name ] || { echo "$d: does not build" >> "$out/summary.txt"; continue; }
    rep=/tmp/smp/$name-rep
    (cd "$d" && timeout 90 ncu --section SourceCounters --section LaunchStats --section Occupancy --import-source yes \
      --kernel-id ::regex:.:1 --launch-count 12 -f -o "$rep" /tmp/smp/$name > "$out/$name.run.txt" 2>&1)
    [ -e "$rep.ncu-rep" ] || { echo "$d: no report" >> "$out/summary.txt"; continue; }
    ncu -i "$rep.ncu-rep" --page details --csv > "$out/$name.details.csv" 2>/dev/null
    echo "$d: ok" >> "$out/summary.txt"
  done
  ;;
esac
