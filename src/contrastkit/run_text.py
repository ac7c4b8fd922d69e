"""The text modality's part of `train` / `eval`: build the method, the loop's tensors, the eval.

`run.py` calls these when `data.source` is a text source; the loop and run directory are
shared with the image runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from contrastkit.augment.text import dropout_views
from contrastkit.augment.types import Augment
from contrastkit.batches import SentenceBatch, TextPairBatch
from contrastkit.builders import Log, build_method
from contrastkit.config import Config
from contrastkit.data.text import read_text_lines
from contrastkit.data.text_load import TEXT_SOURCES, load_text_data
from contrastkit.encoders.text import embed_tokens, load_text_encoder, load_tokenizer, tokenize
from contrastkit.errors import UserError
from contrastkit.eval.text_retrieval import SPEARMAN_NOTE, evaluate_retrieval
from contrastkit.methods.registry import method_spec, methods_for
from contrastkit.methods.simcse import sentence_tensors
from contrastkit.methods.text_pairs import pair_tensors

TEXT_BATCHES = (SentenceBatch, TextPairBatch)
"""What the text methods train on (from their registry entries)."""


def is_text(cfg: Config) -> bool:
    """Whether the config describes a text run; a text method on non-text data (or the
    reverse) is a `UserError`."""
    text_data = cfg.data.source in TEXT_SOURCES
    text_method = method_spec(cfg.method.name).batch in TEXT_BATCHES
    if text_data != text_method:
        kind = "text" if text_data else "image"
        text_methods = tuple(name for batch in TEXT_BATCHES for name in methods_for(batch))
        wanted = text_methods if text_data else "an image method such as simclr"
        raise UserError(
            f"method.name: {cfg.method.name!r} does not train on {kind} data "
            f"(data.source {cfg.data.source!r}); use {wanted}"
        )
    return text_data


def build_text_method(cfg: Config) -> nn.Module:
    """The configured method on the configured (offline) transformer."""
    return build_method(
        cfg, lambda: load_text_encoder(cfg.text.model, normalize=cfg.text.normalize)
    )


@dataclass(frozen=True)
class TextTraining:
    """What the loop needs for a text run, and how to describe it."""

    method: nn.Module
    data: SentenceBatch | TextPairBatch
    augment: Augment
    name: str
    texts_per_sample: int
    summary: str


def text_training(cfg: Config) -> TextTraining:
    """Load the text data, tokenise it once, and build the method.

    Raises:
        UserError: text_pairs asked for on a corpus without pairs (text_lines).
    """
    data = load_text_data(cfg)
    tokenizer = load_tokenizer(cfg.text.model)
    max_length = cfg.text.max_length
    tensors: SentenceBatch | TextPairBatch
    if method_spec(cfg.method.name).batch is TextPairBatch:
        if data.pairs is None:
            raise UserError(
                "method.name: text_pairs needs pairs (data.source wordnet or text_pairs); "
                "text_lines gives plain sentences, for simcse"
            )
        tensors = pair_tensors(tokenizer, data.pairs, max_length=max_length)
        per_sample = 3 if data.pairs.negatives is not None else 2
        what = f"{len(data.pairs)} pairs" + (" + hard negatives" if per_sample == 3 else "")
    else:
        tensors = sentence_tensors(tokenizer, data.sentences, max_length=max_length)
        per_sample = 1
        what = f"{len(data.sentences)} sentences"
    test = (
        "no held-out task"
        if data.test is None
        else (f"held-out: {len(data.test.queries)} queries / {len(data.test.corpus)} candidates")
    )
    return TextTraining(
        method=build_text_method(cfg),
        data=tensors,
        augment=dropout_views,
        name=data.name,
        texts_per_sample=per_sample,
        summary=f"data: {data.name}, {what}; {test}; model {cfg.text.model}",
    )


def evaluate_text(cfg: Config, method: nn.Module, log: Log) -> dict[str, Any]:
    """The held-out retrieval task for the trained encoder and the untrained base model.

    Returns:
        `eval.retrieval` (Recall@1, mAP of the trained encoder), `health`, and a `text`
        block: task sizes, trained and base metrics, encoding speed, the Spearman note.
    """
    data = load_text_data(cfg)
    if data.test is None:
        return {"text": {"task": None, "note": "no held-out task (set text.eval_pairs)"}}
    tokenizer = load_tokenizer(cfg.text.model)
    kwargs: dict[str, Any] = {
        "max_length": cfg.text.max_length,
        "batch_size": cfg.text.eval_batch_size,
    }
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    log(f"evaluating on {data.test.name}")
    trained = evaluate_retrieval(encoder, tokenizer, data.test, **kwargs)
    log("baseline: the base model before training")
    base_encoder = load_text_encoder(cfg.text.model, normalize=cfg.text.normalize)
    base = evaluate_retrieval(
        base_encoder.to(next(encoder.parameters()).device), tokenizer, data.test, **kwargs
    )
    health = trained.pop("health")
    base.pop("health")
    return {
        "eval": {"retrieval": {"recall_at_1": trained["recall_at_1"], "map": trained["map"]}},
        "health": health,
        "text": {
            "task": data.test.name,
            "queries": len(data.test.queries),
            "corpus": len(data.test.corpus),
            "trained": trained,
            "base": base,
            "spearman": None,
            "spearman_note": SPEARMAN_NOTE,
        },
    }


def embed_text_file(cfg: Config, method: nn.Module, path: Path) -> Tensor:
    """Embeddings of the non-blank lines of a UTF-8 text file (in file order).

    Returns:
        Shape: (N, D), float32 on the CPU.
    """
    tokens = tokenize(
        load_tokenizer(cfg.text.model), read_text_lines(path), max_length=cfg.text.max_length
    )
    encoder = method.encoder
    assert isinstance(encoder, nn.Module)
    return embed_tokens(encoder, tokens, batch_size=cfg.text.eval_batch_size)
