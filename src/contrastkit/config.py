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
from pydantic import BaseModel, Discriminator, Field, Tag, ValidationError

from contrastkit.audio.options import AudioConfig
from contrastkit.augment.options import AugmentConfig
from contrastkit.encoders.options import ModelConfig
from contrastkit.errors import UserError
from contrastkit.eval.options import EvalConfig
from contrastkit.modalities.base import Settings
from contrastkit.modalities.options import DataConfig, PairsConfig, TextConfig
from contrastkit.modalities.registry import modality_class
from contrastkit.options import Strict
from contrastkit.train.options import HealthConfig, TrainConfig

_Strict = Strict


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
        cfg = Config.model_validate(raw)
    except ValidationError as err:
        raise UserError(_format_validation_error(err, where)) from None
    try:
        modality_class(cfg.data.source)
    except UserError as err:
        raise UserError(f"{where}: {err}") from None
    return cfg


def settings_of(cfg: Config) -> Settings:
    """The option sections a modality reads (it never sees the whole config)."""
    return Settings(
        seed=cfg.seed,
        data=cfg.data,
        model=cfg.model,
        augment=cfg.augment,
        eval=cfg.eval,
        pairs=cfg.pairs,
        audio=cfg.audio,
        text=cfg.text,
    )


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
