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

# The built-in scenes ship prebuilt in public/scenes/ (npm run prepare:scenes rebuilds them), and the
# default image encoder in public/models/: nothing is encoded here.

phase "building the page (vite build)" 20 node node_modules/vite/bin/vite.js build --logLevel warn

URL="http://127.0.0.1:${PORT}/"
echo
echo "=================================================================="
echo "  orderembed playground: ${URL}"
echo "  (Ctrl+C to stop)"
echo "=================================================================="
echo
exec node node_modules/vite/bin/vite.js preview --host 127.0.0.1 --port "${PORT}" --strictPort
