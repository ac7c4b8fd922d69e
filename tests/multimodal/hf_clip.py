"""A tiny random Hugging Face CLIP (vision and text towers, projections, a character-level
BPE tokenizer) saved to a folder with `save_pretrained`: what `model.encoder: hf` loads,
offline."""

from __future__ import annotations

import json
from pathlib import Path

import torch

LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789-'"


def save_tiny_clip(folder: Path, *, seed: int = 0) -> Path:
    """Write a 16x16-pixel CLIP (32-d vision, 16-d text, 12-d shared space) and its tokenizer
    (one token per character, no merges) into `folder`."""
    import transformers as t

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in LETTERS:
        vocab[c] = len(vocab)
        vocab[f"{c}</w>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = t.CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    config = t.CLIPConfig(
        vision_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                       "num_attention_heads": 2, "image_size": 16, "patch_size": 8},
        text_config={"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "vocab_size": len(vocab), "bos_token_id": 0,
                     "eos_token_id": 1, "pad_token_id": 1, "max_position_embeddings": 40},
        projection_dim=12,
    )  # fmt: skip
    torch.manual_seed(seed)
    t.CLIPModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
