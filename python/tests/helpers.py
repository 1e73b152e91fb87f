"""Shared helpers of the Python tests: paths, a small synthetic feature pack, subprocess runners."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
REPO = os.path.dirname(PYTHON_DIR)
sys.path.insert(0, PYTHON_DIR)

from orderembed_torch.pack import write_pack  # noqa: E402

WORDS = ["red", "green", "blue", "yellow", "dog", "cat", "bird", "horse", "runs", "sits", "jumps", "sleeps"]


def shared_dir() -> str:
    """$ORDEREMBED_SHARED or ../shared beside the repository (as tests/helpers/shared.ts)."""
    env = os.environ.get("ORDEREMBED_SHARED", "").strip()
    return os.path.abspath(env) if env else os.path.join(os.path.dirname(REPO), "shared")


def load_test_vector(name: str) -> dict:
    path = os.path.join(shared_dir(), "testvectors", f"{name}.json")
    if not os.path.exists(path):
        raise AssertionError(
            f"test vector {name!r} not found: expected the file {path} (../shared beside the repository, or set ORDEREMBED_SHARED)"
        )
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def make_pack(folder: str, num_images: int = 48, dev: int = 16, feature_dim: int = 12, seed: int = 0,
              encoder: str = "test-encoder", name: str = "tiny") -> dict:
    """A small pack whose captions say which of a few attributes an image's feature shows, so that a
    model can learn something in a few steps. Returns the manifest."""
    rng = np.random.default_rng(seed)
    feats = rng.normal(size=(num_images, feature_dim)).astype(np.float32)
    captions = []
    for i in range(num_images):
        f = feats[i]
        colour = WORDS[int(np.argmax(f[0:4]))]
        animal = WORDS[4 + int(np.argmax(f[4:8]))]
        verb = WORDS[8 + int(np.argmax(f[8:12]))]
        captions.append({"image": i, "text": f"A {colour} {animal} {verb}."})
        captions.append({"image": i, "text": f"the {animal} {verb}"})
        captions.append({"image": i, "text": f"{colour} {animal}"})
    manifest = {
        "format": "orderembed-pack",
        "version": 1,
        "name": name,
        "encoder": encoder,
        "featureDim": feature_dim,
        "crops": 1,
        "numImages": num_images,
        "images": [f"img{i}.jpg" for i in range(num_images)],
        "captions": captions,
        "splits": {"train": list(range(num_images - dev)), "dev": list(range(num_images - dev, num_images))},
        "failedImages": [],
        "createdAt": "2026-12-05T00:00:00.000Z",
        "thumbSize": None,
    }
    write_pack(folder, manifest, feats)
    return manifest


def run(cmd: list[str], timeout: int = 240, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs a command in the repository root; fails the test with its output when it exits non-zero."""
    e = {**os.environ, "PYTHONPATH": PYTHON_DIR, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=e)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited with {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def npm(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    if not os.path.isdir(os.path.join(REPO, "node_modules")):
        raise AssertionError(f"{REPO}/node_modules is missing: run npm ci (npm test does) before the Python tests")
    return run(["npm", "run", "-s", *args], timeout=timeout)


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


class TempDirTest(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="orderembed-py-")
        self.tmp = self._tmp.name

    def tearDown(self) -> None:
        self._tmp.cleanup()


def read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
