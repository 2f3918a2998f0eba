#!/usr/bin/env bash
# The web console (web/): Node, its npm dependencies, its build and its generated API types.
#   devtools/web.sh node    Node.js >= 18.18 and npm, from Debian when missing (as root)
#   devtools/web.sh deps    npm ci, when package-lock.json changed since the last one
#   devtools/web.sh build   vite build, when a source, the lock or the config changed
#   devtools/web.sh types   web/src/api/schema.d.ts from the gateway's OpenAPI document
# Quick when there is nothing to do: stamps hold the hash of what the step was made from.
set -euo pipefail

say() { printf 'web: %s\n' "$*" >&2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WEB="$ROOT/web"
PY="${PY:-$ROOT/.venv/bin/python}"

node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>18||(a===18&&b>=18)?0:1)'
}

ensure_node() {
  node_ok && return 0
  say "Node.js >= 18.18 with npm is needed to build the console; installing Debian's nodejs and npm"
  if [ "$(id -u)" != 0 ]; then
    say "need root to run: apt-get install nodejs npm (or install Node.js 18.18+ yourself)"
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  node_ok || { say "node $(node --version 2>/dev/null) is still too old or npm is missing"; exit 1; }
  say "installed: node $(node --version), npm $(npm --version)"
}

ensure_deps() {
  ensure_node
  local stamp="$WEB/node_modules/.stamp-$(sha1sum "$WEB/package-lock.json" | cut -c1-12)"
  [ -e "$stamp" ] && return 0
  say "installing the console's npm dependencies (npm ci)"
  (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
}

source_hash() {
  (cd "$WEB" && find src public index.html package-lock.json vite.config.ts tsconfig.json \
     -type f ! -name components.d.ts -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -c1-12)
}

build() {
  ensure_deps
  local hash; hash=$(source_hash)
  [ -e "$WEB/dist/.build-$hash" ] && return 0
  say "building the console (vite build)"
  local started=$SECONDS
  (cd "$WEB" && npx --no-install vite build --logLevel error)
  touch "$WEB/dist/.build-$hash"
  say "built web/dist in $((SECONDS - started)) s"
}

types() {
  ensure_deps
  "$PY" -m devtools.openapi >"$WEB/openapi.json"
  (cd "$WEB" && npx --no-install openapi-typescript openapi.json -o src/api/schema.d.ts --silent)
  say "wrote web/src/api/schema.d.ts"
}

case "${1:-}" in
  node) ensure_node ;;
  deps) ensure_deps ;;
  build) build ;;
  types) types ;;
  *) echo "usage: devtools/web.sh node|deps|build|types" >&2; exit 2 ;;
esac
