"""Runs the Python tests (unittest discovery in python/tests) and writes a report in the shape of
vitest's JSON reporter ({numPassedTests, numFailedTests, testResults}), so that scripts/test.sh counts
them in its "N passed, N failed" line.

    /usr/bin/python3 python/tests/run.py [--json test-results/python.json] [pattern]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
sys.dont_write_bytecode = True


class Result(unittest.TextTestResult):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.records: list[dict] = []
        self._t0 = 0.0

    def startTest(self, test):
        self._t0 = time.perf_counter()
        super().startTest(test)

    def _record(self, test, status: str, message: str = "") -> None:
        self.records.append({"title": test.id(), "status": status, "duration": round(1000 * (time.perf_counter() - self._t0)),
                             "failureMessages": [message] if message else []})

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failed", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "failed", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._record(subtest, "failed", self._exc_info_to_string(err, subtest))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--json", help="write the report here")
    p.add_argument("pattern", nargs="?", default="test_*.py")
    a = p.parse_args()
    suite = unittest.defaultTestLoader.discover(HERE, pattern=a.pattern, top_level_dir=HERE)
    runner = unittest.TextTestRunner(resultclass=Result, verbosity=2, stream=sys.stdout)
    t0 = time.perf_counter()
    result: Result = runner.run(suite)  # type: ignore[assignment]
    # A test with failing subtests and no own failure must still count as failed, once.
    failed_ids = {r["title"].split(" ")[0] for r in result.records if r["status"] == "failed"}
    records = [r for r in result.records if not (r["status"] == "passed" and r["title"] in failed_ids)]
    passed = sum(r["status"] == "passed" for r in records)
    failed = len({r["title"].split(" ")[0] for r in records if r["status"] == "failed"})
    skipped = sum(r["status"] == "skipped" for r in records)
    print(f"python: {passed} passed, {failed} failed, {skipped} skipped in {time.perf_counter() - t0:.1f} s")
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        report = {"numPassedTests": passed, "numFailedTests": failed, "numPendingTests": skipped,
                  "testResults": [{"name": "python/tests", "status": "failed" if failed else "passed",
                                   "message": "", "assertionResults": records}]}
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(report, f)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
