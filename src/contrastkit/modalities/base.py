"""The modality contract: what a run needs from one kind of data.

A modality (images, tables, text, paired data) is resolved once from `data.source`
(`modalities/registry.py`); nothing outside `modalities/` branches on it. It reads its
sources and splits them, makes a new encoder sized for the data, hands the loop a torch
`Dataset` of training items (decoded by the loader's workers) with the batched views the
method makes on the training device, evaluates a trained method, and embeds data with ids.

Lifecycle, as the application drives it (`run.py: settle`, then `_train`):

    modality = modality_for(settings)          # reads nothing yet
    cfg, lines = fit_defaults(cfg, modality.fitted_defaults())  # a new, settled config
    modality = modality.with_settings(settings_of(cfg))  # the data read so far is kept
    modality.check(spec)                       # the method fits the data (UserError)
    training = modality.training(spec, log)    # Dataset + collate + views + probe
    cfg, lines = fit_to_data(cfg, len(training.items))  # batch size for the data
    method = build_method(cfg, modality.new_encoder)
    fit(method, training.items, ...)
    metrics |= modality.evaluate(method, run_dir, log, budget_s=...)
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from torch import Tensor, nn
from torch.utils.data import Dataset

from contrastkit.audio.options import AudioConfig
from contrastkit.augment.options import AugmentConfig
from contrastkit.augment.types import Augment
from contrastkit.data.preprocess import Preprocess
from contrastkit.data.split import ImageSplit
from contrastkit.encoders.options import ModelConfig
from contrastkit.errors import UserError
from contrastkit.eval.options import EvalConfig
from contrastkit.methods.base import MethodOptions
from contrastkit.methods.registry import MethodSpec, methods_for
from contrastkit.modalities.metrics_table import MetricsTable
from contrastkit.modalities.options import DataConfig, TextConfig
from contrastkit.modalities.pictures import Pictures
from contrastkit.modalities.recommendations import Recommendations

Log = Callable[[str], None]
"""Where progress lines go (`print`, a rich console)."""


@dataclass(frozen=True)
class Settings:
    """The option sections a modality reads (the application builds this from its config;
    the modality never sees the whole config). `method` is the method's own section (the
    paired modality reads the text length of CLIP's and SigLIP's)."""

    seed: int
    data: DataConfig
    model: ModelConfig
    augment: AugmentConfig
    eval: EvalConfig
    method: MethodOptions
    audio: AudioConfig
    text: TextConfig


Section = Literal["data", "model", "augment", "method", "train", "eval", "text"]
"""A config section a modality may choose defaults in."""


@dataclass(frozen=True)
class Fitted:
    """Default settings chosen from the data.

    Attributes:
        section: The config section ("augment", "model", ...).
        values: Key -> value within the section.
        reason: What in the data asked for them ("colour images").
        recipe: Part of the recipe for this kind of data (method, encoder, views, schedule):
            applied only when the config names no method, each key the config does not set.
            Other choices apply whole, when the config sets none of their keys.
    """

    section: Section
    values: dict[str, Any]
    reason: str
    recipe: bool = False


@dataclass(frozen=True)
class HealthProbe:
    """What the training-health monitor measures: a split whose training images it embeds
    (and, when labelled, uses for online kNN) and the views for its alignment measure."""

    split: ImageSplit
    augment: Augment


@dataclass(frozen=True)
class Training:
    """What the loop trains on, whatever the modality.

    Attributes:
        items: Map-style dataset of training items (tuples in the batch type's field order,
            or batches through `__getitems__`).
        views: The random views the method makes on the training device.
        name: What the data is called in `metrics.json`.
        collate: Turns a list of items into the method's typed batch; None for in-memory
            data (`TensorItems` hands out whole batches itself).
        lines: What to log before training (sizes, notes).
        per_sample: Extra throughput keys: metric name -> items per training sample.
        probe: The health monitor's probe (None: no monitor).
    """

    items: Dataset[Any]
    views: Augment
    name: str
    collate: Callable[[Sequence[Any]], Any] | None = None
    lines: list[str] = field(default_factory=list)
    per_sample: dict[str, int] = field(default_factory=dict)
    probe: HealthProbe | None = None


@dataclass(frozen=True)
class Embedded:
    """Embeddings with the id of each row, so they join back to the data without guessing.

    Attributes:
        vectors: Shape: (N, D), float32 on the CPU.
        ids: N ids: a file path, a row number, a line number.
        name: What was embedded.
        notes: What the reader changed or skipped.
        info: What a search index must keep to read a query the same way (e.g. the image
            size), JSON-serialisable.
        thumbnails: A small JPEG per row (video frames), or None.
        shown: What a person reads for each row beside its id (the sentence of a line, a
            table row's leading columns), or None when the id says it all (a file name).
    """

    vectors: Tensor
    ids: list[str]
    name: str
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    thumbnails: list[bytes] | None = None
    shown: list[str] | None = None

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.ids):
            raise ValueError(
                f"{len(self.ids)} ids for vectors of shape {tuple(self.vectors.shape)}"
            )
        for what, rows in (("thumbnails", self.thumbnails), ("shown texts", self.shown)):
            if rows is not None and len(rows) != len(self.ids):
                raise ValueError(f"{len(rows)} {what} for {len(self.ids)} ids")


@dataclass(frozen=True)
class EmbedOptions:
    """How `embed` reads new data, beyond the path.

    Attributes:
        side: Paired runs: "inputs" (images or clips, the default) or "texts" (a file of
            lines), both in the shared space.
        id_column: Tables: the column whose values are the row ids (else `FILE:K`).
        fps: Videos (image and image-text runs): frames sampled per second.
        skip_bad: Leave unreadable files (videos) out and say how many.
    """

    side: str = "inputs"
    id_column: str | None = None
    fps: float = 1.0
    skip_bad: bool = False

    def __post_init__(self) -> None:
        if self.side not in ("inputs", "texts"):
            raise UserError(f"--side must be 'inputs' or 'texts', got {self.side!r}")
        if not 0 < self.fps < float("inf"):
            raise UserError(f"--fps must be a positive number of frames per second, got {self.fps}")


@dataclass(frozen=True)
class EmbeddingViews:
    """Test-set embeddings for the report's maps and neighbour grids.

    Attributes:
        trained: Shape: (N, D), the trained encoder's embeddings.
        random_init: Shape: (N, D) or None, the same architecture freshly initialised
            with the run's seed (the "before" picture).
        labels: Shape: (N,) class indices, or None for unlabeled data.
        class_names: Name per class index.
        images: Shape: (N, C, H, W) uint8, or None when the items are not images.
    """

    trained: np.ndarray
    random_init: np.ndarray | None
    labels: np.ndarray | None
    class_names: list[str]
    images: np.ndarray | None


@dataclass(frozen=True)
class Example:
    """One query of the report's examples, with its nearest items as text.

    Attributes:
        query: The query as a person reads it (a sentence, a row's id and columns).
        hits: The nearest items, best first: (text, right answer?), None when unknown.
        base: The same query's hits by the base model, or None when there is none.
    """

    query: str
    hits: list[tuple[str, bool | None]]
    base: list[tuple[str, bool | None]] | None = None


@dataclass(frozen=True)
class Examples:
    """Queries and their nearest items as text, for items that are no pictures.

    Attributes:
        title: The section's title.
        caption: What the rows show and how right answers are known.
        rows: One example per query.
    """

    title: str
    caption: str
    rows: list[Example]


@dataclass(frozen=True)
class SentenceTransformerExport:
    """A Hugging Face text encoder that the export also writes as a folder
    `sentence_transformers.SentenceTransformer(path)` loads.

    Attributes:
        encoder: A `contrastkit.encoders.text.TextEncoder`.
        max_length: Tokens kept per text (the tokenizer is the tower's).
    """

    encoder: nn.Module
    max_length: int


@dataclass(frozen=True)
class ExportTower:
    """One model of an export, as plain data and modules (no export code here).

    Attributes:
        folder: Sub-folder of the export ('' for a one-tower run; 'inputs', 'texts').
        module: The model as it is exported and served: a traceable module
            (`contrastkit.encoders.traceable` wraps ours) from `example_inputs` to
            embeddings, Shape: (B, D).
        example_inputs: A batch of the run's data as the model takes it, one tensor per
            input, each Shape: (B, ...) with B >= 2.
        input_names: The ONNX input names, in order.
        preprocess: How raw data becomes `example_inputs` (written as preprocess.json).
        dynamic_axes: Free axes beyond the batch, per input name.
        tokenizer: A Hugging Face tokenizer saved beside the model (text), else None.
        sentence_transformer: Also write a sentence-transformers folder (text), or None.
    """

    folder: str
    module: nn.Module
    example_inputs: tuple[Tensor, ...]
    input_names: tuple[str, ...]
    preprocess: Preprocess
    dynamic_axes: dict[str, dict[int, str]] = field(default_factory=dict)
    tokenizer: Any = None
    sentence_transformer: SentenceTransformerExport | None = None

    def __post_init__(self) -> None:
        if len(self.example_inputs) != len(self.input_names):
            raise ValueError(
                f"{len(self.example_inputs)} example inputs for names {self.input_names}"
            )


@dataclass(frozen=True)
class QualityTask:
    """A nearest-neighbour task that measures what a change of the model (int8) costs:
    top-1 = mean over queries of `relevant[i, argmax_j cos(q_i, c_j)]`.

    Attributes:
        metric: 'knn_top1' (test rows against labelled training rows) or 'recall_at_1'.
        query_tower, candidate_tower: The `ExportTower.folder` that embeds each side.
        queries, candidates: Model inputs of each side, one tensor per input.
        relevant: Shape: (Q, C) bool, candidate j is a right answer for query i.
    """

    metric: Literal["knn_top1", "recall_at_1"]
    query_tower: str
    queries: tuple[Tensor, ...]
    candidate_tower: str
    candidates: tuple[Tensor, ...]
    relevant: np.ndarray

    def __post_init__(self) -> None:
        shape = (int(self.queries[0].shape[0]), int(self.candidates[0].shape[0]))
        if self.relevant.shape != shape:
            raise ValueError(f"relevant has shape {self.relevant.shape}, expected {shape}")


@dataclass(frozen=True)
class ExportSpec:
    """What `contrastkit export` writes for a run: its towers and a quality task.

    Attributes:
        towers: One model per tower.
        quality: The task the int8 cost is measured on, or None (and why in `note`).
        note: Why there is no quality task.
    """

    towers: tuple[ExportTower, ...]
    quality: QualityTask | None = None
    note: str = ""


@dataclass(frozen=True)
class ZeroShotScores:
    """Class probabilities of items over labels given as text (CLIP's zero-shot).

    Attributes:
        ids: One id per item.
        probabilities: Shape: (N, K), softmax over the K labels.
        truth: Shape: (N,) int64, the index of each item's true label, -1 when unknown.
    """

    ids: list[str]
    probabilities: Tensor
    truth: Tensor


def label_matches(query_labels: Tensor, candidate_labels: Tensor) -> np.ndarray:
    """Shape: (Q,), (C,) -> (Q, C) bool, equal labels."""
    return (query_labels.view(-1, 1) == candidate_labels.view(1, -1)).numpy()


READ_WITH = ("seed", "data", "method", "audio", "text")
"""The sections a modality's data (read once, then kept) depends on, with `EVAL_READ_WITH`."""
EVAL_READ_WITH = ("max_items", "classes")


class Modality(ABC):
    """One kind of data. Subclasses list their `sources` and implement the hooks below.

    Args:
        settings: The option sections of the run.
    """

    name: ClassVar[str]
    """Short name, e.g. 'images'."""
    suite_table: ClassVar[bool] = True
    """Whether the suite's comparison table (probes, retrieval, clustering against the
    baselines, `eval/table.py`) measures its runs; False for runs with their own table."""
    sources: ClassVar[tuple[str, ...]]
    """The `data.source` values this modality reads."""
    batch_types: ClassVar[tuple[type, ...]]
    """The typed batches its training items can form (a method trains on one of them)."""
    tables: ClassVar[tuple[MetricsTable, ...]] = ()
    """Tables of the `metrics.json` blocks of its own that `evaluate` writes (beyond the
    suite's `eval` block), shown by `train`, `eval` and the report."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def claims(cls, path: Path) -> str | None:
        """The `data.source` this modality reads `path` as (`train --data PATH`), or None
        when the path holds another kind of data. Reads at most the file's first lines."""
        return None

    def with_settings(self, settings: Settings) -> Modality:
        """This modality reading `settings`: with the data it has read so far when they
        differ only where the reading does not depend on them (augment, model, train, the
        evaluation's budget), as the image defaults fitted to the data do; a new one that
        reads the data again when they change how it is read (a recipe's method, a label
        column guessed from the file)."""
        now, then = settings, self.settings
        changed = any(getattr(now, k) != getattr(then, k) for k in READ_WITH) or any(
            getattr(now.eval, k) != getattr(then.eval, k) for k in EVAL_READ_WITH
        )
        if changed:
            return type(self)(settings)
        other = copy.copy(self)
        other.settings = settings
        return other

    def check(self, spec: MethodSpec) -> None:
        """Raise `UserError` when the method cannot train on this data (wrong batch type).
        Modalities add their own checks (encoder kind, labels) on top."""
        if spec.batch not in self.batch_types:
            fits = [name for batch in self.batch_types for name in methods_for(batch)]
            raise UserError(
                f"method.name: {spec.name!r} does not train on {self.name} "
                f"(data.source {self.settings.data.source!r}); methods for {self.name}: "
                f"{', '.join(fits)}"
            )

    def fitted_defaults(self) -> list[Fitted]:
        """Settings that suit this data better than the sections' defaults (which are the
        digits'); the application applies each when the config sets none of its keys."""
        return []

    @abstractmethod
    def new_encoder(self) -> nn.Module:
        """A freshly initialised encoder sized for this data (reads the data if needed)."""

    @abstractmethod
    def training(self, spec: MethodSpec, log: Log) -> Training:
        """Read the training split and make the loop's dataset and views for `spec`."""

    @abstractmethod
    def evaluate(
        self, method: nn.Module, run_dir: Path, log: Log, *, budget_s: float | None = None
    ) -> dict[str, Any]:
        """The metrics blocks of `metrics.json` for a trained method; `budget_s` is the
        time the costly extras (the image suite's supervised baseline) may take, None for no
        limit."""

    @abstractmethod
    def embed(
        self, method: nn.Module, data: str, log: Log, options: EmbedOptions = EmbedOptions()
    ) -> Embedded:
        """Embed `data` ('train' for the run's own data, or a path) with the method's
        encoder, preprocessed as in training."""

    def reference(self, method: nn.Module, log: Log) -> tuple[Tensor, Tensor]:
        """The run's training and held-out (test) embeddings, for anomaly scoring.
        Shape: (N_train, D), (N_test, D)."""
        raise UserError(f"anomaly: {self.name} runs have no reference embeddings")

    def query(self, method: nn.Module, query: str, info: dict[str, Any]) -> Tensor:
        """`query` (a file path or a text) embedded as the index's entries were, with the
        `info` the index kept. Shape: (1, D)."""
        raise UserError(f"search: {self.name} runs take no queries yet")

    def query_text(self, method: nn.Module, text: str, info: dict[str, Any]) -> Tensor:
        """A text query (`search --text`) embedded into the space of the index's entries.
        Shape: (1, D). Runs without a text tower say which runs can answer it."""
        raise UserError(
            f"search --text: {self.name} runs have no text tower; a text query "
            "needs an image-text run (method clip or siglip, e.g. configs/fashion_clip.yaml or "
            "configs/digits_text_siglip.yaml, or model.encoder hf with a CLIP folder) or a text "
            "run; search this run with --query"
        )

    def export_spec(self, method: nn.Module, *, max_items: int = 512) -> ExportSpec:
        """What to export for a trained `method`: the models with a batch of the run's
        data, their preprocessing, and a quality task of at most `max_items` per side."""
        raise UserError(f"export: {self.name} runs cannot be exported yet")

    def write_subset(self, n: int, seed: int, folder: Path) -> dict[str, Any]:
        """Write a seeded sample of `n` training items (the test items all kept) under
        `folder`, and return the `data` settings that read it (`contrastkit sweep --subset`).
        """
        raise UserError(f"--subset: {self.name} data cannot be subsampled yet")

    def pictures(self, ids: list[str]) -> Pictures | None:
        """The picture of each index row (ids as `embed` gave them), for thumbnails; None
        when the items are not pictures."""
        return None

    def report_views(self, method: nn.Module) -> tuple[EmbeddingViews | None, str]:
        """Test embeddings for the report's maps, or None and why there are none ('' when
        maps do not apply to this data: the report leaves their section out)."""
        return None, ""

    def report_examples(self, method: nn.Module) -> Examples | None:
        """Queries with their nearest items as text (sentences, table rows) for the report;
        None for items shown as pictures or when there is nothing to query."""
        return None

    def zero_shot(
        self, method: nn.Module, labels: list[str], data: str, templates: list[str], log: Log
    ) -> ZeroShotScores:
        """The inputs of `data` classified into `labels` by their prompts' text embedding
        (`contrastkit zero-shot`), for runs that embed inputs and texts in one space."""
        raise UserError(
            f"zero-shot: {self.name} runs have no text tower; it needs an image-text or "
            "audio-text run (CLIP / SigLIP)"
        )

    def recommendations(self, method: nn.Module) -> Recommendations | None:
        """A recommender run's users and items embedded (`contrastkit recommend`,
        `/recommend`); None for a run that does not recommend."""
        return None

    def item_vectors(self, method: nn.Module, path: Path, log: Log) -> tuple[list[str], np.ndarray]:
        """The items of an item-features file embedded (`recommend --item-features`), for
        a recommender whose items have features. Shape: (N, D) unit rows."""
        raise UserError(f"--item-features {path}: {self.name} runs do not embed new items")
