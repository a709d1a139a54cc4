#!/usr/bin/env bash
# The project's whole test suite: formatting, lints, unit/integration tests,
# end-to-end tests of the real binary and the editor clients.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
