"""Weight averaging (--average-from), distillation (--distill-from) and caption-to-caption order
(--generality-weight, -short, -mask, -pull) in the PyTorch trainer."""

from __future__ import annotations

import contextlib
import io
import math
import os

import torch

from helpers import TempDirTest, make_pack, read_json
from orderembed_torch.distill import distillation_loss
from orderembed_torch.model import order_violation
from orderembed_torch.generality import contained_mask, generalize, generator_for, pull_loss
from orderembed_torch.tokenizer import pad_time_major
from orderembed_torch.runfolder import read_run
from test_distributed import TINY, losses, train_in_process


def train_quiet(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = train_in_process(*args)
    return code, err.getvalue()


class Averaging(TempDirTest):
    def test_exports_the_mean_of_the_weights_from_step_n_and_resumes_exactly(self):
        pack = os.path.join(self.tmp, "pack")
        make_pack(pack, num_images=40, dev=8)
        common = ["--data", pack, *TINY, "--batch", "8", "--sampling", "caption"]
        # The trained weights after steps 3, 4, 5 and 6 (training is deterministic: see test_distributed).
        snapshots = []
        for n in (3, 4, 5, 6):
            out = os.path.join(self.tmp, f"plain{n}")
            self.assertEqual(train_in_process(*common, "--steps", str(n), "--out", out), 0)
            snapshots.append(read_run(out).weights)
        avg = os.path.join(self.tmp, "avg")
        self.assertEqual(train_in_process(*common, "--steps", "6", "--average-from", "3", "--eval-every", "6", "--out", avg), 0)
        run = read_run(avg)
        for name, w in run.weights.items():
            mean = sum(s[name] for s in snapshots) / 4
            self.assertTrue(torch.allclose(w, mean, atol=1e-6), name)
            self.assertFalse(torch.equal(w, snapshots[-1][name]), f"{name}: the export is not the last step's weights")
        self.assertEqual(run.config["train"]["averageFromStep"], 3)
        # Averaging leaves training unchanged: the same losses as without.
        self.assertEqual(losses(avg), losses(os.path.join(self.tmp, "plain6")))
        last = read_json(os.path.join(avg, "metrics.json"))["history"][-1]
        self.assertIn("dev", last)
        self.assertIn("devTrained", last)
        # Resumed mid-average, the export is the same to the last digit.
        resumed = os.path.join(self.tmp, "resumed")
        self.assertEqual(train_in_process(*common, "--steps", "4", "--average-from", "3", "--out", resumed), 0)
        self.assertEqual(train_in_process(*common, "--steps", "6", "--average-from", "3", "--eval-every", "6", "--out", resumed, "--resume"), 0)
        for name, w in read_run(resumed).weights.items():
            self.assertTrue(torch.equal(w, run.weights[name]), name)


class Distillation(TempDirTest):
    def test_loss_is_the_kl_over_rows_and_columns(self):
        S = torch.tensor([[0.1, 0.4], [0.3, 0.0]])
        T = torch.tensor([[0.0, 0.5], [0.2, 0.2]])
        tau = 0.5

        def kl_rows(s, t):
            total = 0.0
            for i in range(2):
                zp = sum(math.exp(t[i][j] / tau) for j in range(2))
                zq = sum(math.exp(s[i][j] / tau) for j in range(2))
                for j in range(2):
                    p, q = math.exp(t[i][j] / tau) / zp, math.exp(s[i][j] / tau) / zq
                    total += p * math.log(p / q)
            return total

        s, t = S.tolist(), T.tolist()
        st, tt = S.t().tolist(), T.t().tolist()
        expected = kl_rows(s, t) + kl_rows(st, tt)
        self.assertAlmostEqual(distillation_loss(S, T, tau).item(), expected, places=6)
        self.assertAlmostEqual(distillation_loss(T, T, tau).item(), 0.0, places=6)
        with self.assertRaisesRegex(ValueError, "temperature must be > 0"):
            distillation_loss(S, T, 0.0)
        with self.assertRaisesRegex(ValueError, "differ in shape"):
            distillation_loss(S, T[:1], tau)

    def test_a_run_distils_from_an_ensemble_of_runs(self):
        pack = os.path.join(self.tmp, "pack")
        make_pack(pack, num_images=40, dev=8)
        common = ["--data", pack, *TINY, "--batch", "8", "--sampling", "caption"]
        teachers = []
        for seed in ("1", "2"):
            out = os.path.join(self.tmp, f"teacher{seed}")
            self.assertEqual(train_in_process(*common, "--steps", "5", "--seed", seed, "--out", out), 0)
            teachers.append(out)
        plain = os.path.join(self.tmp, "plain")
        self.assertEqual(train_in_process(*common, "--steps", "3", "--init", teachers[0], "--out", plain), 0)
        kd = os.path.join(self.tmp, "kd")
        code, _ = train_quiet(*common, "--steps", "3", "--init", teachers[0], "--distill-from", ",".join(teachers),
                              "--distill-temperature", "0.1", "--out", kd)
        self.assertEqual(code, 0)
        # The loss gains the distillation term (>= 0, and > 0 unless the student already ranks as the teacher).
        for a, b in zip(losses(kd), losses(plain)):
            self.assertGreater(a, b)
        self.assertEqual(read_run(kd).config["train"]["distill"], {"teachers": teachers, "weight": 1.0, "temperature": 0.1})
        # Wrong input is named.
        missing = os.path.join(self.tmp, "no-such-run")
        code, err = train_quiet(*common, "--steps", "1", "--distill-from", missing, "--out", os.path.join(self.tmp, "x"))
        self.assertEqual(code, 1)
        self.assertIn("no-such-run", err)
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
            train_in_process(*common, "--steps", "1", "--distill-weight", "2", "--out", os.path.join(self.tmp, "y"))


class Generality(TempDirTest):
    def test_generalize_keeps_an_in_order_proper_subset_of_each_captions_words(self):
        captions = [[5, 6, 7, 8, 9, 10], [11, 12], [13], [14, 15, 16]]
        ids, lengths = pad_time_major(captions)
        g_ids, g_lengths = generalize(ids, lengths, generator_for(1234, 7, 0))
        self.assertEqual(g_ids.shape[1], 4)
        seen_sizes = set()
        for b, words in enumerate(captions):
            kept = g_ids[: g_lengths[b], b].tolist()
            if len(words) == 1:
                self.assertEqual(kept, words)  # one word: its own generalization
                continue
            self.assertGreaterEqual(len(kept), 1)
            self.assertLess(len(kept), len(words))
            it = iter(words)
            self.assertTrue(all(w in it for w in kept), f"{kept} is not an in-order subset of {words}")
            seen_sizes.add(len(kept))
        # The same (seed, step, rank) draws the same subsets (a resumed run); another step draws others.
        again, _ = generalize(ids, lengths, generator_for(1234, 7, 0))
        self.assertTrue(torch.equal(again, g_ids))
        draws = {tuple(generalize(ids, lengths, generator_for(1234, s, 0))[0][:, 0].tolist()) for s in range(20)}
        self.assertGreater(len(draws), 3)

    def test_generalize_short_keeps_one_to_three_words_with_probability_p_in_order_and_seeded(self):
        captions = [list(range(10, 10 + n)) for n in (2, 4, 7, 9, 12)] * 200  # 1000 captions of 2 .. 12 words
        ids, lengths = pad_time_major(captions)
        g_ids, g_lengths = generalize(ids, lengths, generator_for(99, 3, 1), short=0.5)
        for b, words in enumerate(captions):
            kept = g_ids[: g_lengths[b], b].tolist()
            self.assertTrue(1 <= len(kept) < len(words), f"{len(kept)} words kept of {len(words)}")
            it = iter(words)
            self.assertTrue(all(w in it for w in kept), f"{kept} is not an in-order subset of {words}")
        # Among the 12-word captions: uniform 1..11 gives 3 / 11 of draws <= 3 words; p = 0.5 gives
        # 0.5 + 0.5 * 3 / 11 (about 0.64); p = 1 gives all of them.
        long_rows = [b for b, w in enumerate(captions) if len(w) == 12]
        share = lambda g_len: sum(int(g_len[b]) <= 3 for b in long_rows) / len(long_rows)  # noqa: E731
        plain = share(generalize(ids, lengths, generator_for(99, 3, 1))[1])
        self.assertLess(plain, 0.45)
        self.assertGreater(share(g_lengths), 0.5)
        self.assertEqual(share(generalize(ids, lengths, generator_for(99, 3, 1), short=1.0)[1]), 1.0)
        # Deterministic under (seed, step, rank); another seed draws otherwise.
        again, again_lengths = generalize(ids, lengths, generator_for(99, 3, 1), short=0.5)
        self.assertTrue(torch.equal(again, g_ids) and torch.equal(again_lengths, g_lengths))
        other, _ = generalize(ids, lengths, generator_for(100, 3, 1), short=0.5)
        self.assertFalse(torch.equal(other, g_ids))
        for bad in (0.0, 1.5, float("nan")):
            with self.assertRaises(ValueError):
                generalize(ids, lengths, generator_for(99, 3, 1), short=bad)

    def test_contained_mask_marks_the_other_captions_that_contain_a_generalization(self):
        # "a black dog runs" -> "a dog"; "a dog sits" -> "dog sits"; "a cat runs" -> "cat"
        captions = [[1, 2, 3, 4], [1, 3, 5], [1, 6, 4]]
        gens = [[1, 3], [3, 5], [6]]
        ids, lengths = pad_time_major(captions)
        g_ids, g_lengths = pad_time_major(gens)
        mask = contained_mask(ids, lengths, g_ids, g_lengths)
        # "a dog" is in "a dog sits" (row 1, column 0); "dog sits" in no other; "cat" in no other; never the diagonal.
        self.assertEqual(mask.tolist(), [[False, False, False], [True, False, False], [False, False, False]])
        # Order counts: "dog a" is not an in-order subset of "a black dog runs".
        g_ids2, g_lengths2 = pad_time_major([[3, 1], [3, 5], [6]])
        self.assertFalse(contained_mask(ids, lengths, g_ids2, g_lengths2).any())
        with self.assertRaises(ValueError):
            contained_mask(ids, lengths, *pad_time_major(gens[:2]))

    def test_pull_loss_is_the_mean_energy_of_each_caption_over_its_own_generalization(self):
        captions = torch.tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 1.0]])
        gens = torch.tensor([[2.0, 1.0, 1.0], [0.0, 1.0, 1.5]])
        # Row 0: max(0, g - c) = [1, 1, 0] -> E = 2; row 1: [0, 0, 0.5] -> E = 0.25; mean 1.125.
        self.assertAlmostEqual(pull_loss(captions, gens).item(), 1.125, places=6)
        # The same as the diagonal of the order-violation matrix (the caption-to-caption hinge's S = -E).
        self.assertAlmostEqual(pull_loss(captions, gens).item(), order_violation(captions, gens).diagonal().mean().item(), places=6)
        self.assertEqual(pull_loss(gens, gens).item(), 0.0)  # a sentence over itself
        with self.assertRaises(ValueError):
            pull_loss(captions, gens[:1])

    def test_a_run_adds_the_caption_order_term_and_refuses_a_bad_weight(self):
        pack = os.path.join(self.tmp, "pack")
        make_pack(pack, num_images=40, dev=8)
        common = ["--data", pack, *TINY, "--batch", "8", "--sampling", "caption", "--steps", "3"]
        plain = os.path.join(self.tmp, "plain")
        self.assertEqual(train_in_process(*common, "--out", plain), 0)
        gen = os.path.join(self.tmp, "gen")
        self.assertEqual(train_quiet(*common, "--generality-weight", "0.5", "--out", gen)[0], 0)
        # The first step's loss gains the term (the same weights and batch; the hinge sum is > 0 at random
        # weights); the later steps differ as the weights do.
        self.assertGreater(losses(gen)[0], losses(plain)[0])
        self.assertEqual(read_run(gen).config["train"]["generalityWeight"], 0.5)
        short = os.path.join(self.tmp, "short")
        self.assertEqual(train_quiet(*common, "--generality-weight", "0.5", "--generality-short", "0.5", "--out", short)[0], 0)
        self.assertEqual(read_run(short).config["train"]["generalityShort"], 0.5)
        self.assertNotEqual(losses(short), losses(gen))  # other subsets drawn, so other losses
        # The mask only removes hinges (each >= 0): the first step's loss is at most the unmasked one's.
        masked = os.path.join(self.tmp, "masked")
        self.assertEqual(train_quiet(*common, "--generality-weight", "0.5", "--generality-short", "0.5", "--generality-mask",
                                     "--out", masked)[0], 0)
        self.assertLessEqual(losses(masked)[0], losses(short)[0])
        self.assertIs(read_run(masked).config["train"]["generalityMask"], True)
        # The pull adds w * mean E(c_i, g_i) >= 0: the first step's loss grows linearly in w from the unset run's.
        pulled = {}
        for w in ("2", "4"):
            pulled[w] = os.path.join(self.tmp, f"pull{w}")
            self.assertEqual(train_quiet(*common, "--generality-weight", "0.5", "--generality-short", "0.5", "--generality-pull", w,
                                         "--out", pulled[w])[0], 0)
        self.assertEqual(read_run(pulled["2"]).config["train"]["generalityPull"], 2.0)
        self.assertNotIn("generalityPull", read_run(short).config["train"])
        step2, step4 = losses(pulled["2"])[0] - losses(short)[0], losses(pulled["4"])[0] - losses(short)[0]
        self.assertGreater(step2, 0)
        self.assertAlmostEqual(step4, 2 * step2, delta=1e-3 * abs(step4))
        for bad in (["--generality-weight", "1", "--generality-short", "0"], ["--generality-weight", "1", "--generality-short", "2"],
                    ["--generality-short", "0.5"], ["--generality-mask"], ["--generality-pull", "1"],
                    ["--generality-weight", "1", "--generality-pull", "0"], ["--generality-weight", "1", "--generality-pull", "-1"],
                    ["--generality-weight", "1", "--generality-pull", "nan"]):  # a probability / weight, and only with the term they shape
            with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
                train_in_process(*common, *bad, "--out", os.path.join(self.tmp, "x"))
        for bad in ("0", "-1", "nan"):
            with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
                train_in_process(*common, "--generality-weight", bad, "--out", os.path.join(self.tmp, "x"))
        code, err = train_quiet(*common, "--generality-weight", "1", "--measure", "cosine", "--out", os.path.join(self.tmp, "y"))
        self.assertEqual(code, 1)
        self.assertIn("--measure order", err)
