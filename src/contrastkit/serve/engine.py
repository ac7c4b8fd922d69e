"""The models behind the service: one runner per tower, under ONNX Runtime or PyTorch, and
the preprocessing that turns a request's image, text or table row into the tower's input.

Both backends read the same preprocessing records (`contrastkit.data.preprocess`): the
ONNX backend from the run's export folder (`contrastkit export`), the PyTorch backend from
the modality's `export_spec`, so a query is prepared the same way under either; they
differ only in what runs the model (parity 1e-4, checked at export).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from contrastkit.data.preprocess import (
    CharPreprocess,
    ImagePreprocess,
    Preprocess,
    QueryKind,
    TablePreprocess,
    TokenizerPreprocess,
    read_preprocess,
)
from contrastkit.errors import UserError
from contrastkit.modalities.base import Modality
from contrastkit.serve.images import decode_upload
from contrastkit.serve.limits import UNPROCESSABLE, Limits, RequestError

Backend = Literal["onnx", "torch"]
BACKENDS = ("onnx", "torch")

RunModel = Callable[[Sequence[np.ndarray]], np.ndarray]
"""Model inputs (one array per input, Shape: (B, ...)) -> Shape: (B, D) float32."""


@dataclass
class Tower:
    """One model: what it takes and how it runs.

    Attributes:
        folder: The export sub-folder ('' for a one-tower run, 'inputs', 'texts').
        preprocess: How a request becomes the model's inputs.
        run: The model.
        tokenizer: The Hugging Face tokenizer (TokenizerPreprocess only).
    """

    folder: str
    preprocess: Preprocess
    run: RunModel
    tokenizer: Any = None

    @property
    def takes(self) -> QueryKind | None:
        """The query kind this tower reads, or None (spectrograms: no query from a request)."""
        return self.preprocess.QUERY

    def inputs(self, items: Sequence[Any], limits: Limits) -> list[np.ndarray]:
        """A request's items (uploaded files, texts or table rows, as this tower takes
        them) -> the model's inputs, one array per input, Shape: (B, ...)."""
        pre = self.preprocess
        if isinstance(pre, ImagePreprocess):
            size = (pre.height, pre.width)
            images = [
                decode_upload(data, limits=limits, channels=pre.channels, size=size)
                for data in items
            ]
            return [torch.stack(images).numpy()]
        if isinstance(pre, CharPreprocess):
            return [pre.encode(list(items))]
        if isinstance(pre, TokenizerPreprocess):
            from contrastkit.encoders.text import tokenize

            tokens = tokenize(self.tokenizer, list(items), max_length=pre.max_length)
            return [tokens.ids.numpy(), tokens.mask.numpy()]
        if isinstance(pre, TablePreprocess):
            try:
                numeric, codes = pre.encode(list(items))
            except UserError as err:
                raise RequestError(UNPROCESSABLE, str(err)[:200]) from None
            return [numeric, codes]
        raise RequestError(UNPROCESSABLE, f"the {self.folder or 'model'} tower takes no queries")


def _torch_runner(module: nn.Module) -> RunModel:
    module.eval()
    lock = threading.Lock()  # one forward at a time: torch's own threads do the parallel work

    def run(inputs: Sequence[np.ndarray]) -> np.ndarray:
        tensors = [torch.from_numpy(np.ascontiguousarray(x)) for x in inputs]
        with lock, torch.inference_mode():
            out: torch.Tensor = module(*tensors)
        return out.float().numpy()

    return run


def _onnx_runner(path: Path, threads: int | None = None) -> RunModel:
    from contrastkit.export.onnx import OnnxEncoder

    encoder = OnnxEncoder(path, threads=threads)

    def run(inputs: Sequence[np.ndarray]) -> np.ndarray:
        return encoder(*inputs).astype(np.float32, copy=False)

    return run


def torch_towers(modality: Modality, method: nn.Module) -> list[Tower]:
    """The run's towers in PyTorch: the modules and preprocessing the export would write."""
    spec = modality.export_spec(method, max_items=1)
    return [
        Tower(t.folder, t.preprocess, _torch_runner(t.module), tokenizer=t.tokenizer)
        for t in spec.towers
    ]


def onnx_towers(export_dir: Path, *, threads: int | None = None) -> list[Tower]:
    """The towers of an export folder (`contrastkit export`), under ONNX Runtime with
    `threads` intra-op threads (None: one per core).

    Raises:
        UserError: the folder is not an export (the message says how to make one).
    """
    from contrastkit.atomic import read_json
    from contrastkit.export.run_export import MANIFEST

    manifest_path = export_dir / MANIFEST
    if not manifest_path.is_file():
        raise UserError(
            f"{export_dir}: no ONNX export here; run `contrastkit export --run <run>` first "
            "or use --backend torch"
        )
    manifest = read_json(manifest_path)
    towers = []
    for entry in manifest.get("towers", []):
        folder = str(entry.get("folder", ""))
        if folder and (Path(folder).name != folder or folder.startswith(".")):
            raise UserError(f"{manifest_path}: tower folder {folder!r} is not a plain name")
        base = export_dir / folder
        pre = read_preprocess(base)
        tokenizer = None
        if isinstance(pre, TokenizerPreprocess):
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(
                str(base / pre.tokenizer_dir), local_files_only=True
            )
        towers.append(
            Tower(folder, pre, _onnx_runner(base / "model.onnx", threads), tokenizer=tokenizer)
        )
    if not towers:
        raise UserError(f"{manifest_path}: lists no models")
    return towers
