#!/usr/bin/env bash
# The project's whole test suite: formatting, lints, unit/integration tests,
# end-to-end tests of the real binary and the editor clients.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
# Layers, LSP types only in src/lsp, no import circles (ARCHITECTURE.md, "Invariants").
python3 tests/architecture.py
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# Editor clients against the real server binary, in a real Neovim and a real
# VS Code (code-server); see tests/editors/. They use target/debug/cudalens.
cargo build -p cudalens --locked
# README's adoption kit (GitHub Actions workflow, pre-commit hook), run locally.
bash tests/adoption/run.sh
bash tests/editors/nvim/run.sh
bash tests/editors/vscode/run.sh
# `cudalens report`'s page in a real Chromium, offline, JavaScript off.
bash tests/report/run.sh
