"""Caption tokenizer and vocabulary, identical to src/model/tokenizer.ts.

The vocabulary of a run folder is stored in its config.json, and `npm run evaluate` encodes captions with
the TypeScript tokenizer, so a model trained here must see exactly the word ids the TypeScript side would
give: same lowercasing, same apostrophe deletion, same word characters, same id order.

- id 0 is `<pad>`, id 1 is `<unk>`; real words start at id 2.
- The vocabulary is built from the training captions only, ordered by decreasing count, ties by the
  JavaScript string order (UTF-16 code units).
- Batches are time-major [T, B].
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Iterable, Sequence

import torch

PAD_ID = 0
UNK_ID = 1
PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"

# Apostrophes (ASCII and typographic) are deleted before splitting: "dog's" -> "dogs".
_APOSTROPHES = re.compile("['\u2019\u2018\u02bc`]")
_ASCII_WORDS = re.compile(r"[a-z0-9]+")


def _is_word_char(ch: str) -> bool:
    """JavaScript's [\\p{L}\\p{M}\\p{N}]: letters, combining marks, numbers."""
    return unicodedata.category(ch)[0] in "LMN"


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens of a caption, as `tokenize` in src/model/tokenizer.ts."""
    t = _APOSTROPHES.sub("", text.lower())
    if t.isascii():
        return _ASCII_WORDS.findall(t)
    out: list[str] = []
    cur: list[str] = []
    for ch in t:
        if _is_word_char(ch):
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def _describe(text: str) -> str:
    import json

    return json.dumps(text if len(text) <= 80 else text[:77] + "...", ensure_ascii=False)


def tokenize_caption(text: object, index: int) -> list[str]:
    """Tokens of caption `index`; raises naming it when it is not a string, empty, or has no word."""
    if not isinstance(text, str):
        raise ValueError(f"caption {index} must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ValueError(f"caption {index} is empty ({_describe(text)}); every caption needs at least one word")
    tokens = tokenize(text)
    if not tokens:
        raise ValueError(
            f"caption {index} has no word tokens ({_describe(text)}); expected at least one letter or digit"
        )
    return tokens


def _js_order(word: str) -> bytes:
    """Sort key giving JavaScript's string order (UTF-16 code units)."""
    return word.encode("utf-16-be")


class Vocabulary:
    """tokens[id] = word; starts with '<pad>', '<unk>'."""

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if len(tokens) < 2 or tokens[PAD_ID] != PAD_TOKEN or tokens[UNK_ID] != UNK_TOKEN:
            raise ValueError(f"vocabulary tokens must start with '{PAD_TOKEN}', '{UNK_TOKEN}', got {tokens[:2]!r}")
        index: dict[str, int] = {}
        for i, tok in enumerate(tokens):
            if not isinstance(tok, str) or not tok:
                raise ValueError(f"vocabulary token {i} must be a non-empty string, got {tok!r}")
            if tok in index:
                raise ValueError(f"vocabulary token {tok!r} appears twice (ids {index[tok]} and {i})")
            index[tok] = i
        self.tokens = tokens
        self.index = index

    @staticmethod
    def build(texts: Iterable[str], min_count: int = 1) -> "Vocabulary":
        if not (isinstance(min_count, int) and min_count >= 1):
            raise ValueError(f"minCount must be a positive integer, got {min_count}")
        counts: Counter[str] = Counter()
        n = 0
        for i, text in enumerate(texts):
            counts.update(tokenize_caption(text, i))
            n += 1
        if n == 0:
            raise ValueError("cannot build a vocabulary from zero captions; expected the training captions")
        words = [w for w, c in counts.items() if c >= min_count]
        words.sort(key=lambda w: (-counts[w], _js_order(w)))
        return Vocabulary([PAD_TOKEN, UNK_TOKEN, *words])

    @staticmethod
    def from_json(obj: object, source: str = "vocabulary") -> "Vocabulary":
        if not isinstance(obj, dict) or not isinstance(obj.get("tokens"), list):
            raise ValueError(f"{source}: must be an object with a 'tokens' array of strings")
        if obj.get("format", "orderembed-vocab") != "orderembed-vocab":
            raise ValueError(f"{source}: format is {obj.get('format')!r}, expected 'orderembed-vocab'")
        if obj.get("version", 1) != 1:
            raise ValueError(f"{source}: version {obj.get('version')!r} is not supported (expected 1)")
        try:
            return Vocabulary(obj["tokens"])
        except ValueError as e:
            raise ValueError(f"{source}: {e}") from None

    def to_json(self) -> dict:
        return {"format": "orderembed-vocab", "version": 1, "tokens": list(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str, index: int = 0) -> list[int]:
        """Word ids of a caption (unknown words -> UNK_ID); raises naming `index` for an empty caption."""
        get = self.index.get
        return [get(t, UNK_ID) for t in tokenize_caption(text, index)]

    def first_difference(self, other: "Vocabulary") -> int | None:
        """Index of the first differing token (or the shorter length), None when equal."""
        for i, (a, b) in enumerate(zip(self.tokens, other.tokens)):
            if a != b:
                return i
        return None if len(self) == len(other) else min(len(self), len(other))


def has_known_word(ids: Sequence[int]) -> bool:
    return any(i not in (PAD_ID, UNK_ID) for i in ids)


def pad_time_major(seqs: Sequence[Sequence[int]], max_len: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Encoded captions -> (ids [T, B] int64, padded with PAD_ID; lengths [B] int64)."""
    if not seqs:
        raise ValueError("a caption batch needs at least one caption, got 0")
    lengths = [len(s) if max_len is None else min(len(s), max_len) for s in seqs]
    T = max(lengths)
    ids = torch.zeros(T, len(seqs), dtype=torch.long)
    for b, (s, n) in enumerate(zip(seqs, lengths)):
        if n:
            ids[:n, b] = torch.as_tensor(list(s[:n]), dtype=torch.long)
    return ids, torch.as_tensor(lengths, dtype=torch.long)
