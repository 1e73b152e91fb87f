"""The PyTorch model against the TypeScript core on the same weights: the GRU / LN-GRU forward pass and
gradients (`npm run -s forward`), and run folders passing both ways between `npm run train` /
`npm run evaluate` and PyTorch."""

from __future__ import annotations

import contextlib
import io
import json
import os
import unittest

import torch

from helpers import TempDirTest, last_json, make_pack, npm
from orderembed_torch import train
from orderembed_torch.evaluate import evaluate_split
from orderembed_torch.forward import run_case
from orderembed_torch.pack import read_pack
from orderembed_torch.runfolder import read_run


def random_case(T: int, B: int, D: int, H: int, layer_norm: bool, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: (torch.rand(*s, generator=g) * 2 - 1).tolist()  # noqa: E731
    params = {"weight_ih": r(3 * H, D), "weight_hh": r(3 * H, H), "bias_ih": r(3 * H), "bias_hh": r(3 * H)}
    if layer_norm:  # gains and shifts away from 1 and 0, so that a mix-up shows
        params.update(ln_weight_ih=(torch.rand(3 * H, generator=g) + 0.5).tolist(), ln_bias_ih=r(3 * H),
                      ln_weight_hh=(torch.rand(3 * H, generator=g) + 0.5).tolist(), ln_bias_hh=r(3 * H))
    lengths = torch.randint(1, T + 1, (B,), generator=g).tolist()
    lengths[0] = T
    return {"params": params, "x": r(T, B, D), "lengths": lengths, "w_out": r(T, B, H), "w_h": r(B, H)}


def close(test: unittest.TestCase, got, want, what: str) -> None:
    a, b = torch.tensor(got, dtype=torch.float64), torch.tensor(want, dtype=torch.float64)
    test.assertEqual(a.shape, b.shape, what)
    # float32 precision: both sides compute in float32 with different operation orders.
    tol = 1e-5 * max(1.0, b.abs().max().item())
    test.assertLess((a - b).abs().max().item(), tol, what)


class ForwardAgainstTypeScript(TempDirTest):
    def test_gru_and_lngru_forward_and_gradients_match_npm_run_forward(self):
        for layer_norm in (True, False):
            case = random_case(T=7, B=5, D=6, H=8, layer_norm=layer_norm, seed=11 + layer_norm)
            path = os.path.join(self.tmp, f"case-{layer_norm}.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(case, f)
            ts = last_json(npm("forward", "--", path).stdout)
            py = run_case(case, torch.float32)
            with self.subTest(layer_norm=layer_norm):
                close(self, py["y"], ts["y"], "y")
                close(self, py["h_n"], ts["h_n"], "h_n")
                close(self, py["loss"], ts["loss"], "loss")
                self.assertEqual(set(py["grads"]), set(ts["grads"]))
                for k in ts["grads"]:
                    close(self, py["grads"][k], ts["grads"][k], f"grad {k}")


class RunFoldersBothWays(TempDirTest):
    def test_node_run_evaluates_alike_and_continues_in_pytorch(self):
        pack = os.path.join(self.tmp, "pack")
        make_pack(pack, num_images=40, dev=12)
        node_run = os.path.join(self.tmp, "node-run")
        npm("train", "--", "--data", pack, "--steps", "12", "--hidden", "16", "--word-dim", "8", "--batch", "8",
            "--eval-every", "100", "--out", node_run, "--json")
        p = read_pack(pack)

        def both(folder: str) -> tuple[dict, dict]:
            ts = last_json(npm("evaluate", "--", "--model", folder, "--data", pack, "--json").stdout)
            run = read_run(folder)
            py = evaluate_split(run.build_model(), run.vocab, p, "dev", run.max_length)
            return ts, py

        def same(ts: dict, py: dict) -> None:
            for side in ("i2t", "t2i"):
                for k in ("r1", "r5", "r10", "medr"):
                    self.assertEqual(py[side][k], ts[side][k], f"{side}.{k}")
                self.assertAlmostEqual(py[side]["meanr"], ts[side]["meanr"], places=6)
            self.assertAlmostEqual(py["rsum"], ts["rsum"], places=6)

        ts, py = both(node_run)
        same(ts, py)
        # PyTorch continues the Node run (same vocabulary and encoder), writes a run folder Node opens.
        torch_run = os.path.join(self.tmp, "torch-run")
        with contextlib.redirect_stdout(io.StringIO()):
            rc = train.main(["--data", pack, "--init", node_run, "--steps", "6", "--batch", "8", "--threads", "1",
                             "--out", torch_run])
        self.assertEqual(rc, 0)
        cont = read_run(torch_run)
        self.assertEqual(cont.vocab.tokens, read_run(node_run).vocab.tokens)
        self.assertEqual(cont.config["train"]["initFrom"], node_run)
        self.assertFalse(torch.equal(cont.weights["gru.weight_hh"], read_run(node_run).weights["gru.weight_hh"]))
        ts2, py2 = both(torch_run)
        same(ts2, py2)


if __name__ == "__main__":
    unittest.main()
