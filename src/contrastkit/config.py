"""One typed configuration, loaded from YAML, with strict keys and defaults in one place.

Example:
    >>> cfg = load_config("configs/digits_simclr.yaml", overrides=["train.epochs=50"])
    >>> cfg.train.epochs
    50

Unknown keys are rejected with the nearest valid key suggested; values are type-checked
by pydantic and errors name the dotted key. The resolved config is what a run saves.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contrastkit.errors import UserError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Strict):
    """Where the training data comes from and how it is split."""

    source: Literal[
        "digits",
        "digits_captions",
        "caption_csv",
        "speech",
        "breast_cancer",
        "wine",
        "iris",
        "digits_table",
        "csv",
        "parquet",
    ] = "digits"
    path: str | None = None
    skip_bad: bool = False
    image_size: int = Field(32, ge=4)
    test_fraction: float = Field(0.3, gt=0.0, lt=1.0)
    split_seed: int = 0
    label: str | None = None
    """Tables (csv, parquet): the label column, used only for evaluation."""
    categorical_columns: list[str] = Field(default_factory=list)
    """Tables: columns to treat as categorical even when every value is a number."""


class ModelConfig(_Strict):
    """Encoder and projection head sizes."""

    encoder: Literal["small_cnn", "audio_cnn", "mlp"] = "small_cnn"
    width: int = Field(32, ge=4)
    """small_cnn: channels of the first block; mlp: width of every hidden layer."""
    depth: int = Field(3, ge=1)
    """mlp: number of hidden Linear-BatchNorm-ReLU layers."""
    cat_embed_dim: int = Field(8, ge=1)
    """mlp: embedding size of each categorical column."""
    feature_dim: int = Field(128, ge=2)
    proj_hidden_dim: int = Field(256, ge=2)
    proj_dim: int = Field(64, ge=2)


class AugmentConfig(_Strict):
    """Per-sample random views: images (see `contrastkit.augment.image`) and table rows
    (`corruption`, `corruption_rate`; see `contrastkit.augment.tabular`)."""

    crop_scale: tuple[float, float] = (0.5, 1.0)
    crop_ratio: tuple[float, float] = (0.75, 1.3333)
    rotation_deg: float = Field(15.0, ge=0.0, le=180.0)
    blur_prob: float = Field(0.5, ge=0.0, le=1.0)
    blur_sigma: tuple[float, float] = (0.1, 1.0)
    noise_std: float = Field(0.1, ge=0.0)
    hflip_prob: float = Field(0.0, ge=0.0, le=1.0)
    corruption: Literal["scarf", "vime"] = "scarf"
    corruption_rate: float = Field(0.6, gt=0.0, lt=1.0)


class MethodConfig(_Strict):
    """The self-supervised method and its loss hyperparameters."""

    name: Literal["simclr", "clip", "siglip", "scarf"] = "simclr"
    temperature: float = Field(0.2, gt=0.0)


class TrainConfig(_Strict):
    """The training loop."""

    epochs: int = Field(200, ge=1)
    batch_size: int = Field(256, ge=2)
    optimizer: Literal["adamw", "sgd"] = "adamw"
    lr: float = Field(2e-3, gt=0.0)
    weight_decay: float = Field(1e-4, ge=0.0)
    warmup_epochs: int = Field(10, ge=0)
    grad_clip: float | None = Field(None, gt=0.0)
    amp: bool = False
    device: str = "auto"
    log_every: int = Field(10, ge=1)


class EvalConfig(_Strict):
    """Evaluation protocol; the same splits and draws serve the baselines."""

    knn_k: int = Field(20, ge=1)
    knn_temperature: float = Field(0.07, gt=0.0)
    fewshot_labels_per_class: int = Field(10, ge=1)
    fewshot_draws: int = Field(5, ge=1)
    supervised_steps: int = Field(500, ge=1)
    baselines: bool = True
    tabular_budgets: list[int] = Field(default_factory=lambda: [2, 5, 10, 25])
    """Tables: labels per class of each few-label probe in the `tabular` metrics block."""


class PairsConfig(_Strict):
    """Two-tower training on (image or audio, text) pairs (CLIP, SigLIP; `methods/clip.py`).

    `init_temperature` is CLIP's (scale = 1 / temperature, learned, capped at 100);
    `siglip_init_scale` / `siglip_init_bias` are SigLIP's learned logit scale and bias.
    """

    embed_dim: int = Field(64, ge=2)
    text_width: int = Field(64, ge=4)
    text_max_len: int = Field(32, ge=4)
    init_temperature: float = Field(0.07, gt=0.0)
    siglip_init_scale: float = Field(10.0, gt=0.0)
    siglip_init_bias: float = -10.0
    gather: bool = False
    similarity_pairs: int = Field(16, ge=2)


class AudioConfig(_Strict):
    """Speech made with espeak-ng, its log-mel front end and SpecAugment views."""

    cache_dir: str = "build/speech"
    sample_rate: int = Field(16000, ge=1000)
    clip_seconds: float = Field(1.0, gt=0.0)
    n_mels: int = Field(64, ge=4)
    n_fft: int = Field(400, ge=16)
    hop_length: int = Field(160, ge=1)
    heldout_words: int = Field(16, ge=1)
    heldout_voices: int = Field(2, ge=1)
    time_masks: int = Field(2, ge=0)
    time_mask_width: int = Field(12, ge=0)
    freq_masks: int = Field(2, ge=0)
    freq_mask_width: int = Field(8, ge=0)


class Config(_Strict):
    """The whole run: everything a run needs, saved as `config.yaml` in the run directory."""

    seed: int = 0
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    method: MethodConfig = Field(default_factory=MethodConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    pairs: PairsConfig = Field(default_factory=PairsConfig)
    audio: AudioConfig = Field(default_factory=AudioConfig)


def _check_keys(raw: Any, model: type[BaseModel], where: str, prefix: str = "") -> None:
    """Reject unknown keys, naming the dotted key and the nearest valid one."""
    if not isinstance(raw, dict):
        return
    fields = model.model_fields
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.5)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else ""
            valid = ", ".join(fields)
            raise UserError(f"{where}: unknown key '{dotted}'{hint} (valid here: {valid})")
        annotation = fields[key].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _check_keys(value, annotation, where, prefix=f"{dotted}.")


def _format_validation_error(err: ValidationError, where: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    return f"{where}: {key}: {first['msg']} (got {first.get('input')!r})"


def _apply_override(raw: dict[str, Any], override: str) -> None:
    if "=" not in override:
        raise UserError(f"--set {override!r}: expected KEY=VALUE, e.g. train.epochs=50")
    dotted, _, text = override.partition("=")
    parts = dotted.strip().split(".")
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UserError(f"--set {override!r}: '{part}' is not a section")
        node = child
    node[parts[-1]] = yaml.safe_load(text)


def config_from_dict(raw: dict[str, Any], where: str = "config") -> Config:
    """Validate a nested dict into a `Config`; `where` names the source in error messages."""
    _check_keys(raw, Config, where)
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        raise UserError(_format_validation_error(err, where)) from None


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> Config:
    """Load a YAML config (or the defaults when `path` is None) and apply `--set` overrides.

    Raises:
        UserError: the file is missing or not YAML, a key is unknown, a value has the
            wrong type.
    """
    raw: dict[str, Any] = {}
    where = "defaults"
    if path is not None:
        path = Path(path)
        where = str(path)
        if not path.is_file():
            raise UserError(f"config file not found: {path}")
        try:
            loaded = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = f" line {mark.line + 1}" if mark is not None else ""
            raise UserError(f"{path}:{line} is not valid YAML: {err}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise UserError(f"{path}: expected a mapping of sections at the top level")
        raw = loaded or {}
    for override in overrides or []:
        _apply_override(raw, override)
        where = f"{where} (with --set)"
    return config_from_dict(raw, where)


def dump_config(cfg: Config) -> str:
    """The resolved config as YAML text (what `config.yaml` in a run directory holds)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
