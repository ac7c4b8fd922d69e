"""A trained text encoder as a folder that `sentence_transformers.SentenceTransformer(path)`
loads, giving the same embeddings as `contrastkit.encoders.text.embed_tokens`.

`TextEncoder` (`contrastkit.encoders.text`) is a Hugging Face transformer, mean pooling
over real tokens and an optional L2 normalisation; sentence-transformers spells the same
pipeline as three modules, listed in `modules.json`:

    folder/
      modules.json                 0: Transformer (path ""), 1: Pooling, [2: Normalize]
      sentence_bert_config.json    max_seq_length (= contrastkit's text.max_length)
      config.json, model.safetensors, tokenizer files      (the Transformer module)
      1_Pooling/config.json        mean pooling of word_embedding_dimension D
      2_Normalize/                 (only when the encoder normalises)

The layout is the one sentence-transformers itself writes (that of all-MiniLM-L6-v2), so
the package is needed to *load* the folder, not to write it. The folder appears whole or
not at all: it is written under a temporary name beside it and renamed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from torch import nn

from contrastkit.encoders.text import TextEncoder
from contrastkit.errors import UserError
from contrastkit.temporaries import make_temp_dir, replace_folder

TRANSFORMER = "sentence_transformers.models.Transformer"
POOLING = "sentence_transformers.models.Pooling"
NORMALIZE = "sentence_transformers.models.Normalize"


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n")


def _modules(normalize: bool) -> list[dict[str, Any]]:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": TRANSFORMER},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": POOLING},
    ]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": NORMALIZE})
    return modules


def _pooling(dim: int) -> dict[str, Any]:
    return {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }


def write_sentence_transformer(
    encoder: nn.Module,
    tokenizer: Any,
    folder: str | Path,
    *,
    max_length: int,
    overwrite: bool = False,
) -> Path:
    """Write `encoder` (+ its tokenizer) as a sentence-transformers model folder.

    Args:
        encoder: A `contrastkit.encoders.text.TextEncoder` (any device; weights are saved
            as float safetensors).
        tokenizer: The `transformers` tokenizer the encoder was trained with.
        folder: The folder to create.
        max_length: Tokens kept per text (contrastkit's `text.max_length`); sentence-
            transformers truncates to it (`max_seq_length`).
        overwrite: Replace an existing folder.

    Returns:
        The folder.

    Raises:
        UserError: the folder exists and `overwrite` is False.
        ValueError: `encoder` is not a `TextEncoder`, or `max_length < 1`.
    """
    if not isinstance(encoder, TextEncoder):
        raise ValueError(f"need a contrastkit TextEncoder, got {type(encoder).__name__}")
    if max_length < 1:
        raise ValueError(f"max_length must be >= 1, got {max_length}")
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise UserError(f"{folder} exists; choose another folder or overwrite it")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = make_temp_dir(folder.parent, folder.name)
    try:
        backbone: Any = encoder.backbone
        backbone.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        _write_json(staging / "modules.json", _modules(encoder.normalize))
        _write_json(
            staging / "sentence_bert_config.json",
            {"max_seq_length": max_length, "do_lower_case": False},
        )
        _write_json(staging / "1_Pooling" / "config.json", _pooling(encoder.dim))
        if encoder.normalize:
            (staging / "2_Normalize").mkdir()
        os.chmod(staging, 0o755)  # made private; a model folder is not
        replace_folder(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return folder
