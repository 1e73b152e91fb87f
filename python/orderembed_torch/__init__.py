"""orderembed in PyTorch: the model of src/model (word embeddings, GRU / LN-GRU, order-violation and
cosine scores, summed and max-violation losses), run folders and feature packs in the formats of the
TypeScript side, and a trainer for many processes under torchrun (DistributedDataParallel).

See the README section "PyTorch" and docs/pack-format.md.
"""

from .model import (  # noqa: F401
    GruLayer,
    ModelConfig,
    OrderEmbeddingModel,
    contrastive_loss,
    l2normalize,
    order_violation,
    scores,
)
from .pack import Pack, read_pack, write_pack  # noqa: F401
from .runfolder import Run, RunRecord, read_run, read_weights, write_run  # noqa: F401
from .tokenizer import Vocabulary, tokenize  # noqa: F401
