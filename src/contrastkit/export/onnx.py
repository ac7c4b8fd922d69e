"""Export an encoder to ONNX with a dynamic batch axis, and check it against PyTorch.

The exporter is PyTorch's TorchScript-based one (`torch.onnx.export(..., dynamo=False)`):
it works offline with the packages of the `export` extra (onnx, onnxruntime), while the
default `torch.export`-based exporter of torch >= 2.9 also needs `onnxscript`. Tracing
records the operations one example runs, so a module with data-dependent Python control
flow must be wrapped first (see `contrastkit.encoders.traceable`).

Parity is measured as the largest absolute difference between ONNX Runtime (CPU) and
PyTorch eager (eval mode, no grad) on the same inputs::

    diff = max_{i, j} | onnx(x)_{ij} - torch(x)_{ij} |
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import numpy as np
import torch
from torch import Tensor, nn

from contrastkit.atomic import write_atomic
from contrastkit.errors import UserError

DEFAULT_OPSET = 17
"""ONNX opset: supported by the TorchScript exporter and ONNX Runtime >= 1.14."""
MIN_OPSET, MAX_OPSET = 13, 20
DEFAULT_TOLERANCE = 1e-4
BATCH_AXIS = "batch"


def _check_names(input_names: Sequence[str], output_name: str, n_inputs: int) -> None:
    names = [*input_names, output_name]
    if len(input_names) != n_inputs:
        raise ValueError(f"got {n_inputs} example inputs but {len(input_names)} input_names")
    if any(not isinstance(n, str) or not n for n in names) or len(set(names)) != len(names):
        raise ValueError(
            f"input_names and output_name must be distinct non-empty strings, got "
            f"{list(input_names)} and {output_name!r}"
        )


def _axes(
    input_names: Sequence[str],
    output_name: str,
    dynamic_axes: Mapping[str, Mapping[int, str]] | None,
) -> dict[str, dict[int, str]]:
    """Axis 0 of every input and of the output is `batch`; `dynamic_axes` adds more."""
    axes: dict[str, dict[int, str]] = {n: {0: BATCH_AXIS} for n in [*input_names, output_name]}
    for name, extra in (dynamic_axes or {}).items():
        if name not in axes:
            raise ValueError(
                f"dynamic_axes names {name!r}, not an input or the output ({', '.join(axes)})"
            )
        axes[name].update({int(k): str(v) for k, v in extra.items()})
    return axes


def export_onnx(
    module: nn.Module,
    example_inputs: Sequence[Tensor],
    path: str | Path,
    *,
    input_names: Sequence[str],
    output_name: str = "embedding",
    opset: int = DEFAULT_OPSET,
    dynamic_axes: Mapping[str, Mapping[int, str]] | None = None,
) -> Path:
    """Write `module` as an ONNX model whose batch size is free.

    The module runs in eval mode during the export (its mode is restored afterwards), so
    BatchNorm uses its running statistics and dropout is off. The file is written
    atomically and checked with `onnx.checker`. The tracer's warnings are silenced
    (transformers raise dozens); `check_parity` at a batch size other than the example's
    is what catches a shape or value the trace fixed.

    Args:
        module: `forward(*example_inputs) -> Tensor` of Shape: (B, D). Modules with
            data-dependent control flow must be wrapped (`contrastkit.encoders.traceable`).
        example_inputs: One tensor per input, on the module's device, each Shape: (B, ...).
            Integer inputs (token ids, category codes) keep their dtype in the model.
        path: The `.onnx` file to write.
        input_names: The ONNX name of each input, in order.
        output_name: The ONNX name of the embedding output.
        opset: ONNX opset version, in [13, 20].
        dynamic_axes: Free axes beyond the batch, e.g.
            `{"input_ids": {1: "sequence"}, "attention_mask": {1: "sequence"}}` for tokens.

    Returns:
        The path written.

    Raises:
        ValueError: names and inputs disagree, or an unsupported opset.
    """
    inputs = tuple(example_inputs)
    _check_names(input_names, output_name, len(inputs))
    if not all(isinstance(x, Tensor) and x.ndim >= 1 for x in inputs):
        raise ValueError("example_inputs must be tensors with a batch axis")
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ValueError(f"opset must be in [{MIN_OPSET}, {MAX_OPSET}], got {opset}")
    axes = _axes(input_names, output_name, dynamic_axes)
    path = Path(path)
    was_training = module.training
    module.eval()

    def write(handle: IO[bytes]) -> None:
        with warnings.catch_warnings():
            # the exporter's own notices: legacy-exporter deprecation, advanced indexing
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", message="Exporting aten::index operator")
            warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
            torch.onnx.export(
                module,
                inputs,
                handle,  # type: ignore[arg-type]  # the TorchScript exporter takes files
                dynamo=False,
                input_names=list(input_names),
                output_names=[output_name],
                dynamic_axes=axes,
                opset_version=opset,
                do_constant_folding=True,
            )

    try:
        with torch.no_grad():
            write_atomic(path, write)
    finally:
        module.train(was_training)
    import onnx

    onnx.checker.check_model(str(path))
    return path


ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


class OnnxEncoder:
    """An exported encoder under ONNX Runtime (CPU), loaded once, run in batches.

    Args:
        path: The `.onnx` file.
        threads: Intra-op threads (None: ONNX Runtime's default, one per core).

    Raises:
        UserError: the file is missing or not a model ONNX Runtime can load.
    """

    def __init__(self, path: str | Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"{self.path}: ONNX model not found")
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only
        if threads is not None:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # ORT raises its own Fail / InvalidGraph types
            raise UserError(f"{self.path}: not a loadable ONNX model ({err})") from None
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.input_types = [i.type for i in self.session.get_inputs()]
        self.output_name: str = self.session.get_outputs()[0].name

    def __call__(self, *inputs: Tensor | np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """The first output on `inputs` (one array per model input, in order).

        Args:
            inputs: Each Shape: (N, ...), of the model's input dtype.
            batch_size: Rows per run (None: all at once).

        Returns:
            Shape: (N, D).

        Raises:
            UserError: wrong number of inputs, a dtype the model does not take, or rows
                that disagree in number (the message names the input).
        """
        if len(inputs) != len(self.input_names):
            raise UserError(
                f"{self.path}: the model takes {len(self.input_names)} inputs "
                f"{self.input_names}, got {len(inputs)}"
            )
        arrays = [
            x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x) for x in inputs
        ]
        for name, kind, array in zip(self.input_names, self.input_types, arrays, strict=True):
            want = ORT_DTYPES.get(kind)
            if want is not None and array.dtype != want:
                raise UserError(
                    f"{self.path}: input {name!r} takes {np.dtype(want).name}, got {array.dtype}"
                )
        n = arrays[0].shape[0]
        if any(a.shape[0] != n for a in arrays):
            raise UserError(f"{self.path}: inputs have different numbers of rows")
        step = n if batch_size is None else batch_size
        if step < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        parts = [
            self.session.run(
                [self.output_name],
                {name: a[i : i + step] for name, a in zip(self.input_names, arrays, strict=True)},
            )[0]
            for i in range(0, max(n, 1), step)
        ]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


def run_onnx(path: str | Path, inputs: Sequence[Tensor | np.ndarray]) -> np.ndarray:
    """The model's first output on `inputs` (in input order) with ONNX Runtime on the CPU.

    Returns:
        Shape: (B, D), the dtype the model outputs (float32 for our encoders).

    Raises:
        UserError: the file is missing, or the inputs do not fit the model.
    """
    return OnnxEncoder(path)(*inputs)


def check_parity(
    module: nn.Module,
    onnx_path: str | Path,
    inputs: Sequence[Tensor],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> float:
    """Max abs difference between ONNX Runtime and PyTorch eager on the same inputs.

    diff = max_{i, j} | onnx(x)_{ij} - module(x)_{ij} |, the module in eval mode, no grad
    (its mode is restored afterwards).

    Args:
        module: What was exported.
        onnx_path: The exported model.
        inputs: One tensor per model input, each Shape: (B, ...); any batch size.
        tolerance: Largest difference accepted.

    Returns:
        The difference (a float >= 0).

    Raises:
        UserError: the difference exceeds `tolerance` or the outputs' shapes differ (the
            message names the file, the output, the shapes or the difference).
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    encoder = OnnxEncoder(onnx_path)
    output = encoder.output_name
    got = encoder(*inputs)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            expected = module(*inputs).detach().float().cpu().numpy()
    finally:
        module.train(was_training)
    if got.shape != expected.shape:
        raise UserError(
            f"{onnx_path}: output {output!r} has shape {got.shape}, PyTorch gives {expected.shape}"
        )
    diff = float(np.abs(got.astype(np.float64) - expected.astype(np.float64)).max(initial=0.0))
    if not diff <= tolerance:  # also catches NaN
        raise UserError(
            f"{onnx_path}: output {output!r} differs from PyTorch by {diff:.3g} (max abs) at "
            f"batch {expected.shape[0]}; tolerance {tolerance:g}"
        )
    return diff
