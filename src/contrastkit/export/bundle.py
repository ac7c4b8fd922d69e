"""One exported model folder: `model.onnx` + `preprocess.json` (+ `tokenizer/` for text),
parity-checked before it is reported done.

    out/                      a one-tower run          out/inputs/, out/texts/   two towers
      model.onnx                                          (one such folder per tower)
      preprocess.json
      tokenizer/              (Hugging Face text encoders only)

The parity check runs ONNX Runtime and PyTorch on the example batch and on its first row
alone (a batch size other than the example's), and fails above the tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from contrastkit.data.preprocess import Preprocess, TokenizerPreprocess, write_preprocess
from contrastkit.encoders.traceable import TextEmbedding
from contrastkit.export.onnx import DEFAULT_TOLERANCE, check_parity, export_onnx

MODEL_FILE = "model.onnx"
TOKENIZER_DIR = "tokenizer"


@dataclass(frozen=True)
class Exported:
    """What `export_encoder` wrote and how closely it matches PyTorch.

    Attributes:
        onnx_path: The model.
        preprocess_path: Its `preprocess.json`.
        max_abs_diff: Largest |ONNX - PyTorch| over the parity batches.
        batch_sizes: The batch sizes checked.
    """

    onnx_path: Path
    preprocess_path: Path
    max_abs_diff: float
    batch_sizes: tuple[int, ...]


def export_encoder(
    module: nn.Module,
    example_inputs: Sequence[Tensor],
    folder: str | Path,
    *,
    input_names: Sequence[str],
    preprocess: Preprocess,
    dynamic_axes: Mapping[str, Mapping[int, str]] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Exported:
    """Export `module` to `folder/model.onnx`, write `folder/preprocess.json`, check parity.

    Args:
        module: A traceable encoder (`contrastkit.encoders.traceable` wraps ours).
        example_inputs: A batch of real inputs (B >= 2 preferred), one tensor per input.
        folder: Created if missing.
        input_names: ONNX input names, in order.
        preprocess: How raw data becomes `example_inputs`.
        dynamic_axes: Free axes beyond the batch (see `export_onnx`).
        tolerance: Largest accepted |ONNX - PyTorch|.

    Raises:
        UserError: parity fails (the message names the output and the difference).
    """
    folder = Path(folder)
    path = export_onnx(
        module,
        example_inputs,
        folder / MODEL_FILE,
        input_names=input_names,
        dynamic_axes=dynamic_axes,
    )
    batches = [list(example_inputs)]
    if example_inputs[0].shape[0] > 1:
        batches.append([x[:1] for x in example_inputs])
    diff = max(check_parity(module, path, b, tolerance=tolerance) for b in batches)
    return Exported(
        onnx_path=path,
        preprocess_path=write_preprocess(folder, preprocess),
        max_abs_diff=diff,
        batch_sizes=tuple(int(b[0].shape[0]) for b in batches),
    )


def export_text_encoder(
    encoder: nn.Module,
    tokenizer: Any,
    folder: str | Path,
    *,
    texts: Sequence[str],
    max_length: int,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Exported:
    """A Hugging Face `TextEncoder` with free batch and sequence length, its tokenizer
    saved in `folder/tokenizer`, parity-checked on `texts` (give texts of unequal length).
    """
    from contrastkit.encoders.text import tokenize

    folder = Path(folder)
    tokenizer.save_pretrained(folder / TOKENIZER_DIR)
    tokens = tokenize(tokenizer, list(texts), max_length=max_length)
    wrapper = TextEmbedding(encoder)
    sequence = {"input_ids": {1: "sequence"}, "attention_mask": {1: "sequence"}}
    return export_encoder(
        wrapper,
        (tokens.ids, tokens.mask),
        folder,
        input_names=("input_ids", "attention_mask"),
        preprocess=TokenizerPreprocess(
            tokenizer_dir=TOKENIZER_DIR, max_length=max_length, normalized=wrapper.normalize
        ),
        dynamic_axes=sequence,
        tolerance=tolerance,
    )
