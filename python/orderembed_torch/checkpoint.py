"""The PyTorch trainer's checkpoints (./train.py `--checkpoint`, `--resume`): weights, Adam moments and the
position in the epoch's batches, with the format, a version and the pack they were made on; written
atomically, read back with every tensor checked finite."""

from __future__ import annotations

import os

import torch

CHECKPOINT_FORMAT = "orderembed-torch-checkpoint"


def _check_finite_state(obj, path: str, where: str) -> None:
    """Raises naming the file and the entry when a checkpoint tensor holds a NaN or infinity."""
    if isinstance(obj, torch.Tensor):
        if obj.is_floating_point() and not torch.isfinite(obj).all():
            idx = (~torch.isfinite(obj)).nonzero()[0].tolist()
            raise ValueError(f"{path}: '{where}' holds {obj[tuple(idx)].item()} at index {idx}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _check_finite_state(v, path, f"{where}.{k}" if where else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_finite_state(v, path, f"{where}[{i}]")


def load_checkpoint(path: str, pack) -> dict:
    """The checkpoint at `path`, refused naming the file and the field when it is not one of ours, has a
    NaN or infinity, or was made on another pack."""
    try:
        ck = torch.load(path, map_location="cpu")
    except Exception as e:  # a truncated or foreign file
        raise ValueError(f"{path}: not a readable checkpoint ({e})") from None
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: format is {ck.get('format') if isinstance(ck, dict) else None!r}, expected '{CHECKPOINT_FORMAT}'")
    if ck.get("version") != 1:
        raise ValueError(f"{path}: version {ck.get('version')!r} is not supported (expected 1)")
    _check_finite_state(ck["weights"], path, "weights")
    _check_finite_state(ck["optimizer"], path, "optimizer")
    want = ck["pack"]
    have = pack_fingerprint(pack)
    for k in want:
        if want[k] != have[k]:
            raise ValueError(f"{path}: made on a pack with {k} {want[k]!r}, --data {pack.folder} has {have[k]!r}")
    return ck


def pack_fingerprint(pack) -> dict:
    """What a checkpoint records of the pack it was made on (resumed only on the same one)."""
    m = pack.manifest
    return {"name": m["name"], "encoder": m["encoder"], "numImages": m["numImages"], "featureDim": m["featureDim"], "captions": len(m["captions"])}


def save_checkpoint(path: str, state: dict) -> None:
    """Writes atomically: a crash mid-write leaves the previous checkpoint, never half of one."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    torch.save(state, tmp)
    os.replace(tmp, path)
