#!/usr/bin/env bash
# README.md's adoption kit ("In CI"), run locally: the GitHub Actions
# workflow's steps in a scratch repository, and the pre-commit hook through a
# real pre-commit (installed by .ci/install.sh into /opt/cudalens-pre-commit).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
export PYTHONPATH="/opt/cudalens-pre-commit${PYTHONPATH:+:$PYTHONPATH}"
python3 "$repo/tests/adoption/adoption.py" "$repo"
