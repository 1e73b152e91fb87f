"""The PyTorch model against the reference vectors of ../shared/testvectors (computed in float64)."""

from __future__ import annotations

import unittest

import torch

from helpers import load_test_vector
from orderembed_torch.evaluate import evaluate_scores, ranks_i2t, ranks_t2i
from orderembed_torch.forward import run_case
from orderembed_torch.model import contrastive_loss, scores


def maxdiff(a, b) -> float:
    return (torch.as_tensor(a, dtype=torch.float64) - torch.as_tensor(b, dtype=torch.float64)).abs().max().item()


class GruVectors(unittest.TestCase):
    def check(self, name: str) -> None:
        case = load_test_vector(name)
        for dtype, tol in ((torch.float64, 1e-9), (torch.float32, 1e-4)):
            out = run_case(case, dtype)
            with self.subTest(dtype=str(dtype)):
                self.assertLess(maxdiff(out["y"], case["y"]), tol)
                self.assertLess(maxdiff(out["h_n"], case["h_n"]), tol)
                self.assertLess(abs(out["loss"] - case["loss"]), tol * max(1, abs(case["loss"])))
                self.assertEqual(set(out["grads"]), set(case["grads"]))
                for k in case["grads"]:
                    self.assertLess(maxdiff(out["grads"][k], case["grads"][k]), tol, k)

    def test_lngru_forward_and_gradients(self):
        self.check("lngru")

    def test_gru_forward_and_gradients(self):
        self.check("gru")


class ScoreAndLossVectors(unittest.TestCase):
    def test_order_violation_energy(self):
        v = load_test_vector("order_violation")
        E = -scores(torch.tensor(v["images"], dtype=torch.float64), torch.tensor(v["captions"], dtype=torch.float64), "order")
        self.assertLess(maxdiff(E, v["E"]), 1e-12)

    def test_contrastive_losses_and_gradients(self):
        v = load_test_vector("contrastive_loss")
        for key, measure, margin, mv in (
            ("order_sum", "order", v["margin"], False),
            ("order_max_violation", "order", v["margin"], True),
            ("cosine_sum", "cosine", v["margin_cosine"], False),
            ("cosine_max_violation", "cosine", v["margin_cosine"], True),
        ):
            with self.subTest(key):
                im = torch.tensor(v["images"], dtype=torch.float64, requires_grad=True)
                cap = torch.tensor(v["captions"], dtype=torch.float64, requires_grad=True)
                loss = contrastive_loss(scores(im, cap, measure), margin, mv)
                loss.backward()
                self.assertAlmostEqual(loss.item(), v[key]["loss"], places=10)
                self.assertLess(maxdiff(im.grad, v[key]["grad_images"]), 1e-9)
                self.assertLess(maxdiff(cap.grad, v[key]["grad_captions"]), 1e-9)


class RecallVector(unittest.TestCase):
    def test_ranks_and_metrics(self):
        v = load_test_vector("recall")
        S = torch.tensor(v["scores"], dtype=torch.float64)
        ci = torch.tensor(v["caption_image"])
        self.assertEqual(ranks_i2t(S, ci).tolist(), v["i2t_ranks"])
        self.assertEqual(ranks_t2i(S, ci).tolist(), v["t2i_ranks"])
        m = evaluate_scores(S, ci)
        for side in ("i2t", "t2i"):
            for k, want in v[side].items():
                self.assertAlmostEqual(m[side][k], want, places=9, msg=f"{side}.{k}")
        self.assertAlmostEqual(m["rsum"], v["rsum"], places=9)


class ChunkedOrderViolation(unittest.TestCase):
    def test_chunked_forward_and_backward_equal_the_broadcast_formula(self):
        from orderembed_torch.model import order_violation

        g = torch.Generator().manual_seed(3)
        im = torch.rand(7, 5, generator=g, dtype=torch.float64, requires_grad=True)
        cap = torch.rand(6, 5, generator=g, dtype=torch.float64, requires_grad=True)
        w = torch.randn(7, 6, generator=g, dtype=torch.float64)
        ref = ((cap[None] - im[:, None]).clamp_min(0) ** 2).sum(-1)
        gi, gc = torch.autograd.grad((ref * w).sum(), (im, cap))
        for chunk in (1, 30, 10**6):  # one row per chunk, a few rows, all at once
            E = order_violation(im, cap, chunk)
            self.assertLess(maxdiff(E, ref), 1e-12)
            di, dc = torch.autograd.grad((E * w).sum(), (im, cap))
            self.assertLess(maxdiff(di, gi), 1e-12)
            self.assertLess(maxdiff(dc, gc), 1e-12)


class TorchGruLayout(unittest.TestCase):
    def test_plain_gru_equals_torch_nn_gru_with_the_same_weights(self):
        from orderembed_torch.model import GruLayer

        torch.manual_seed(0)
        ours = GruLayer(5, 4, layer_norm=False)
        ref = torch.nn.GRU(5, 4)
        with torch.no_grad():
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(ref, f"{n}_l0").copy_(getattr(ours, n))
        x = torch.randn(6, 3, 5)
        lengths = torch.tensor([6, 2, 4])
        y, h = ours(x, lengths, outputs=True)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, h_ref = ref(packed)
        y_ref, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=6)
        self.assertLess(maxdiff(h, h_ref[0]), 1e-6)
        self.assertLess(maxdiff(y, y_ref), 1e-6)


if __name__ == "__main__":
    unittest.main()
