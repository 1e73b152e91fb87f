#!/usr/bin/env bash
# What `npm test` runs: the unit suite (vitest, Node), then the browser suite (vitest.e2e.config.ts, if
# present and E2E is not 0), then ONE plain summary line "N passed, N failed" as the last output.
# Exits non-zero if any test failed, a suite crashed, or no test ran at all.
#
#   E2E=0 npm test     # unit suite only
#   PYTHON_TESTS=0 npm test   # without the PyTorch tests (python/tests; they run when PyTorch is importable)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# --- dependencies: npm ci when node_modules is missing or older than package-lock.json -----------------
# shellcheck source=scripts/ensure-deps.sh
source scripts/ensure-deps.sh
ensure_deps || { echo "test.sh: npm ci failed"; echo "0 passed, 1 failed"; exit 1; }

mkdir -p test-results
unit_json=test-results/vitest.json
e2e_json=test-results/vitest-e2e.json
rm -f "$unit_json" "$e2e_json"

# --- unit suite --------------------------------------------------------------------------------------
unit_rc=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$unit_json" || unit_rc=$?

# --- Python suite: the PyTorch port (python/), when a python3 with PyTorch is found -------------------
# Debian's /usr/bin/python3 sees python3-torch; a pyenv python3 earlier on the PATH does not.
py_json=test-results/python.json
rm -f "$py_json"
py_ran=0
py_rc=0
torch_python=""
for c in "${ORDEREMBED_PYTHON:-}" /usr/bin/python3 python3; do
  if [ -n "$c" ] && "$c" -c 'import torch' >/dev/null 2>&1; then torch_python=$c; break; fi
done
if [ "${PYTHON_TESTS:-1}" = "0" ]; then
  echo "test.sh: Python (PyTorch) tests skipped: PYTHON_TESTS=0"
elif [ -z "$torch_python" ]; then
  echo "test.sh: Python (PyTorch) tests skipped: no python3 can import torch (apt-get install python3-torch libopenblas0-pthread)"
else
  py_ran=1
  "$torch_python" python/tests/run.py --json "$py_json" || py_rc=$?
fi

# --- browser (e2e) suite -----------------------------------------------------------------------------
e2e_ran=0
e2e_rc=0
if [ "${E2E:-1}" != "0" ] && [ -f vitest.e2e.config.ts ]; then
  if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ]; then
    echo "test.sh: /usr/bin/chromium is missing; installing it with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y chromium || { apt-get update && apt-get install -y chromium; } ||
      echo "test.sh: could not install chromium; the browser suite will probably fail"
  fi
  e2e_ran=1
  npx vitest run -c vitest.e2e.config.ts --reporter=default --reporter=json --outputFile.json="$e2e_json" ||
    e2e_rc=$?
fi

# --- summary -----------------------------------------------------------------------------------------
# failed = failed tests + test files that failed without a failing test (e.g. an import error) + one for a
# suite that exited non-zero without writing its report.
expected="$unit_json"
[ "$e2e_ran" = "1" ] && expected="$unit_json $e2e_json"
[ "$py_ran" = "1" ] && expected="$expected $py_json"
summary=$(node -e '
  const fs = require("fs");
  let passed = 0, failed = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) { console.error(`test.sh: ${f} was not written (the suite crashed?)`); failed++; continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests || 0;
    failed += r.numFailedTests || 0;
    for (const t of r.testResults || []) {
      if (t.status === "failed" && !(t.assertionResults || []).some((a) => a.status === "failed")) {
        console.error(`test.sh: ${t.name} failed outside any test: ${(t.message || "").split("\n")[0]}`);
        failed++;
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
' $expected 2>&1)
summary_rc=$?
echo "$summary" | sed '$d'
last=$(echo "$summary" | tail -n 1)

status=0
if [ "$summary_rc" != "0" ] || ! [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
  echo "test.sh: could not read the test reports"
  last="0 passed, 1 failed"
  status=1
else
  n_pass=${BASH_REMATCH[1]}
  n_fail=${BASH_REMATCH[2]}
  [ "$n_fail" != "0" ] && status=1
  if [ $((n_pass + n_fail)) = "0" ]; then echo "test.sh: no test ran"; status=1; fi
  [ "$unit_rc" != "0" ] && { echo "test.sh: unit suite exited with status $unit_rc"; status=1; }
  [ "$e2e_rc" != "0" ] && { echo "test.sh: browser suite exited with status $e2e_rc"; status=1; }
  [ "$py_rc" != "0" ] && { echo "test.sh: Python suite exited with status $py_rc"; status=1; }
fi
echo "$last"
exit "$status"
