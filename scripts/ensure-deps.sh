#!/usr/bin/env bash
# Installs the npm dependencies when node_modules is missing or older than package-lock.json, and the
# `phase` helper that runs a long step with progress. Sourced by scripts/start.sh and scripts/test.sh, so
# each of the README's two commands sets itself up.

# phase LABEL ESTIMATE_SECONDS COMMAND...: runs COMMAND, printing "LABEL: N s of about M s" every 5 s
# while it runs (a step that can take more than 5 s never stays silent), and records how long it took in
# node_modules/.cache/orderembed-phases so that the next estimate is this machine's. Returns COMMAND's
# exit status.
phase() {
  local label=$1 estimate=$2
  shift 2
  local key=${label// /-} record=node_modules/.cache/orderembed-phases
  if [ -f "$record" ]; then
    local last
    last=$(awk -v k="$key" '$1 == k { v = $2 } END { print v }' "$record" 2>/dev/null || true)
    [ -n "$last" ] && estimate=$last
  fi
  echo "==> ${label} (about ${estimate} s)"
  local start=$SECONDS
  "$@" &
  local pid=$! next=5 rc=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    local t=$((SECONDS - start))
    if [ "$t" -ge "$next" ] && kill -0 "$pid" 2>/dev/null; then
      local left=$((estimate - t))
      if [ "$left" -gt 0 ]; then
        echo "    ${label}: ${t} s of about ${estimate} s (~${left} s left)"
      else
        echo "    ${label}: ${t} s, longer than the usual ${estimate} s; still working"
      fi
      next=$((next + 5))
    fi
  done
  wait "$pid" || rc=$?
  local took=$((SECONDS - start))
  if [ "$rc" -ne 0 ]; then
    echo "    ${label}: FAILED after ${took} s (exit status ${rc})"
    return "$rc"
  fi
  echo "    ${label}: done in ${took} s"
  if [ -d node_modules ]; then
    mkdir -p node_modules/.cache
    { grep -v "^${key} " "$record" 2>/dev/null || true; echo "${key} ${took}"; } >"${record}.tmp" &&
      mv "${record}.tmp" "$record"
  fi
  return "$rc"
}

ensure_deps() {
  local marker=node_modules/.package-lock.json
  [ -f "$marker" ] || marker=node_modules
  if [ ! -d node_modules ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$marker" ]; }; then
    # --prefer-offline: packages already in npm's cache are not revalidated against the registry.
    phase "installing dependencies (npm ci)" 60 npm ci --prefer-offline --no-audit --no-fund --loglevel=error
  fi
}
