#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than package-lock.json.
# Sourced by scripts/start.sh and scripts/test.sh, so each of the README's two commands sets itself up.
ensure_deps() {
  local marker=node_modules/.package-lock.json
  [ -f "$marker" ] || marker=node_modules
  if [ ! -d node_modules ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$marker" ]; }; then
    echo "==> installing dependencies (npm ci)"
    npm ci --no-audit --no-fund
  fi
}
