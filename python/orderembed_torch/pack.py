"""Feature packs (docs/pack-format.md; src/model/data/pack.ts): `manifest.json` and `features.bin`.

Checks follow the TypeScript reader: a message names the file and the field, or the image whose feature
row holds a NaN or infinity.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import torch

PACK_FORMAT = "orderembed-pack"
PACK_VERSION = 1
PACK_MANIFEST = "manifest.json"
PACK_FEATURES = "features.bin"
SPLIT_NAMES = ("train", "dev", "test")


@dataclass
class Pack:
    """A pack in memory: the manifest (dict, as in the file) and the features [numImages, featureDim]."""

    folder: str
    manifest: dict
    features: torch.Tensor

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def encoder(self) -> str:
        return self.manifest["encoder"]

    @property
    def captions(self) -> list[dict]:
        return self.manifest["captions"]

    def split(self, name: str) -> list[int]:
        images = self.manifest["splits"].get(name)
        if not images:
            available = [k for k, v in self.manifest["splits"].items() if v]
            raise ValueError(f"pack '{self.name}' has no '{name}' split (available: {', '.join(available) or 'none'})")
        return images


def check_manifest(m: object, source: str) -> dict:
    """Structural checks of a pack manifest, naming the field (as checkManifest in pack.ts)."""
    if not isinstance(m, dict):
        raise ValueError(f"{source}: expected a JSON object")
    if m.get("format") != PACK_FORMAT:
        raise ValueError(f"{source}: format is {json.dumps(m.get('format'))}, expected '{PACK_FORMAT}'")
    if m.get("version") != PACK_VERSION:
        raise ValueError(f"{source}: version {json.dumps(m.get('version'))} is not supported (expected {PACK_VERSION})")
    if not isinstance(m.get("name"), str) or not m["name"]:
        raise ValueError(f"{source}: 'name' must be a non-empty string")
    if not isinstance(m.get("encoder"), str) or not m["encoder"]:
        raise ValueError(f"{source}: 'encoder' must name the image-encoder preset")
    for k in ("featureDim", "numImages", "crops"):
        v = m.get(k)
        if not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
            raise ValueError(f"{source}: '{k}' must be a positive integer, got {json.dumps(v)}")
    n = m["numImages"]
    images = m.get("images")
    if not isinstance(images, list) or len(images) != n:
        got = len(images) if isinstance(images, list) else "no"
        raise ValueError(f"{source}: 'images' lists {got} names, expected numImages = {n}")
    captions = m.get("captions")
    if not isinstance(captions, list) or not captions:
        raise ValueError(f"{source}: 'captions' is empty")
    for k, c in enumerate(captions):
        img = c.get("image") if isinstance(c, dict) else None
        if not (isinstance(img, int) and 0 <= img < n) or not isinstance(c.get("text"), str):
            raise ValueError(f"{source}: caption {k} must be {{image: 0..{n - 1}, text}}, got {json.dumps(c)}")
    splits = m.get("splits")
    if not isinstance(splits, dict):
        raise ValueError(f"{source}: 'splits' must be an object")
    for split, lst in splits.items():
        if split not in SPLIT_NAMES:
            raise ValueError(f"{source}: unknown split '{split}' (expected {', '.join(SPLIT_NAMES)})")
        if not isinstance(lst, list) or any(not (isinstance(i, int) and 0 <= i < n) for i in lst):
            raise ValueError(f"{source}: split '{split}' must list image indices 0..{n - 1}")
    if not isinstance(m.get("failedImages"), list):
        raise ValueError(f"{source}: 'failedImages' must be a list of names")
    return m


def read_pack(folder: str, expect_encoder: str | None = None) -> Pack:
    """Reads and checks a pack folder. `expect_encoder`: the image encoder the caller's model was trained on."""
    mpath = os.path.join(folder, PACK_MANIFEST)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"--data {folder}: no such folder")
    if not os.path.exists(mpath):
        raise ValueError(f"{folder}: not a feature pack (no {PACK_MANIFEST})")
    try:
        with open(mpath, encoding="utf-8") as f:
            manifest = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{mpath}: not valid JSON ({e})") from None
    check_manifest(manifest, mpath)
    if expect_encoder is not None and manifest["encoder"] != expect_encoder:
        raise ValueError(
            f"{mpath}: the pack was built with encoder {manifest['encoder']}, the model was trained on {expect_encoder} features"
        )
    fpath = os.path.join(folder, PACK_FEATURES)
    if not os.path.exists(fpath):
        raise ValueError(f"{folder}: the pack has no {PACK_FEATURES}")
    n, D = manifest["numImages"], manifest["featureDim"]
    size = os.path.getsize(fpath)
    if size != n * D * 4:
        raise ValueError(
            f"{fpath}: holds {size} bytes, expected {n} images x {D} features x 4 = {n * D * 4} (manifest.json numImages, featureDim)"
        )
    arr = np.fromfile(fpath, dtype="<f4").reshape(n, D)
    finite = np.isfinite(arr)
    if not finite.all():
        i, k = np.argwhere(~finite)[0]
        raise ValueError(f"{fpath}: the features of image {i} ({manifest['images'][i]}) hold {arr[i, k]} at index {k}")
    return Pack(folder, manifest, torch.from_numpy(arr.astype(np.float32, copy=False)))


def write_pack(folder: str, manifest: dict, features: np.ndarray | torch.Tensor) -> None:
    """Writes a pack's two files (tests build small packs with it); checks the manifest first."""
    check_manifest(manifest, f"pack '{manifest.get('name')}'")
    arr = np.asarray(features, dtype="<f4")
    if arr.shape != (manifest["numImages"], manifest["featureDim"]):
        raise ValueError(f"features: shape {arr.shape}, expected [{manifest['numImages']}, {manifest['featureDim']}]")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, PACK_MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False)
        f.write("\n")
    arr.tofile(os.path.join(folder, PACK_FEATURES))
