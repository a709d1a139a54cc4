#!/usr/bin/env bash
# Renders docs/screenshots/nvim.png: Neovim in tmux with the cudalens
# diagnostics and inlay hints, captured with colours (tmux capture-pane -e),
# turned into HTML (ansi2html, PyPI) and photographed by headless Chromium.
# Not part of the test suite; needs tmux, chromium and ansi2html.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../../.." && pwd)"
bin="${CUDALENS_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/cudalens}"
out="${1:-$repo/docs/screenshots/nvim.png}"
work="$(mktemp -d)"
session="cudalens-shot-$$"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT
cp "$repo/tests/corpus/memory/shared.cu" "$work/shared.cu"

tmux new-session -d -s "$session" -c "$work" -x 128 -y 36 \
  env TERM=xterm-256color COLORTERM=truecolor CUDALENS_REPO="$repo" CUDALENS_BIN="$bin" \
  nvim --clean -u "$repo/tests/editors/nvim/minimal_init.lua" \
  -c "luafile $repo/tests/editors/nvim/screenshot.lua" shared.cu
sleep "${SETTLE_SECONDS:-4}" # server start, analysis, inlay hints, code lenses
tmux capture-pane -e -p -t "$session" > "$work/screen.ansi"

python3 - "$work/screen.ansi" "$work/screen.html" <<'PY'
import sys
from ansi2html import Ansi2HTMLConverter
body = Ansi2HTMLConverter(inline=True, dark_bg=True, scheme="xterm").convert(open(sys.argv[1]).read(), full=False)
style = "body{margin:0;background:#1e1e1e;color:#d4d4d4} pre{margin:0;padding:8px;font:14px/1.3 'DejaVu Sans Mono',monospace}"
open(sys.argv[2], "w").write(f"<!DOCTYPE html><meta charset=utf-8><style>{style}</style><pre>{body}</pre>")
PY
mkdir -p "$(dirname "$out")"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1090,700 \
  --screenshot="$out" "file://$work/screen.html" 2>/dev/null
echo "wrote $out"
