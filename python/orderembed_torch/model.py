"""The order-embedding model of src/model/model.ts in PyTorch, with its GRU / LN-GRU, scores and losses.

    caption: words -> embeddings [T, B, W] -> (LN-)GRU -> state at the last real token h_N [B, H]
             -> l2-normalize -> abs                                        (abs only for order embeddings)
    image:   CNN feature [B, F] -> linear [F -> H] -> l2-normalize -> abs

Parameter names are those of a run folder's weights.json (src/model/export.ts): `word_embedding` [V, W],
`gru.weight_ih` [3H, W], `gru.weight_hh` [3H, H], `gru.bias_ih`, `gru.bias_hh` [3H] (torch.nn.GRU layout,
gate order r, z, n), for the LN-GRU `gru.ln_weight_ih`, `gru.ln_bias_ih`, `gru.ln_weight_hh`,
`gru.ln_bias_hh` [3H], and `image.weight` [H, F], `image.bias` [H] (nn.Linear). `state_dict()` uses the
same names except `word_embedding.weight` (nn.Embedding); `run_weights()` / `load_run_weights()` convert.

LN-GRU step, as src/model/gru.ts documents it (the layer norm paper's code, four normalizations):

    gi  = W_ih x_t + b_ih                 gh  = W_hh h_{t-1} + b_hh          (each 3H)
    LN(v) = (v - mean v) / sqrt(var v + 1e-5) * gain + shift                 (biased variance)
    gi' = [LN(gi[:2H]), LN(gi[2H:])]      gh' = [LN(gh[:2H]), LN(gh[2H:])]   (r and z share one mean/var)
    r, z = sigmoid(gi'[:2H] + gh'[:2H]);  n = tanh(gi'[2H:] + r * gh'[2H:]);  h~ = z * h_{t-1} + (1 - z) * n
    h_t = m_t ? h~ : h_{t-1}              y_t = m_t ? h~ : 0                  (m_t = t < length)

The plain GRU is the same without LN, i.e. torch.nn.GRU's equations. Gradients come from autograd; the
TypeScript core's hand-written BPTT is checked against these in python/tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, asdict

import torch
import torch.nn.functional as F
from torch import nn

LN_EPS = 1e-5
GRU_PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
LN_PARAM_NAMES = ("ln_weight_ih", "ln_bias_ih", "ln_weight_hh", "ln_bias_hh")
DEFAULT_MARGIN = {"order": 0.05, "cosine": 0.2}


@dataclass
class ModelConfig:
    """The `model` object of a run's config.json (src/model/types.ts ModelConfig)."""

    vocabSize: int
    wordDim: int
    hiddenDim: int
    imageDim: int
    layerNorm: bool = True
    measure: str = "order"
    margin: float = 0.05
    maxViolation: bool = False

    def __post_init__(self) -> None:
        for k in ("vocabSize", "wordDim", "hiddenDim", "imageDim"):
            v = getattr(self, k)
            if not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
                raise ValueError(f"model config: {k} must be a positive integer, got {v!r}")
        if self.measure not in ("order", "cosine"):
            raise ValueError(f"model config: measure must be 'order' or 'cosine', got {self.measure!r}")
        if not (isinstance(self.margin, (int, float)) and self.margin >= 0):
            raise ValueError(f"model config: margin must be >= 0, got {self.margin!r}")
        if not isinstance(self.layerNorm, bool) or not isinstance(self.maxViolation, bool):
            raise ValueError("model config: layerNorm and maxViolation must be true or false")

    @staticmethod
    def from_json(obj: object, source: str = "config.json") -> "ModelConfig":
        if not isinstance(obj, dict):
            raise ValueError(f"{source}: 'model' must be an object")
        known = {f for f in ModelConfig.__dataclass_fields__}
        missing = [k for k in ("vocabSize", "wordDim", "hiddenDim", "imageDim") if k not in obj]
        if missing:
            raise ValueError(f"{source}: model.{missing[0]} is missing")
        try:
            return ModelConfig(**{k: v for k, v in obj.items() if k in known})
        except ValueError as e:
            raise ValueError(f"{source}: {e}") from None

    def to_json(self) -> dict:
        return asdict(self)


def _group_layer_norm(v: torch.Tensor, H: int) -> torch.Tensor:
    """Normalizes [..., 3H] over [:2H] (r and z together) and [2H:] (n) separately; no gain or shift."""
    rz, n = v.split([2 * H, H], dim=-1)
    return torch.cat([F.layer_norm(rz, (2 * H,), eps=LN_EPS), F.layer_norm(n, (H,), eps=LN_EPS)], dim=-1)


def expected_shapes(c: ModelConfig) -> dict[str, list[int]]:
    """Run-folder weight name -> shape, in the order of `weightShapes` in src/model/model.ts."""
    V, W, H, Fd = c.vocabSize, c.wordDim, c.hiddenDim, c.imageDim
    names = GRU_PARAM_NAMES + (LN_PARAM_NAMES if c.layerNorm else ())
    gru_shapes = {"weight_ih": [3 * H, W], "weight_hh": [3 * H, H]}
    shapes = {"word_embedding": [V, W]}
    shapes.update({f"gru.{n}": gru_shapes.get(n, [3 * H]) for n in names})
    shapes["image.weight"] = [H, Fd]
    shapes["image.bias"] = [H]
    return shapes


class GruLayer(nn.Module):
    """GRU or LN-GRU, one layer, one direction, time-major; parameters in torch.nn.GRU layout."""

    def __init__(self, input_size: int, hidden_size: int, layer_norm: bool):
        super().__init__()
        H = hidden_size
        self.input_size = input_size
        self.hidden_size = H
        self.layer_norm = layer_norm
        self.weight_ih = nn.Parameter(torch.empty(3 * H, input_size))
        self.weight_hh = nn.Parameter(torch.empty(3 * H, H))
        self.bias_ih = nn.Parameter(torch.empty(3 * H))
        self.bias_hh = nn.Parameter(torch.empty(3 * H))
        if layer_norm:
            self.ln_weight_ih = nn.Parameter(torch.ones(3 * H))
            self.ln_bias_ih = nn.Parameter(torch.zeros(3 * H))
            self.ln_weight_hh = nn.Parameter(torch.ones(3 * H))
            self.ln_bias_hh = nn.Parameter(torch.zeros(3 * H))
        self.reset_parameters()

    @property
    def param_names(self) -> tuple[str, ...]:
        return GRU_PARAM_NAMES + (LN_PARAM_NAMES if self.layer_norm else ())

    def reset_parameters(self) -> None:
        # torch.nn.GRU's initialisation, as src/model/gru.ts: U(-1/sqrt(H), 1/sqrt(H)); gains 1, shifts 0.
        k = 1 / math.sqrt(self.hidden_size)
        for name in GRU_PARAM_NAMES:
            nn.init.uniform_(getattr(self, name), -k, k)
        if self.layer_norm:
            nn.init.ones_(self.ln_weight_ih)
            nn.init.zeros_(self.ln_bias_ih)
            nn.init.ones_(self.ln_weight_hh)
            nn.init.zeros_(self.ln_bias_hh)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor, outputs: bool = False
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """x [T, B, D], lengths [B] in 1..T -> (y [T, B, H] or None, h_N [B, H])."""
        if x.dim() != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"GRU input must be [T, B, {self.input_size}], got {list(x.shape)}")
        T, B, _ = x.shape
        lengths = lengths.to(x.device)
        if lengths.shape != (B,):
            raise ValueError(f"GRU lengths: expected {B} lengths (batch size), got {list(lengths.shape)}")
        if B and (int(lengths.min()) < 1 or int(lengths.max()) > T):
            raise ValueError(f"GRU lengths must be in 1..{T} (T = {T}); empty sequences are not allowed")
        H = self.hidden_size
        # Input side for all steps at once: [T*B, D] @ [D, 3H].
        gi = torch.addmm(self.bias_ih, x.reshape(T * B, -1), self.weight_ih.t())
        if self.layer_norm:
            gi = _group_layer_norm(gi, H) * self.ln_weight_ih + self.ln_bias_ih
        # Per-step pieces by unbind / split rather than indexing: the backward of an indexed slice builds
        # a zero tensor of the whole input for every slice (measured 60% of a step at H = 1024).
        gis = gi.view(T, B, 3 * H).unbind(0)
        masks = (torch.arange(T, device=x.device)[:, None] < lengths[None, :]).unsqueeze(-1).unbind(0)  # T x [B, 1]
        whh_t = self.weight_hh.t()
        h = x.new_zeros(B, H)
        ys = []
        for t in range(T):
            gh = torch.addmm(self.bias_hh, h, whh_t)  # [B, 3H]
            if self.layer_norm:
                gh = _group_layer_norm(gh, H) * self.ln_weight_hh + self.ln_bias_hh
            gi_rz, gi_n = gis[t].split([2 * H, H], dim=1)
            gh_rz, gh_n = gh.split([2 * H, H], dim=1)
            r, z = torch.sigmoid(gi_rz + gh_rz).chunk(2, dim=1)
            n = torch.tanh(gi_n + r * gh_n)
            h_new = z * h + (1 - z) * n
            m = masks[t]
            if outputs:
                ys.append(h_new * m)
            h = torch.where(m, h_new, h)
        return (torch.stack(ys) if outputs else None), h


def l2normalize(v: torch.Tensor) -> torch.Tensor:
    """v / sqrt(sum v^2 + 1e-12) over the last axis (src/model/ops.ts)."""
    return v / torch.sqrt((v * v).sum(-1, keepdim=True) + 1e-12)


# Elements of one [n, m, D] block of the order-violation energy: 2^17 floats (512 KiB) keep each block in
# the CPU's L2 cache, which made the training batch's energy 80x faster than one [B, B, D] tensor.
CHUNK_ELEMENTS = 1 << 17


def _blocks(N: int, M: int, D: int, chunk_elements: int):
    """(image rows, caption rows) slices covering [N, M] with n * m * D <= chunk_elements (at least 1 x 1)."""
    m = max(1, min(M, chunk_elements // D))
    n = max(1, chunk_elements // (m * D))
    for i0 in range(0, N, n):
        for j0 in range(0, M, m):
            yield slice(i0, i0 + n), slice(j0, j0 + m)


class _OrderViolation(torch.autograd.Function):
    """E[i, j] = sum_k max(0, c[j, k] - im[i, k])^2 in blocks, forward and backward, so that neither pass
    holds the whole [N, M, D] difference (16 GiB for 1000 x 5000 x 1024 in float32)."""

    @staticmethod
    def forward(ctx, images: torch.Tensor, captions: torch.Tensor, chunk_elements: int) -> torch.Tensor:  # type: ignore[override]
        N, D = images.shape
        M = captions.shape[0]
        E = images.new_empty(N, M)
        for bi, bj in _blocks(N, M, D, chunk_elements):
            d = (captions[None, bj, :] - images[bi, None, :]).clamp_min_(0)  # [n, m, D]
            E[bi, bj] = (d * d).sum(-1)
        ctx.save_for_backward(images, captions)
        ctx.chunk_elements = chunk_elements
        return E

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gE: torch.Tensor):  # type: ignore[override]
        images, captions = ctx.saved_tensors
        N, D = images.shape
        d_images = torch.zeros_like(images)
        d_captions = torch.zeros_like(captions)
        for bi, bj in _blocks(N, captions.shape[0], D, ctx.chunk_elements):
            d = (captions[None, bj, :] - images[bi, None, :]).clamp_min_(0)  # [n, m, D]
            w = d.mul_(2 * gE[bi, bj, None])  # dE/dc = 2 relu(c - im), dE/dim = -that
            d_captions[bj] += w.sum(0)
            d_images[bi] -= w.sum(1)
        return d_images, d_captions, None


def order_violation(images: torch.Tensor, captions: torch.Tensor, chunk_elements: int = CHUNK_ELEMENTS) -> torch.Tensor:
    """E[i, j] = || max(0, captions[j] - images[i]) ||^2, [N, M] (src/model/scoring.ts)."""
    if images.dim() != 2 or captions.dim() != 2 or images.shape[1] != captions.shape[1]:
        raise ValueError(f"scores: expected images [N, D] and captions [M, D], got {list(images.shape)} and {list(captions.shape)}")
    return _OrderViolation.apply(images, captions, chunk_elements)


def scores(images: torch.Tensor, captions: torch.Tensor, measure: str) -> torch.Tensor:
    """S[i, j], higher is better: -E for order embeddings, cosine similarity for the symmetric baseline."""
    if measure == "order":
        return -order_violation(images, captions)
    return l2normalize(images) @ l2normalize(captions).t()


def contrastive_loss(S: torch.Tensor, margin: float, max_violation: bool) -> torch.Tensor:
    """Hinge loss over in-batch negatives, both directions (src/model/loss.ts), from S [B, B]:

    cost_caption[i, j] = max(0, margin - S[i, i] + S[i, j])  j != i
    cost_image[i, j]   = max(0, margin - S[j, j] + S[i, j])  i != j
    summed: sum of both; max-violation (VSE++): sum_i max_j cost_caption + sum_j max_i cost_image.
    """
    B = S.shape[0]
    if S.dim() != 2 or S.shape[1] != B:
        raise ValueError(f"contrastive loss: expected a square [B, B] score matrix, got {list(S.shape)}")
    if B < 2:
        raise ValueError(f"contrastive loss: needs at least 2 pairs in a batch for negatives, got {B}")
    off = 1 - torch.eye(B, dtype=S.dtype, device=S.device)
    diag = S.diagonal()
    base = S + margin
    cost_caption = F.relu(base - diag[:, None]) * off
    cost_image = F.relu(base - diag[None, :]) * off
    if max_violation:
        return cost_caption.max(1).values.sum() + cost_image.max(0).values.sum()
    return cost_caption.sum() + cost_image.sum()


class OrderEmbeddingModel(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        V, W, H, Fdim = config.vocabSize, config.wordDim, config.hiddenDim, config.imageDim
        self.word_embedding = nn.Embedding(V, W)
        self.gru = GruLayer(W, H, config.layerNorm)
        self.image = nn.Linear(Fdim, H)
        # The TypeScript core's initialisation: embeddings U(-0.1, 0.1), image map Xavier uniform, bias 0.
        nn.init.uniform_(self.word_embedding.weight, -0.1, 0.1)
        nn.init.xavier_uniform_(self.image.weight)
        nn.init.zeros_(self.image.bias)

    def expected_shapes(self) -> dict[str, list[int]]:
        return expected_shapes(self.config)

    def _param(self, run_name: str) -> nn.Parameter:
        return self.word_embedding.weight if run_name == "word_embedding" else self.get_parameter(run_name)

    def run_weights(self) -> dict[str, torch.Tensor]:
        """Weights under their run-folder names, in file order (float32, CPU, detached)."""
        return {n: self._param(n).detach().float().cpu().contiguous() for n in self.expected_shapes()}

    def load_run_weights(self, weights: dict[str, torch.Tensor], source: str = "weights") -> None:
        """Loads weights named as run_weights(); every weight must be present with its shape and finite."""
        expected = self.expected_shapes()
        for name in weights:
            if name not in expected:
                raise ValueError(f"{source}: unexpected weight '{name}' (this model has {', '.join(expected)})")
        for name, shape in expected.items():
            if name not in weights:
                raise ValueError(f"{source}: missing weight '{name}' (expected shape {shape})")
            w = weights[name]
            if list(w.shape) != shape:
                raise ValueError(f"{source}: weight '{name}': expected shape {shape}, got {list(w.shape)}")
            bad = (~torch.isfinite(w)).nonzero()
            if len(bad):
                idx = int(bad[0].tolist()[0]) if w.dim() == 1 else bad[0].tolist()
                raise ValueError(f"{source}: weight '{name}' holds {w[tuple(bad[0].tolist())].item()} at index {idx}")
        with torch.no_grad():
            for name in expected:
                self._param(name).copy_(weights[name])

    def normalize(self, v: torch.Tensor) -> torch.Tensor:
        """Non-negative unit vectors for order embeddings; plain unit vectors for cosine."""
        n = l2normalize(v)
        return n.abs() if self.config.measure == "order" else n

    def embed_images(self, features: torch.Tensor) -> torch.Tensor:
        if features.dim() != 2 or features.shape[1] != self.config.imageDim:
            raise ValueError(f"image features: expected [N, {self.config.imageDim}], got {list(features.shape)}")
        return self.normalize(self.image(features))

    def embed_captions(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ids [T, B] word ids, lengths [B] -> [B, H]."""
        V = self.config.vocabSize
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= V):
            raise ValueError(f"caption ids: an id is outside the vocabulary (size {V})")
        _, h_n = self.gru(self.word_embedding(ids), lengths)
        return self.normalize(h_n)

    def forward(self, features: torch.Tensor, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch of pairs -> (image embeddings [B, H], caption embeddings [B, H])."""
        return self.embed_images(features), self.embed_captions(ids, lengths)

    def loss(self, features: torch.Tensor, ids: torch.Tensor, lengths: torch.Tensor, max_violation: bool | None = None) -> torch.Tensor:
        """Contrastive loss of a batch of B positive pairs (image i with caption i), one process."""
        im, cap = self(features, ids, lengths)
        mv = self.config.maxViolation if max_violation is None else max_violation
        return contrastive_loss(scores(im, cap, self.config.measure), self.config.margin, mv)
