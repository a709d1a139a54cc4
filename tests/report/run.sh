#!/usr/bin/env bash
# `cudalens report` in a real browser: real `cudalens bench` runs on the
# adapter wgpu finds (lavapipe in CI) make a history, `cudalens report` makes
# the page, and headless Chromium (the one the VS Code end-to-end test
# drives) renders it offline with JavaScript off: browser.mjs checks that
# its charts are drawn with one mark per run and that nothing is fetched.
#   CUDALENS_BIN  the binary (default: target/debug/cudalens, built if missing)
#   CHROMIUM      the browser (default: /usr/bin/chromium)
#   CUDALENS_REQUIRE_BROWSER=1  fail instead of skipping when Chromium or
#                 playwright-core is missing (default in CI)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${CUDALENS_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/cudalens}"
[ -x "$bin" ] || (cd "$repo" && cargo build -p cudalens)
chromium="${CHROMIUM:-/usr/bin/chromium}"
ext="$repo/editors/vscode"
if [ ! -x "$chromium" ] || { [ ! -d "$ext/node_modules/playwright-core" ] && ! command -v npm >/dev/null; }; then
  msg="chromium or npm not installed: dashboard browser test skipped (see .ci/install.sh)"
  [ "${CUDALENS_REQUIRE_BROWSER:-$([ "${CI:-}" = true ] && echo 1)}" = 1 ] && { echo "$msg" >&2; exit 1; }
  echo "$msg"
  exit 0
fi
# playwright-core comes with the extension's development dependencies.
[ -d "$ext/node_modules/playwright-core" ] || (cd "$ext" && npm ci --no-audit --no-fund)
CUDALENS_BIN="$bin" CHROMIUM="$chromium" timeout 120 node "$repo/tests/report/browser.mjs"
