#!/usr/bin/env bash
# Builds the playground and serves it on http://127.0.0.1:${PORT:-5173}/ (what `npm start` runs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PORT="${PORT:-5173}"

# shellcheck source=scripts/ensure-deps.sh
source scripts/ensure-deps.sh
ensure_deps

echo "==> copying tfjs wasm binaries"
node scripts/copy-wasm.mjs

# The built-in scenes: rendered and encoded once (about 2 minutes on 2 cores) into public/packs/scenes,
# so the page opens ready to train. Without the pack the page renders them itself (and caches them).
if [ ! -f public/packs/scenes/manifest.json ] && [ "${SKIP_SCENES:-0}" != "1" ]; then
  echo "==> rendering the built-in scenes dataset (first start only)"
  node node_modules/tsx/dist/cli.mjs scripts/prepare-scenes.ts || echo "warning: could not prepare the scenes pack; the page will render the scenes itself"
fi

echo "==> building"
node node_modules/vite/bin/vite.js build

URL="http://127.0.0.1:${PORT}/"
echo
echo "=================================================================="
echo "  orderembed playground: ${URL}"
echo "  (Ctrl+C to stop)"
echo "=================================================================="
echo
exec node node_modules/vite/bin/vite.js preview --host 127.0.0.1 --port "${PORT}" --strictPort
