#!/usr/bin/env bash
# Collects a real benchmark history for the learned tuner on the GPU this runs
# on: `cudalens bench --autotune` sweeps the block sizes of every kernel in
# the tuning corpus (tests/tuning-data/kernels.cu, the transpile suite, the
# memory and occupancy corpora, the examples), each run is recorded with its
# kernel features in a fresh workspace's .cudalens/history.redb, and
# `cudalens history --export` writes the learned tuner's JSON lines.
#
#   CUDALENS=path/to/cudalens (default: .gl/cudalens, else target/release/cudalens)
#   OUT_DIR=where results go (default: tests/tuning-data/results)
#   BUDGET_S=stop starting new sweeps after this many seconds (the export still runs)
# 1D kernels run over 2^22 elements, 2D kernels over 2048x2048 (16 MiB per float buffer).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${CUDALENS:-}
[ -z "$BIN" ] && [ -x "$ROOT/.gl/cudalens" ] && BIN="$ROOT/.gl/cudalens"
[ -z "$BIN" ] && BIN="$ROOT/target/release/cudalens"
RES=${OUT_DIR:-$ROOT/tests/tuning-data/results}
WORK=${WORK:-/tmp/tuning-work}
rm -rf "$WORK" && mkdir -p "$WORK/.git" "$WORK/runs" "$RES"

# One flat workspace: file names say where each kernel came from.
cp "$ROOT/tests/tuning-data/kernels.cu" "$WORK/tuning_kernels.cu"
for f in "$ROOT"/server/wgsl/tests/kernels/*.cu; do cp "$f" "$WORK/suite_$(basename "$f")"; done
for f in "$ROOT"/tests/corpus/memory/*.cu "$ROOT"/tests/corpus/occupancy/*.cu; do
    cp "$f" "$WORK/corpus_$(basename "$f")"
done
cp "$ROOT"/examples/*.cu "$WORK/" 2>/dev/null
cp -r "$ROOT/examples/polybench" "$WORK/polybench" 2>/dev/null

"$BIN" hw > "$RES/hw.txt" 2>&1
cat "$RES/hw.txt"
start=$(date +%s)
for file in "$WORK"/*.cu "$WORK"/polybench/*.cu; do
    [ -f "$file" ] || continue
    # Kernel names and whether each indexes a second axis (then N x N).
    "$BIN" check --format json "$file" 2>/dev/null | python3 -c '
import json, re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
for k in json.load(sys.stdin)["files"][0]["kernels"]:
    r = k["range"]
    body = "\n".join(text[r["start"]["line"]:r["end"]["line"] + 1])
    print(k["name"], "2d" if re.search(r"(threadIdx|blockIdx|blockDim)\.[yz]", body) else "1d")
' "$file" | sort -u | while read -r kernel dims; do
        name="$(basename "$file" .cu)__$kernel"
        if [ $(( $(date +%s) - start )) -ge "${BUDGET_S:-999999}" ]; then
            echo "$name skipped: budget"; continue
        fi
        size=4194304; [ "$dims" = 2d ] && size=2048
        timeout 120 "$BIN" bench "$file" --kernel "$kernel" --autotune --size "$size" \
            --warmup 5 --iterations 30 --timeout 20 --json > "$WORK/runs/$name.json" 2> "$WORK/runs/$name.err"
        echo "$name $dims rc=$?"
    done
done | tee "$RES/runs.log"
echo "autotune sweeps took $(( $(date +%s) - start )) s" | tee -a "$RES/runs.log"
"$BIN" history --export "$RES/history.jsonl" --workspace "$WORK" 2>&1 | tee -a "$RES/runs.log"
tar -C "$WORK" -czf "$RES/runs.tar.gz" runs
