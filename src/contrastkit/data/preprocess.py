"""The preprocessing an exported model expects, written beside it as `preprocess.json`
(a building block: each modality describes its inputs with it, `Modality.export_spec`).

One small typed record per kind of input; a consumer (another language, the REST
service) reads the record and prepares inputs the way training did:

- `ImagePreprocess` (kind "image"): uint8 NCHW images of a fixed size; the model scales
  them itself (x * scale, then (x - mean) / std per channel when mean/std are given).
- `TokenizerPreprocess` (kind "text"): a Hugging Face tokenizer saved in a sub-folder
  (`save_pretrained`), truncation to `max_length`, inputs `input_ids` and `attention_mask`.
- `CharPreprocess` (kind "chars"): the two-tower character tokenizer
  (`contrastkit.encoders.small_text.CharTokenizer`): lower-case, one id per character.
- `TablePreprocess` (kind "table"): per numeric column impute the median then
  (x - mean) / std; per categorical column the vocabulary (code i + 1 for the i-th entry,
  0 for missing or unseen values), as `contrastkit.data.table_split` fits them.
- `AudioPreprocess` (kind "audio"): the log-mel front end (`contrastkit.audio.mel`) and the
  standardisation with training statistics, as `contrastkit.data.speech_pairs` does it.

The file is `{"format": 1, "kind": ..., <fields>}`. The reader is strict: an unknown or
missing key, or a value of the wrong type, is a `UserError` naming the key.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from contrastkit.atomic import write_json_atomic
from contrastkit.data.table import RawTable
from contrastkit.errors import UserError

PREPROCESS_FILE = "preprocess.json"
FORMAT = 1

QueryKind = Literal["image", "text", "row"]
"""What a query to a model with this preprocessing is: an image file, a text, a table row
(`QUERY` of each record; None: no query from a request)."""


@dataclass(frozen=True)
class ImagePreprocess:
    """Images: Shape (B, channels, height, width) uint8 into the model named `input_name`.

    Attributes:
        height, width, channels: What every image is resized / converted to.
        scale: The model multiplies pixels by this (1/255: [0, 255] -> [0, 1]).
        mean, std: Per-channel normalisation after scaling, or None when none is done.
        input_name: The model input.
    """

    KIND: ClassVar[str] = "image"
    QUERY: ClassVar[QueryKind | None] = "image"
    height: int
    width: int
    channels: int
    dtype: Literal["uint8"] = "uint8"
    scale: float = 1.0 / 255.0
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    input_name: str = "images"

    def __post_init__(self) -> None:
        if min(self.height, self.width) < 1 or self.channels not in (1, 3):
            raise ValueError(
                f"need height, width >= 1 and channels 1 or 3, got "
                f"{self.height}x{self.width}x{self.channels}"
            )
        if (self.mean is None) != (self.std is None):
            raise ValueError("mean and std: give both or neither")
        if self.mean is not None and self.std is not None:
            if len(self.mean) != self.channels or len(self.std) != self.channels:
                raise ValueError(f"mean and std need {self.channels} values (one per channel)")
            if min(self.std) <= 0:
                raise ValueError(f"std must be > 0, got {self.std}")


@dataclass(frozen=True)
class TokenizerPreprocess:
    """Texts through a Hugging Face tokenizer saved in `tokenizer_dir` (relative to the
    export folder), truncated to `max_length` tokens, padded to the longest in a batch.

    Attributes:
        normalized: The model's output is L2-normalised already.
    """

    KIND: ClassVar[str] = "text"
    QUERY: ClassVar[QueryKind | None] = "text"
    tokenizer_dir: str
    max_length: int
    normalized: bool
    input_names: tuple[str, ...] = ("input_ids", "attention_mask")

    def __post_init__(self) -> None:
        if self.max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {self.max_length}")
        if Path(self.tokenizer_dir).is_absolute() or ".." in Path(self.tokenizer_dir).parts:
            raise ValueError(
                f"tokenizer_dir must be inside the export folder: {self.tokenizer_dir}"
            )


@dataclass(frozen=True)
class CharPreprocess:
    """Texts lower-cased, cut to `max_len` characters; id = 2 + position in `alphabet`,
    `unknown_id` for other characters, `pad_id` after the end (Shape: (B, max_len) int64)."""

    KIND: ClassVar[str] = "chars"
    QUERY: ClassVar[QueryKind | None] = "text"
    alphabet: str
    max_len: int
    pad_id: int = 0
    unknown_id: int = 1
    input_name: str = "ids"

    def __post_init__(self) -> None:
        if self.max_len < 1 or not self.alphabet:
            raise ValueError(f"need max_len >= 1 and an alphabet, got {self.max_len}")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Shape: N texts -> (N, max_len) int64, as `CharTokenizer.encode`."""
        index = {c: i + 2 for i, c in enumerate(self.alphabet)}
        ids = np.full((len(texts), self.max_len), self.pad_id, dtype=np.int64)
        for row, text in enumerate(texts):
            chars = [index.get(c, self.unknown_id) for c in text.lower()[: self.max_len]]
            ids[row, : len(chars)] = chars
        return ids


@dataclass(frozen=True)
class NumericColumn:
    """x -> (x if present else median - mean) / std."""

    name: str
    median: float
    mean: float
    std: float

    def __post_init__(self) -> None:
        if not self.std > 0:
            raise ValueError(f"column {self.name!r}: std must be > 0, got {self.std}")


@dataclass(frozen=True)
class CategoricalColumn:
    """value -> 1 + its index in `vocabulary`; missing or unseen -> 0."""

    name: str
    vocabulary: tuple[str, ...]


@dataclass(frozen=True)
class TablePreprocess:
    """Rows -> numeric (B, Dn) float32 and codes (B, Dc) int64, columns in this order."""

    KIND: ClassVar[str] = "table"
    QUERY: ClassVar[QueryKind | None] = "row"
    numeric: tuple[NumericColumn, ...]
    categorical: tuple[CategoricalColumn, ...]
    input_names: tuple[str, ...] = ("numeric", "codes")

    @property
    def column_names(self) -> list[str]:
        """Numeric then categorical column names, in tensor order."""
        return [c.name for c in self.numeric] + [c.name for c in self.categorical]

    def __post_init__(self) -> None:
        names = self.column_names
        if not names or len(set(names)) != len(names):
            raise ValueError(f"need at least one column and distinct names, got {names}")

    def encode(self, rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Rows (column name -> value; None or absent = missing) -> (numeric, codes).

        Raises:
            UserError: a row names a column the table does not have, or a numeric value is
                not a number (the message names row and column).
        """
        known = set(self.column_names)
        numeric = np.zeros((len(rows), len(self.numeric)), dtype=np.float32)
        codes = np.zeros((len(rows), len(self.categorical)), dtype=np.int64)
        index = [{v: i + 1 for i, v in enumerate(c.vocabulary)} for c in self.categorical]
        for r, row in enumerate(rows):
            unknown = sorted(set(row) - known)
            if unknown:
                raise UserError(f"row {r}: unknown column {unknown[0]!r} (known: {sorted(known)})")
            for j, col in enumerate(self.numeric):
                value = row.get(col.name)
                if value is not None and (isinstance(value, bool) or not _is_number(value)):
                    raise UserError(
                        f"row {r}, column {col.name!r}: expected a number, got {value!r}"
                    )
                x = col.median if value is None or np.isnan(float(value)) else float(value)
                numeric[r, j] = (x - col.mean) / col.std
            for j, cat in enumerate(self.categorical):
                value = row.get(cat.name)
                codes[r, j] = 0 if value is None else index[j].get(str(value), 0)
        return numeric, codes


def fit_table_preprocess(raw: RawTable, train: np.ndarray) -> TablePreprocess:
    """The statistics `contrastkit.data.table_split.preprocess` fits on the training rows.

    Numeric: median of the training values (of all values when none is present in
    training), then mean and std of the imputed training values (std 0 -> 1).
    Categorical: the sorted categories seen in training.

    Args:
        raw: The table as read.
        train: Shape: (N,) bool, the training rows.
    """
    numeric = []
    for name, values in raw.numeric.items():
        fit = values[train]
        median = float(np.nanmedian(fit) if not np.isnan(fit).all() else np.nanmedian(values))
        filled = np.where(np.isnan(values), median, values)[train]
        std = float(filled.std())
        numeric.append(NumericColumn(name, median, float(filled.mean()), std if std > 0 else 1.0))
    categorical = [
        CategoricalColumn(name, tuple(sorted({str(v) for v in values[train] if v is not None})))
        for name, values in raw.categorical.items()
    ]
    return TablePreprocess(numeric=tuple(numeric), categorical=tuple(categorical))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating)


@dataclass(frozen=True)
class AudioPreprocess:
    """Waveform (mono, `sample_rate`) -> trim silence (samples quieter than
    `trim_threshold` x peak at both ends) -> centre / pad to `clip_seconds` -> log-mel
    (Hann window of `n_fft`, hop `hop_length`, centred reflect-padded frames, HTK mel
    filters over [f_min, f_max], log(eps + power)) -> (x - mean) / std ->
    Shape: (B, 1, n_mels, frames) float32."""

    KIND: ClassVar[str] = "audio"
    QUERY: ClassVar[QueryKind | None] = None  # a service takes no audio queries yet
    sample_rate: int
    clip_seconds: float
    n_fft: int
    hop_length: int
    n_mels: int
    mean: float
    std: float
    f_min: float = 0.0
    f_max: float | None = None
    eps: float = 1e-6
    trim_threshold: float = 0.02
    input_name: str = "logmel"

    def __post_init__(self) -> None:
        if min(self.sample_rate, self.n_fft, self.hop_length, self.n_mels) < 1:
            raise ValueError("sample_rate, n_fft, hop_length, n_mels must be >= 1")
        if not (self.clip_seconds > 0 and self.std > 0 and self.eps > 0):
            raise ValueError("clip_seconds, std and eps must be > 0")


Preprocess = (
    ImagePreprocess | TokenizerPreprocess | CharPreprocess | TablePreprocess | AudioPreprocess
)
KINDS: dict[str, type[Any]] = {cls.KIND: cls for cls in typing.get_args(Preprocess)}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def to_json(spec: Preprocess) -> dict[str, Any]:
    """The record as plain JSON types: `{"format": 1, "kind": ..., <fields>}`."""
    return {"format": FORMAT, "kind": spec.KIND, **_plain(spec)}


def _convert(value: Any, tp: Any, key: str) -> Any:
    """`value` checked against the annotation `tp` (JSON lists become tuples)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(value, inner, key)
    if origin is Literal:
        if value not in args:
            raise UserError(f"{key}: expected one of {list(args)}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise UserError(f"{key}: expected a list, got {type(value).__name__} {value!r}")
        return tuple(_convert(v, args[0], f"{key}[{i}]") for i, v in enumerate(value))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _record(value, tp, key)
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
        str: isinstance(value, str),
    }.get(tp)
    if ok is None:
        raise TypeError(f"no reader for {tp}")
    if not ok:
        raise UserError(f"{key}: expected {tp.__name__}, got {type(value).__name__} {value!r}")
    return float(value) if tp is float else value


def _record(obj: Any, cls: type[Any], where: str) -> Any:
    if not isinstance(obj, dict):
        raise UserError(f"{where}: expected an object, got {type(obj).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    prefix = f"{where}." if where else ""
    unknown = sorted(set(obj) - set(fields))
    if unknown:
        raise UserError(f"unknown key {prefix}{unknown[0]!r} (expected: {', '.join(fields)})")
    values = {}
    for name, field in fields.items():
        if name not in obj:
            required = (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            )
            if required:
                raise UserError(f"missing key {prefix}{name!r}")
            continue
        values[name] = _convert(obj[name], hints[name], f"{prefix}{name}")
    try:
        return cls(**values)
    except ValueError as err:
        raise UserError(f"{where or cls.KIND}: {err}") from None


def from_json(obj: Any) -> Preprocess:
    """The record `to_json` wrote.

    Raises:
        UserError: not an object, another format, an unknown kind, or an unknown / missing
            key or wrongly typed value (the message names the key).
    """
    if not isinstance(obj, dict):
        raise UserError(f"expected a JSON object, got {type(obj).__name__}")
    body = dict(obj)
    if body.pop("format", None) != FORMAT:
        raise UserError(f"format: expected {FORMAT}, got {obj.get('format')!r}")
    kind = body.pop("kind", None)
    if kind not in KINDS:
        raise UserError(f"kind: expected one of {sorted(KINDS)}, got {kind!r}")
    spec: Preprocess = _record(body, KINDS[kind], "")
    return spec


def write_preprocess(folder: str | Path, spec: Preprocess) -> Path:
    """Write `folder/preprocess.json` atomically; returns its path."""
    path = Path(folder) / PREPROCESS_FILE
    write_json_atomic(path, to_json(spec))
    return path


def read_preprocess(path: str | Path) -> Preprocess:
    """Read a `preprocess.json` (or the one in a folder), strictly.

    Raises:
        UserError: missing file, bad JSON, or a bad record (the message names the file and
            the key).
    """
    path = Path(path)
    if path.is_dir():
        path = path / PREPROCESS_FILE
    if not path.is_file():
        raise UserError(f"{path} not found: not an exported model folder?")
    try:
        obj = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not valid JSON ({err})") from None
    try:
        return from_json(obj)
    except UserError as err:
        raise UserError(f"{path}: {err}") from None
