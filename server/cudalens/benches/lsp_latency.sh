#!/usr/bin/env bash
# Reproduces the figures in BENCHMARKS.md (run from anywhere in the repository):
#   server/cudalens/benches/lsp_latency.sh
# 1. latency of didOpen and one-character edits on a generated 5,000-line .cu file,
#    for cudalens and (when installed: apt-get install clangd) clangd;
# 2. `cudalens check` throughput on a 40-file corpus, one core and all cores;
# 3. resident memory with 50 large files open.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release -p cudalens --bin cudalens --example gen_corpus
BIN="$CARGO_TARGET_DIR/release/cudalens"
GEN="$CARGO_TARGET_DIR/release/examples/gen_corpus"
TOOLS="$ROOT/server/cudalens/tests/tools"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$GEN" 5000 > "$WORK/bench5000.cu"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "file: $(wc -l < "$WORK/bench5000.cu") lines, $(wc -c < "$WORK/bench5000.cu") bytes"

echo "== latency: cudalens"
python3 "$TOOLS/lsp_latency.py" "$BIN" "$WORK/bench5000.cu" --edits 30
if command -v clangd > /dev/null; then
  # clangd on CUDA without the toolkit's headers, as in the team's reference measurement.
  printf -- '-xcuda\n--cuda-gpu-arch=sm_80\n-nocudainc\n-nocudalib\n' > "$WORK/compile_flags.txt"
  echo "== latency: $(clangd --version | sed -n 1p)"
  python3 "$TOOLS/lsp_latency.py" "clangd --log=error" "$WORK/bench5000.cu" --edits 10 --timeout 600
  rm "$WORK/compile_flags.txt"
fi

echo "== check throughput"
mkdir "$WORK/corpus"
for i in $(seq 1 40); do "$GEN" 5000 > "$WORK/corpus/f$i.cu"; done
BYTES=$(cat "$WORK"/corpus/*.cu | wc -c)
for JOBS in 1 "$(nproc)"; do
  START=$(date +%s.%N)
  "$BIN" check -j "$JOBS" "$WORK/corpus" > /dev/null 2>&1 || true
  END=$(date +%s.%N)
  python3 -c "b=$BYTES; t=$END-$START; print(f'-j $JOBS: {b/1e6:.1f} MB in {t:.2f} s = {b/1e6/t:.2f} MB/s ({b/1e6/t/$JOBS:.2f} MB/s per core)')"
done

echo "== memory: 50 large files open (right after opening, then after 40 s idle: default hibernateAfterSeconds 30)"
python3 "$TOOLS/lsp_rss.py" "$BIN" --settle 40 $(for i in $(seq 1 40); do echo "$WORK/corpus/f$i.cu"; done) \
  $(for i in $(seq 1 10); do cp "$WORK/bench5000.cu" "$WORK/extra$i.cu"; echo "$WORK/extra$i.cu"; done)
