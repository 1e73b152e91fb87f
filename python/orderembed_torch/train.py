"""Trainer for one or many processes (PyTorch DistributedDataParallel under torchrun):

    torchrun --nproc_per_node N -m orderembed_torch.train --data <pack> --out <run folder> [options]
    python -m orderembed_torch.train --data <pack> --out <run folder> [options]        # one process

Same model, loss and optimiser as the headless Node trainer (`npm run train`): LN-GRU or GRU, order
or cosine, summed or max-violation hinge loss over in-batch negatives, Adam (eps 1e-7 as tfjs) with
the gradients clipped to a global norm of 2. `--batch B` is the global batch: each of the N processes
embeds B/N pairs, the embeddings are gathered (./distributed.py) and every process computes the loss of
all B, so N processes train the same objective as one process with batch B. CUDA (NCCL) when present,
gloo on CPU otherwise.

Checkpoints (`--checkpoint`, default `<out>.ckpt.pt`) every `--checkpoint-every` steps and at the end;
`--resume` continues from one exactly (weights, Adam moments, position in the epoch's batches).
`--init <run folder>` starts from a run's weights (e.g. one trained in the browser; same vocabulary and
image encoder). `--average-from N` keeps the mean of the weights from step N on and exports it
(./average.py); `--distill-from a,b,..` adds a term pulling the batch's scores towards those of an
ensemble of trained runs (./distill.py). Both as in `npm run train`. `--generality-weight w` (this
trainer only, order embeddings only) adds caption-to-caption order pairs (./generality.py). The run folder is written at
the end, atomically (./runfolder.py), and opens in
`npm run evaluate` and the playground.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time

import torch
from torch.nn.parallel import DistributedDataParallel

from . import distributed
from .average import WeightAverage
from .checkpoint import CHECKPOINT_FORMAT, load_checkpoint, pack_fingerprint, save_checkpoint
from .data import TrainingData, make_loader
from .distill import EnsembleTeacher, distillation_loss
from .generality import contained_mask, generalize, generator_for, pull_loss
from .evaluate import evaluate_split, format_metrics
from .model import DEFAULT_MARGIN, ModelConfig, OrderEmbeddingModel, contrastive_loss, scores
from .pack import read_pack
from .runfolder import Run, RunRecord, read_run, write_run
from .tokenizer import Vocabulary
from .train_options import parse_args


def _read_run_of(folder: str, flag: str, pack, data_arg: str) -> Run:
    """A run folder given by `flag`, refused unless it was trained on the pack's image encoder."""
    run = read_run(folder)
    if run.encoder != pack.encoder:
        raise ValueError(
            f"{flag} {folder}: the run was trained on {run.encoder or 'non-photo'} features, "
            f"--data {data_arg} has {pack.encoder} features"
        )
    return run


def _configs(a: argparse.Namespace, pack, init_run, ck: dict | None) -> tuple[dict, dict]:
    """(model fields except vocabSize, TrainConfig) from the flags, a run to start from, or a checkpoint."""
    if ck is not None:
        model, train = dict(ck["model"]), dict(ck["train"])
        model.pop("vocabSize", None)  # from the checkpoint's vocabulary
        given = {
            "hidden": ("hiddenDim", model), "word_dim": ("wordDim", model), "measure": ("measure", model),
            "batch": ("batchSize", train), "sampling": ("sampling", train), "seed": ("seed", train),
            "min_word_count": ("minWordCount", train), "max_length": ("maxLength", train),
        }
        for flag, (field, src) in given.items():
            v = getattr(a, flag)
            if v is not None and v != src.get(field):
                raise ValueError(f"--{flag.replace('_', '-')} {v}: the checkpoint's run has {field} {src.get(field)!r}")
        if a.ln is not None and (a.ln == "on") != model["layerNorm"]:
            raise ValueError(f"--ln {a.ln}: the checkpoint's run has layerNorm {model['layerNorm']}")
        return model, train
    base = init_run.model_config if init_run else None
    base_train = init_run.config.get("train", {}) if init_run else {}
    measure = a.measure or (base.measure if base else "order")
    model = {
        "wordDim": a.word_dim or (base.wordDim if base else 300),
        "hiddenDim": a.hidden or (base.hiddenDim if base else 256),
        "imageDim": pack.manifest["featureDim"],
        "layerNorm": (a.ln or ("off" if base and not base.layerNorm else "on")) == "on",
        "measure": measure,
        "margin": a.margin if a.margin is not None else DEFAULT_MARGIN[measure],
        "maxViolation": bool(a.max_violation),
    }
    train = {
        "batchSize": a.batch or 128,
        "learningRate": a.lr if a.lr is not None else 1e-3,
        "clipNorm": a.clip_norm if a.clip_norm is not None else 2,
        "seed": a.seed if a.seed is not None else 1234,
        "minWordCount": a.min_word_count or base_train.get("minWordCount", 2),
        "maxLength": a.max_length or base_train.get("maxLength", 50),
        "sampling": a.sampling or "image",
    }
    if a.lr_decay_at:
        train["lrDecayStep"] = a.lr_decay_at
        train["lrDecayFactor"] = a.lr_decay if a.lr_decay is not None else 0.1
    elif a.lr_decay is not None:
        raise ValueError("--lr-decay needs --lr-decay-at")
    if a.max_violation_after:
        train["maxViolationStep"] = a.max_violation_after
    if a.average_from:
        train["averageFromStep"] = a.average_from
    if a.distill_from:
        train["distill"] = {
            "teachers": [f for f in a.distill_from.split(",") if f],
            "weight": a.distill_weight if a.distill_weight is not None else 1.0,
            "temperature": a.distill_temperature if a.distill_temperature is not None else 0.05,
        }
    if a.generality_weight:
        train["generalityWeight"] = a.generality_weight
    if a.generality_short:
        train["generalityShort"] = a.generality_short
    if a.generality_mask:
        train["generalityMask"] = True
    if a.generality_pull:
        train["generalityPull"] = a.generality_pull
    if init_run:
        train["initFrom"] = init_run.folder
    return model, train


def train(a: argparse.Namespace, ctx: distributed.Context, log) -> dict | None:
    pack = read_pack(a.data)
    ck_path = a.checkpoint or f"{os.path.abspath(a.out)}.ckpt.pt"
    ck = load_checkpoint(ck_path, pack) if a.resume and os.path.exists(ck_path) else None
    if a.resume and ck is None:
        log(f"--resume: no checkpoint at {ck_path}; starting from step 0")
    init_run = None
    if a.init and ck is None:
        init_run = _read_run_of(a.init, "--init", pack, a.data)
    model_fields, tc = _configs(a, pack, init_run, ck)
    train_set = set(pack.split("train"))
    if ck is not None:
        vocab = Vocabulary(ck["vocab"])
    else:
        vocab = Vocabulary.build((c["text"] for c in pack.captions if c["image"] in train_set), tc["minWordCount"])
    if init_run is not None:
        at = vocab.first_difference(init_run.vocab)
        if at is not None:
            theirs = init_run.vocab.tokens[at] if at < len(init_run.vocab) else None
            ours = vocab.tokens[at] if at < len(vocab) else None
            raise ValueError(
                f"--init {a.init}: model file from another vocabulary ({len(init_run.vocab)} words in its config.json "
                f"against {len(vocab)} from the training captions of {a.data} with minWordCount {tc['minWordCount']}; "
                f"word {at} is {json.dumps(theirs)} there, {json.dumps(ours)} here)"
            )
        for key in ("wordDim", "hiddenDim", "imageDim", "layerNorm", "measure"):
            if getattr(init_run.model_config, key) != model_fields[key]:
                raise ValueError(f"--init {a.init}: model {key} is {getattr(init_run.model_config, key)}, this run's is {model_fields[key]}")
    mc = ModelConfig(vocabSize=len(vocab), **model_fields)
    if tc.get("generalityWeight") and mc.measure != "order":
        raise ValueError("--generality-weight: caption-to-caption order needs --measure order")
    if tc.get("generalityMask") and ctx.world > 1:
        raise ValueError(f"--generality-mask: needs one process (it reads the whole batch's words), got {ctx.world}")
    data = TrainingData(pack, vocab, tc["maxLength"])

    torch.manual_seed(tc["seed"])
    model = OrderEmbeddingModel(mc)
    if ck is not None:
        model.load_run_weights(ck["weights"], ck_path)
    elif init_run is not None:
        model.load_run_weights(init_run.weights, a.init)
    model.to(ctx.device)
    net = DistributedDataParallel(model, device_ids=[ctx.device.index] if ctx.device.type == "cuda" else None) if ctx.backend else model
    opt = torch.optim.Adam(model.parameters(), lr=tc["learningRate"], eps=1e-7)
    if ck is not None:
        opt.load_state_dict(ck["optimizer"])
    average = WeightAverage(model, ck.get("average") if ck else None) if tc.get("averageFromStep") else None
    teacher = None
    if tc.get("distill"):
        members = [_read_run_of(folder, "--distill-from", pack, a.data) for folder in tc["distill"]["teachers"]]
        t0 = time.perf_counter()
        teacher = EnsembleTeacher(members, pack, data.images, [k for c in data.captions_of for k in c], ctx.device, log)
        log(f"teacher of {len(members)} runs ready in {time.perf_counter() - t0:.0f} s")
    B = tc["batchSize"]
    loader, set_epoch = make_loader(data, tc["sampling"], B, ctx.world, ctx.rank, tc["seed"])
    steps_per_epoch = len(loader)
    total = a.epochs * steps_per_epoch if a.epochs else (a.steps or 300)
    step = ck["step"] if ck else 0
    epoch = ck["epoch"] if ck else 0
    pos = ck["pos"] if ck else 0
    history: list[dict] = ck["history"] if ck else []
    train_seconds = ck["seconds"] if ck else 0.0
    has_dev = bool(pack.manifest["splits"].get("dev"))
    kind = f"{ctx.world} process{'es' if ctx.world > 1 else ''} x {B // ctx.world}, {ctx.backend or 'no process group'}, {ctx.device.type}"
    log(
        f"dataset {pack.name}: {len(data.images)} train images ({data.num_captions} captions, {len(data.dropped)} dropped), "
        f"{len(pack.manifest['splits'].get('dev') or [])} dev; vocabulary {len(vocab)}; "
        f"{'LN-GRU' if mc.layerNorm else 'GRU'} H={mc.hiddenDim}, {mc.measure}, batch {B} ({kind}), "
        f"{torch.get_num_threads()} thread(s) each; {total} steps ({steps_per_epoch} per epoch)"
        + (f"; resumed at step {step}" if ck else "")
        + (f"; from the weights of {init_run.folder}" if init_run else "")
    )

    def evaluate() -> dict | None:
        if not has_dev:
            return None
        return evaluate_split(model, vocab, pack, "dev", tc["maxLength"], ctx.device, a.eval_images)

    def evaluate_averaged() -> tuple[dict | None, dict | None]:
        """(dev of the averaged weights when averaging has started, else of the trained ones; dev of the trained)."""
        trained = evaluate()
        if average is None or not average.count:
            return trained, None
        with average.applied():
            return evaluate(), trained

    def checkpoint() -> None:
        if ctx.main:
            save_checkpoint(ck_path, {
                "format": CHECKPOINT_FORMAT, "version": 1, "model": mc.to_json(), "train": tc,
                "vocab": vocab.tokens, "encoder": pack.encoder, "pack": pack_fingerprint(pack),
                "weights": model.run_weights(), "optimizer": opt.state_dict(), "step": step, "epoch": epoch,
                "pos": pos, "history": history, "seconds": train_seconds,
                **({"average": average.state()} if average is not None else {}),
            })
        ctx.barrier()

    dev = None
    session_steps, session_seconds = 0, 0.0
    t_wall = time.perf_counter()
    while step < total:
        set_epoch(epoch)
        for features, ids, lengths, image_idx, caption_idx in itertools.islice(iter(loader), pos, None):
            t0 = time.perf_counter()
            lr = tc["learningRate"] * (tc.get("lrDecayFactor", 0.1) if tc.get("lrDecayStep") and step >= tc["lrDecayStep"] else 1)
            for group in opt.param_groups:
                group["lr"] = lr
            max_violation = mc.maxViolation or bool(tc.get("maxViolationStep") and step >= tc["maxViolationStep"])
            im, cap = net(features.to(ctx.device), ids.to(ctx.device), lengths.to(ctx.device))
            im, cap = distributed.gather_rows(im, ctx), distributed.gather_rows(cap, ctx)
            S = scores(im, cap, mc.measure)
            loss = contrastive_loss(S, mc.margin, max_violation)
            if teacher is not None:
                T = teacher.scores(
                    distributed.gather_indices(image_idx.to(ctx.device), ctx).cpu(),
                    distributed.gather_indices(caption_idx.to(ctx.device), ctx).cpu(),
                )
                loss = loss + tc["distill"]["weight"] * distillation_loss(S, T, tc["distill"]["temperature"])
            if tc.get("generalityWeight"):
                g_ids, g_lengths = generalize(ids, lengths, generator_for(tc["seed"], step, ctx.rank), tc.get("generalityShort"))
                gen = distributed.gather_rows(model.embed_captions(g_ids.to(ctx.device), g_lengths.to(ctx.device)), ctx)
                S_gen = scores(cap, gen, "order")  # [B, B], -E(caption i, generalization j)
                if tc.get("generalityMask"):  # a contained pair is no negative: its hinges are 0
                    S_gen = S_gen.masked_fill(contained_mask(ids, lengths, g_ids, g_lengths).to(S_gen.device), -1e4)
                loss = loss + tc["generalityWeight"] * contrastive_loss(S_gen, mc.margin, False)
                if tc.get("generalityPull"):  # each contained pair's own energy towards 0, not only below the negatives
                    loss = loss + tc["generalityPull"] * pull_loss(cap, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            # Clip to a global norm as the TypeScript trainer does: scale = clip / norm when norm > clip.
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item()
            if norm > tc["clipNorm"]:
                for g in grads:
                    g.mul_(tc["clipNorm"] / norm)
            opt.step()
            value = loss.item()
            step += 1
            if average is not None and step >= tc["averageFromStep"]:
                average.update()
            pos += 1
            dt = time.perf_counter() - t0
            train_seconds += dt
            session_steps += 1
            session_seconds += dt
            if not math.isfinite(value):
                raise FloatingPointError(f"training diverged: loss is {value} at step {step}")
            last = step == total
            eval_now = has_dev and ((a.eval_every and step % a.eval_every == 0) or last)
            if step % a.log_every == 0 or eval_now or last:
                entry = {"step": step, "epoch": epoch, "seconds": round(train_seconds, 3), "loss": value}
                log(
                    f"step {step}/{total} epoch {epoch} loss {value:.4f} |g| {norm:.3f} "
                    f"{B * session_steps / session_seconds:.0f} pairs/s ({kind})"
                )
                if eval_now:
                    if ctx.main:
                        dev, dev_trained = evaluate_averaged()
                        entry["dev"] = dev
                        if dev_trained is not None:
                            entry["devTrained"] = dev_trained
                            log(f"  trained weights @{step}: " + format_metrics(dev_trained).replace("\n", "; "))
                        log(("" if last else "  ") + f"dev @{step}: " + format_metrics(dev).replace("\n", "; "))
                    ctx.barrier()
                history.append(entry)
            if a.checkpoint_every and step % a.checkpoint_every == 0 and not last:
                checkpoint()
            if last:
                break
        else:
            epoch += 1
            pos = 0
            continue
        break
    checkpoint()
    wall = time.perf_counter() - t_wall
    if ctx.main and session_steps:
        log(f"trained {session_steps} steps in {session_seconds:.1f} s ({B * session_steps / session_seconds:.1f} pairs/s; {wall:.1f} s wall-clock with evaluations)")
    if average is not None and average.count:
        average.copy_in()  # the run folder holds the averaged weights, as npm run train's does
        if ctx.main:
            log(f"exporting the mean of the weights of {average.count} steps (from step {tc['averageFromStep']})")
    if ctx.main and a.out:
        write_run(a.out, model.run_weights(), RunRecord(
            model_config=mc, train_config=tc, vocab=vocab, encoder=pack.encoder, dataset=pack.name,
            steps=step, epochs=epoch, history=history, final={"dev": dev} if dev else None,
            extra={"trainedWith": {"engine": "pytorch", "torch": torch.__version__, "processes": ctx.world,
                                   "backend": ctx.backend, "device": ctx.device.type}},
            log_lines=[json.dumps(e) for e in history],
        ))
        log(f"wrote {a.out}")
    ctx.barrier()
    return {"dev": dev, "steps": step, "seconds": round(train_seconds, 2), "history": history}


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv, __doc__.split("\n\n")[0])
    ctx = distributed.setup(a.device)
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    if a.threads:
        torch.set_num_threads(a.threads)
    elif "OMP_NUM_THREADS" not in os.environ and ctx.device.type == "cpu":
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // local_world))
    log = (lambda s: print(s, file=sys.stderr, flush=True)) if a.json else (lambda s: print(s, flush=True))
    quiet = lambda s: None  # noqa: E731
    try:
        result = train(a, ctx, log if ctx.main else quiet)
    except (ValueError, FileNotFoundError, FloatingPointError) as e:
        print(f"train: {e}", file=sys.stderr)
        return 1
    finally:
        distributed.teardown(ctx)
    if a.json and ctx.main and result:
        print(json.dumps({**(result["dev"] or {}), "steps": result["steps"], "seconds": result["seconds"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
