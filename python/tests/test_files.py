"""Run folders and feature packs: round trips, float16 weights, and bad input named by file and field."""

from __future__ import annotations

import json
import os
import unittest
from unittest import mock

import numpy as np
import torch

from helpers import TempDirTest, make_pack, read_bytes, read_json, write_json
from orderembed_torch import runfolder
from orderembed_torch.model import ModelConfig, OrderEmbeddingModel
from orderembed_torch.pack import read_pack
from orderembed_torch.runfolder import RunRecord, read_run, write_run
from orderembed_torch.tokenizer import Vocabulary, tokenize


def tiny_model(layer_norm: bool = True) -> tuple[OrderEmbeddingModel, Vocabulary]:
    vocab = Vocabulary(["<pad>", "<unk>", "dog", "runs", "red"])
    torch.manual_seed(1)
    return OrderEmbeddingModel(ModelConfig(vocabSize=5, wordDim=3, hiddenDim=4, imageDim=6, layerNorm=layer_norm)), vocab


def record(model: OrderEmbeddingModel, vocab: Vocabulary) -> RunRecord:
    return RunRecord(model.config, {"batchSize": 8, "learningRate": 1e-3, "clipNorm": 2, "seed": 1, "minWordCount": 1,
                                    "maxLength": 50, "sampling": "image"}, vocab, "test-encoder", "tiny", 3, 0)


class RunFolders(TempDirTest):
    def write(self, layer_norm: bool = True) -> tuple[str, OrderEmbeddingModel]:
        model, vocab = tiny_model(layer_norm)
        out = os.path.join(self.tmp, "run")
        write_run(out, model.run_weights(), record(model, vocab))
        return out, model

    def edit_json(self, path: str, fn) -> None:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
        fn(obj)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(obj, f)

    def assertRaisesNaming(self, *parts: str):
        test = self

        class Ctx:
            def __enter__(self):
                return self

            def __exit__(self, et, e, tb):
                test.assertIsNotNone(e, f"expected an error naming {parts}")
                for p in parts:
                    test.assertIn(p, str(e))
                return True

        return Ctx()

    def test_round_trip_keeps_every_weight_and_the_vocabulary(self):
        for ln in (True, False):
            out, model = self.write(ln)
            run = read_run(out)
            self.assertEqual(run.vocab.tokens, ["<pad>", "<unk>", "dog", "runs", "red"])
            self.assertEqual(list(run.weights), list(model.expected_shapes()))
            for name, w in model.run_weights().items():
                self.assertTrue(torch.equal(run.weights[name], w), name)
            self.assertEqual(sorted(os.listdir(self.tmp)), ["run"])  # no temporary folder left behind

    def test_float16_weights_are_read_and_widened(self):
        out, model = self.write()
        mpath = os.path.join(out, "weights.json")
        with open(mpath, encoding="utf-8") as f:
            manifest = json.load(f)
        blob = b""
        for e in manifest["weights"]:
            e["offset"] = len(blob)
            blob += model.run_weights()[e["name"]].numpy().astype("<f2").tobytes()
        manifest["dtype"] = "float16"
        with open(mpath, "w", encoding="utf-8") as f:
            json.dump(manifest, f)
        with open(os.path.join(out, "weights.bin"), "wb") as f:
            f.write(blob)
        run = read_run(out)
        for name, w in model.run_weights().items():
            want = torch.from_numpy(w.numpy().astype(np.float16).astype(np.float32))
            self.assertTrue(torch.equal(run.weights[name], want), name)

    def test_wrong_format_or_version_names_the_file_and_field(self):
        out, _ = self.write()
        self.edit_json(os.path.join(out, "config.json"), lambda c: c.update(version=2))
        with self.assertRaisesNaming("config.json", "version 2"):
            read_run(out)
        out, _ = self.write()
        self.edit_json(os.path.join(out, "weights.json"), lambda m: m.update(dtype="bfloat16"))
        with self.assertRaisesNaming("weights.json", "dtype", "bfloat16"):
            read_run(out)

    def test_weight_of_the_wrong_shape_is_named(self):
        out, _ = self.write()

        def bad(m):
            m["weights"][1]["shape"] = [12, 2]  # gru.weight_ih is [12, 3]
        self.edit_json(os.path.join(out, "weights.json"), bad)
        with self.assertRaisesNaming("weights.json", "gru.weight_ih", "[12, 2]", "[12, 3]"):
            read_run(out)

    def test_nan_in_weights_is_named(self):
        out, model = self.write()
        manifest = read_json(os.path.join(out, "weights.json"))
        e = next(e for e in manifest["weights"] if e["name"] == "gru.weight_hh")
        with open(os.path.join(out, "weights.bin"), "r+b") as f:
            f.seek(e["offset"] + 4 * 5)
            f.write(np.array([np.nan], dtype="<f4").tobytes())
        with self.assertRaisesNaming("weights.bin", "gru.weight_hh", "nan", "[1, 1]"):
            read_run(out)

    def test_truncated_weights_bin_is_named(self):
        out, _ = self.write()
        path = os.path.join(out, "weights.bin")
        os.truncate(path, os.path.getsize(path) - 8)
        with self.assertRaisesNaming("weights.bin", "image.bias", "needs bytes"):
            read_run(out)

    def test_mismatched_vocabulary_is_named(self):
        out, _ = self.write()
        self.edit_json(os.path.join(out, "config.json"), lambda c: c["vocab"]["tokens"].append("extra"))
        with self.assertRaisesNaming("another vocabulary", "6 words", "vocabSize is 5"):
            read_run(out)

    def test_failed_write_leaves_no_half_written_folder_and_keeps_the_old_one(self):
        out, model = self.write()
        before = read_bytes(os.path.join(out, "weights.bin"))
        other, vocab = tiny_model()
        with torch.no_grad():
            other.image.bias.add_(1)
        with mock.patch.object(runfolder, "_weights_manifest_text", side_effect=OSError("disk full")):
            with self.assertRaises(OSError):
                write_run(out, other.run_weights(), record(other, vocab))
        self.assertEqual(sorted(os.listdir(self.tmp)), ["run"])
        self.assertEqual(read_bytes(os.path.join(out, "weights.bin")), before)
        with torch.no_grad():
            other.image.bias[0] = float("nan")
        with self.assertRaisesNaming("image.bias", "not finite"):
            write_run(os.path.join(self.tmp, "new"), other.run_weights(), record(other, vocab))
        self.assertEqual(sorted(os.listdir(self.tmp)), ["run"])


class Packs(TempDirTest):
    def setUp(self):
        super().setUp()
        self.pack = os.path.join(self.tmp, "pack")
        make_pack(self.pack, num_images=6, dev=2, feature_dim=12)

    def test_reads_manifest_and_features(self):
        p = read_pack(self.pack)
        self.assertEqual(tuple(p.features.shape), (6, 12))
        self.assertEqual(p.split("dev"), [4, 5])

    def test_other_encoder_is_rejected(self):
        with self.assertRaises(ValueError) as e:
            read_pack(self.pack, expect_encoder="mobilenet-v1-1.0-trunk")
        self.assertIn("manifest.json", str(e.exception))
        self.assertIn("test-encoder", str(e.exception))

    def test_wrong_version_and_size_and_nan_are_named(self):
        m = os.path.join(self.pack, "manifest.json")
        obj = read_json(m)
        write_json(m, {**obj, "version": 7})
        with self.assertRaises(ValueError) as e:
            read_pack(self.pack)
        self.assertIn("version 7", str(e.exception))
        write_json(m, obj)
        f = os.path.join(self.pack, "features.bin")
        feats = np.fromfile(f, dtype="<f4")
        feats[2 * 12 + 3] = np.inf
        feats.tofile(f)
        with self.assertRaises(ValueError) as e:
            read_pack(self.pack)
        self.assertIn("image 2 (img2.jpg)", str(e.exception))
        feats[:-1].tofile(f)
        with self.assertRaises(ValueError) as e:
            read_pack(self.pack)
        self.assertIn("features.bin", str(e.exception))
        self.assertIn("numImages", str(e.exception))


class Tokenizer(unittest.TestCase):
    def test_as_the_typescript_tokenizer(self):
        self.assertEqual(tokenize("A dog's ball, don't   RUN."), ["a", "dogs", "ball", "dont", "run"])
        self.assertEqual(tokenize("Café naïve 3-D cafe\u0301"), ["café", "naïve", "3", "d", "cafe\u0301"])
        v = Vocabulary.build(["b a", "c b a", "a"], min_count=2)
        self.assertEqual(v.tokens, ["<pad>", "<unk>", "a", "b"])
        self.assertEqual(v.encode("A zebra b"), [2, 1, 3])


if __name__ == "__main__":
    unittest.main()
