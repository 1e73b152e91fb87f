"""Many processes train the objective of one: a 2-process gloo run (torchrun) against a 1-process run of
the doubled batch; the sharding of the batches; checkpoints that resume exactly."""

from __future__ import annotations

import contextlib
import io
import os
import sys

import torch

from helpers import TempDirTest, make_pack, read_json, run
from orderembed_torch import train
from orderembed_torch.data import CaptionPairs, DistributedLengthBatchSampler, TrainingData, make_loader
from orderembed_torch.pack import read_pack
from orderembed_torch.runfolder import read_run
from orderembed_torch.tokenizer import Vocabulary

TINY = ["--hidden", "16", "--word-dim", "8", "--min-word-count", "1", "--log-every", "1", "--eval-every", "1000"]


def train_in_process(*args: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()):
        return train.main([*args, "--threads", "1"])


def losses(folder: str) -> list[float]:
    return [e["loss"] for e in read_json(os.path.join(folder, "metrics.json"))["history"]]


class TwoProcesses(TempDirTest):
    def test_two_gloo_processes_with_b_each_equal_one_process_with_2b(self):
        pack = os.path.join(self.tmp, "pack")
        make_pack(pack, num_images=40, dev=8)
        common = ["--data", pack, *TINY, "--batch", "8", "--steps", "8", "--max-violation-after", "5"]
        one = os.path.join(self.tmp, "one")
        self.assertEqual(train_in_process(*common, "--out", one), 0)
        two = os.path.join(self.tmp, "two")
        run([sys.executable, "-m", "orderembed_torch.launch", "--standalone", "--nproc_per_node", "2",
             "-m", "orderembed_torch.train", *common, "--out", two, "--threads", "1"], timeout=180)
        cfg = read_run(two).config
        self.assertEqual(cfg["trainedWith"]["processes"], 2)
        self.assertEqual(cfg["trainedWith"]["backend"], "gloo")
        l1, l2 = losses(one), losses(two)
        self.assertEqual(len(l1), 8)
        for s, (a, b) in enumerate(zip(l1, l2), 1):
            self.assertAlmostEqual(a, b, delta=1e-5 * max(1, abs(a)), msg=f"loss at step {s}")
        w1, w2 = read_run(one).weights, read_run(two).weights
        for name in w1:
            self.assertLess((w1[name] - w2[name]).abs().max().item(), 1e-5, name)


class Sharding(TempDirTest):
    def test_shards_of_n_processes_make_up_the_one_process_batches(self):
        pack = os.path.join(self.tmp, "pack")
        make_pack(pack, num_images=40, dev=8)
        p = read_pack(pack)
        vocab = Vocabulary.build([c["text"] for c in p.captions if c["image"] in set(p.split("train"))])
        data = TrainingData(p, vocab, 50)
        for sampling in ("image", "caption"):
            one, set1 = make_loader(data, sampling, 8, 1, 0, 5)
            two = [make_loader(data, sampling, 8, 2, r, 5) for r in (0, 1)]
            for epoch in (0, 3):
                set1(epoch)
                for _, s in two:
                    s(epoch)
                batches = list(one)
                shards = [list(loader) for loader, _ in two]
                self.assertEqual(len(batches), len(shards[0]))
                for k, (f, ids, lengths, images, captions) in enumerate(batches):
                    f2 = torch.cat([shards[0][k][0], shards[1][k][0]])
                    # The same pairs (features identify the images), possibly in another order.
                    self.assertEqual(sorted(map(tuple, f.tolist())), sorted(map(tuple, f2.tolist())), f"{sampling} batch {k}")
                    self.assertEqual(len(set(map(tuple, f.tolist()))), 8, "a batch holds 8 distinct images")
        # Caption sampling: captions of nearly one length per batch.
        s = DistributedLengthBatchSampler(CaptionPairs(data), 8, 1, 0, 5)
        pairs = CaptionPairs(data).pairs
        length = lambda i: len(data.encoded[pairs[i][1]])  # noqa: E731
        spread = [max(map(length, b)) - min(map(length, b)) for b in s.batches]
        self.assertLessEqual(sorted(spread)[len(spread) // 2], 1)


class Checkpoints(TempDirTest):
    def test_resume_continues_exactly_and_nan_is_named(self):
        pack = os.path.join(self.tmp, "pack")
        make_pack(pack, num_images=40, dev=8)
        common = ["--data", pack, *TINY, "--batch", "8", "--sampling", "caption"]
        straight = os.path.join(self.tmp, "straight")
        self.assertEqual(train_in_process(*common, "--steps", "7", "--out", straight), 0)
        resumed = os.path.join(self.tmp, "resumed")
        self.assertEqual(train_in_process(*common, "--steps", "3", "--out", resumed), 0)
        self.assertEqual(train_in_process(*common, "--steps", "7", "--out", resumed, "--resume"), 0)
        self.assertEqual(losses(straight), losses(resumed))
        a, b = read_run(straight), read_run(resumed)
        for name in a.weights:
            self.assertTrue(torch.equal(a.weights[name], b.weights[name]), name)
        self.assertEqual(b.config["steps"], 7)
        # A NaN in a checkpoint is refused, naming the file and the entry.
        ck_path = f"{resumed}.ckpt.pt"
        ck = torch.load(ck_path)
        ck["optimizer"]["state"][2]["exp_avg"].view(-1)[3] = float("nan")
        torch.save(ck, ck_path)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            self.assertEqual(train_in_process(*common, "--steps", "9", "--out", resumed, "--resume"), 1)
        self.assertIn(ck_path, err.getvalue())
        self.assertIn("optimizer.state.2.exp_avg", err.getvalue())
        self.assertIn("nan", err.getvalue())
