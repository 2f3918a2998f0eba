#!/usr/bin/env bash
# Make sure the monitoring tools the tests use are installed: `promtool` and `prometheus` (the
# Debian package `prometheus`). Install it as root if missing, otherwise stop with a clear
# message. The package's own service is not started or needed: the tests run their own server.
set -euo pipefail

say() { printf 'tools: %s\n' "$*" >&2; }

missing=()
for tool in promtool prometheus; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0

say "missing: ${missing[*]}: installing the Debian package prometheus"
if [ "$(id -u)" != 0 ]; then
  say "need root to run: apt-get install prometheus"
  say "run it yourself (sudo apt-get install prometheus), then retry"
  exit 1
fi
apt-get update -qq
# policy-rc.d 101: do not start the packaged prometheus service (it would take port 9090)
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
for tool in promtool prometheus; do
  command -v "$tool" >/dev/null 2>&1 || { say "$tool still not found after installing"; exit 1; }
done
say "installed: $(prometheus --version 2>&1 | head -1)"
