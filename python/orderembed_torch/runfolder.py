"""Run folders (src/model/export.ts): `config.json`, `weights.json`, `weights.bin`, `metrics.json`.

Reads float32 and float16 weights (little-endian; `offset` in bytes); writes float32. Writing goes to a
temporary folder beside the target, renamed into place at the end, so an interrupted or failed write
leaves no half-written run folder.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import torch

from .model import ModelConfig, OrderEmbeddingModel, expected_shapes
from .tokenizer import Vocabulary

RUN_FORMAT = "orderembed-run"
WEIGHTS_FORMAT = "orderembed-weights"
CONFIG = "config.json"
WEIGHTS = "weights.bin"
MANIFEST = "weights.json"
METRICS = "metrics.json"
LOG = "log.jsonl"
DTYPES = {"float32": "<f4", "float16": "<f2"}


@dataclass
class Run:
    folder: str
    config: dict
    model_config: ModelConfig
    vocab: Vocabulary
    weights: dict[str, torch.Tensor]
    metrics: dict | None = None

    @property
    def encoder(self) -> str | None:
        return self.config.get("encoder")

    @property
    def max_length(self) -> int:
        return int(self.config.get("train", {}).get("maxLength", 50))

    def build_model(self) -> OrderEmbeddingModel:
        model = OrderEmbeddingModel(self.model_config)
        model.load_run_weights(self.weights, os.path.join(self.folder, MANIFEST))
        return model


def _read_json(path: str) -> object:
    if not os.path.exists(path):
        raise FileNotFoundError(f"missing file {path} (a run folder has {CONFIG}, {MANIFEST}, {WEIGHTS}, {METRICS})")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None


def read_weights(manifest_path: str, bin_path: str) -> dict[str, torch.Tensor]:
    """The weights of weights.bin as weights.json describes them (float32 or float16), as float32 tensors.
    Raises naming the file and the weight for a wrong format, a weight past the end of the file, or a NaN."""
    m = _read_json(manifest_path)
    if not isinstance(m, dict) or m.get("format") != WEIGHTS_FORMAT:
        got = m.get("format") if isinstance(m, dict) else None
        raise ValueError(f"{manifest_path}: format is {json.dumps(got)}, expected '{WEIGHTS_FORMAT}'")
    if m.get("version") != 1:
        raise ValueError(f"{manifest_path}: version {json.dumps(m.get('version'))} is not supported (expected 1)")
    dtype = m.get("dtype")
    if dtype not in DTYPES:
        raise ValueError(f"{manifest_path}: dtype {json.dumps(dtype)} is not supported (expected float32 or float16)")
    if m.get("byteOrder", "little") != "little":
        raise ValueError(f"{manifest_path}: byteOrder {json.dumps(m.get('byteOrder'))} is not supported (expected 'little')")
    entries = m.get("weights")
    if not isinstance(entries, list):
        raise ValueError(f"{manifest_path}: 'weights' must be a list of {{name, shape, offset}}")
    if not os.path.exists(bin_path):
        raise FileNotFoundError(f"missing file {bin_path} (the model's weights)")
    raw = np.fromfile(bin_path, dtype=np.uint8)
    item = np.dtype(DTYPES[dtype]).itemsize
    out: dict[str, torch.Tensor] = {}
    for k, e in enumerate(entries):
        name, shape, offset = (e.get("name"), e.get("shape"), e.get("offset")) if isinstance(e, dict) else (None,) * 3
        if not isinstance(name, str) or not isinstance(shape, list) or not isinstance(offset, int):
            raise ValueError(f"{manifest_path}: weights[{k}] must be {{name, shape, offset}}, got {json.dumps(e)}")
        if any(not (isinstance(s, int) and s >= 0) for s in shape):
            raise ValueError(f"{manifest_path}: weight '{name}' has shape {shape}, expected non-negative integers")
        if name in out:
            raise ValueError(f"{manifest_path}: weight '{name}' is listed twice")
        size = math.prod(shape)
        end = offset + size * item
        if offset < 0 or end > raw.size:
            raise ValueError(
                f"{bin_path}: weight '{name}' {shape} needs bytes {offset}..{end} but the file holds {raw.size} bytes"
            )
        arr = raw[offset:end].view(DTYPES[dtype]).astype(np.float32).reshape(shape)
        finite = np.isfinite(arr)
        if not finite.all():
            idx = np.argwhere(~finite)[0].tolist()
            raise ValueError(f"{bin_path}: weight '{name}' holds {arr[tuple(idx)]} at index {idx}")
        out[name] = torch.from_numpy(arr)
    return out


def read_run(folder: str) -> Run:
    """Reads and checks a run folder (config, vocabulary, weights; metrics when present)."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"--model {folder}: no such folder")
    cpath = os.path.join(folder, CONFIG)
    config = _read_json(cpath)
    if not isinstance(config, dict) or config.get("format") != RUN_FORMAT:
        got = config.get("format") if isinstance(config, dict) else None
        raise ValueError(f"{cpath}: format is {json.dumps(got)}, expected '{RUN_FORMAT}'")
    if config.get("version") != 1:
        raise ValueError(f"{cpath}: version {json.dumps(config.get('version'))} is not supported (expected 1)")
    mc = ModelConfig.from_json(config.get("model"), cpath)
    vocab = Vocabulary.from_json(config.get("vocab"), f"{cpath}: vocab")
    mpath = os.path.join(folder, MANIFEST)
    weights = read_weights(mpath, os.path.join(folder, WEIGHTS))
    emb = weights.get("word_embedding")
    rows = emb.shape[0] if emb is not None else None
    if len(vocab) != mc.vocabSize or (rows is not None and rows != len(vocab)):
        raise ValueError(
            f"{folder}: model file from another vocabulary: {CONFIG} vocab has {len(vocab)} words, model.vocabSize is "
            f"{mc.vocabSize}" + (f", {MANIFEST} word_embedding has {rows} rows" if rows is not None else "")
        )
    shapes = expected_shapes(mc)
    for name, w in weights.items():
        if name not in shapes:
            raise ValueError(f"{mpath}: unexpected weight '{name}' (a {'LN-GRU' if mc.layerNorm else 'GRU'} model has {', '.join(shapes)})")
        if list(w.shape) != shapes[name]:
            raise ValueError(
                f"{mpath}: weight '{name}' has shape {list(w.shape)}, the model of {CONFIG} "
                f"(vocabSize {mc.vocabSize}, wordDim {mc.wordDim}, hiddenDim {mc.hiddenDim}, imageDim {mc.imageDim}) expects {shapes[name]}"
            )
    for name in shapes:
        if name not in weights:
            raise ValueError(f"{mpath}: missing weight '{name}' (expected shape {shapes[name]})")
    metrics = None
    mp = os.path.join(folder, METRICS)
    if os.path.exists(mp):
        metrics = _read_json(mp)
    return Run(folder, config, mc, vocab, weights, metrics)  # type: ignore[arg-type]


def _weights_manifest_text(entries: list[dict]) -> str:
    """weights.json as the TypeScript side writes it: one weight per line."""
    head = json.dumps({"format": WEIGHTS_FORMAT, "version": 1, "dtype": "float32", "byteOrder": "little"}, separators=(",", ":"))
    rows = ",\n".join("    " + json.dumps(e, separators=(",", ":")) for e in entries)
    return f"{head[:-1]},\n  \"weights\": [\n{rows}\n  ]\n}}\n"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class RunRecord:
    """What a run folder holds besides the weights."""

    model_config: ModelConfig
    train_config: dict
    vocab: Vocabulary
    encoder: str | None
    dataset: str
    steps: int
    epochs: int
    history: list[dict] = field(default_factory=list)
    final: dict | None = None
    extra: dict = field(default_factory=dict)
    log_lines: list[str] | None = None


def write_run(folder: str, weights: dict[str, torch.Tensor], rec: RunRecord) -> None:
    """Writes a run folder atomically: into a temporary folder beside it, then renamed into place (an existing
    folder of that name is replaced only once the new one is complete). Weights are checked first."""
    shapes = expected_shapes(rec.model_config)
    if list(weights) != list(shapes):
        raise ValueError(f"write_run: weights {list(weights)} do not match the model's {list(shapes)}")
    for name, w in weights.items():
        if list(w.shape) != shapes[name]:
            raise ValueError(f"write_run: weight '{name}' has shape {list(w.shape)}, expected {shapes[name]}")
        if not torch.isfinite(w).all():
            raise ValueError(f"write_run: weight '{name}' is not finite; refusing to write {folder}")
    if len(rec.vocab) != rec.model_config.vocabSize:
        raise ValueError(f"write_run: vocabulary of {len(rec.vocab)} words, model.vocabSize {rec.model_config.vocabSize}")
    config = {
        "format": RUN_FORMAT,
        "version": 1,
        "model": rec.model_config.to_json(),
        "train": rec.train_config,
        "encoder": rec.encoder,
        "dataset": rec.dataset,
        "vocab": rec.vocab.to_json(),
        "steps": rec.steps,
        "epochs": rec.epochs,
        "createdAt": now_iso(),
        **rec.extra,
    }
    folder = os.path.abspath(folder)
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(folder)}.tmp-", dir=parent)
    try:
        entries = []
        offset = 0
        with open(os.path.join(tmp, WEIGHTS), "wb") as f:
            for name, w in weights.items():
                data = w.detach().cpu().to(torch.float32).contiguous().numpy().astype("<f4", copy=False)
                f.write(data.tobytes())
                entries.append({"name": name, "shape": list(w.shape), "offset": offset})
                offset += data.size * 4
        with open(os.path.join(tmp, MANIFEST), "w", encoding="utf-8") as f:
            f.write(_weights_manifest_text(entries))
        with open(os.path.join(tmp, CONFIG), "w", encoding="utf-8") as f:
            f.write(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
        metrics = {"history": rec.history}
        if rec.final is not None:
            metrics["final"] = rec.final
        with open(os.path.join(tmp, METRICS), "w", encoding="utf-8") as f:
            f.write(json.dumps(metrics, separators=(",", ":")) + "\n")
        if rec.log_lines is not None:
            with open(os.path.join(tmp, LOG), "w", encoding="utf-8") as f:
                f.writelines(line if line.endswith("\n") else line + "\n" for line in rec.log_lines)
        os.chmod(tmp, 0o755)
        old = None
        if os.path.exists(folder):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(folder)}.old-", dir=parent)
            os.rmdir(old)
            os.rename(folder, old)
        os.rename(tmp, folder)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
