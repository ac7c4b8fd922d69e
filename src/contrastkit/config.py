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
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union

import numpy as np
import yaml
from pydantic import BaseModel, Discriminator, Field, Tag, ValidationError

from contrastkit.audio.options import AudioConfig
from contrastkit.augment.options import AugmentConfig
from contrastkit.encoders.options import ModelConfig
from contrastkit.errors import UserError
from contrastkit.eval.options import MIN_BUDGET_S, EvalConfig
from contrastkit.methods.base import MethodOptions
from contrastkit.methods.registry import DEFAULT_METHOD, METHODS, method_spec
from contrastkit.modalities.base import Fitted, Settings
from contrastkit.modalities.options import DataConfig, TextConfig
from contrastkit.modalities.registry import modality_class
from contrastkit.options import Strict
from contrastkit.train.options import HealthConfig, TrainConfig
from contrastkit.yaml_input import read_yaml_mapping

_Strict = Strict

METHOD_CONFIGS: dict[str, type[MethodOptions]] = {
    name: spec.options for name, spec in METHODS.items()
}
"""Method name -> its config section (from the registry); `method.name` selects one."""


def _method_name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name", DEFAULT_METHOD))
    return str(getattr(value, "name", DEFAULT_METHOD))


if TYPE_CHECKING:
    MethodConfig = MethodOptions
else:
    MethodConfig = Annotated[
        Union[tuple(Annotated[section, Tag(name)] for name, section in METHOD_CONFIGS.items())],  # noqa: UP007
        Discriminator(_method_name),
    ]
"""The method section: one config class per registered method, chosen by `name`."""


class Config(_Strict):
    """The whole run: everything a run needs, saved as `config.yaml` in the run directory."""

    seed: int = Field(0, ge=0, lt=2**32)
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    method: MethodConfig = Field(default_factory=METHOD_CONFIGS[DEFAULT_METHOD])
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
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
            try:
                section = method_spec(_method_name(value)).options
            except UserError as err:
                raise UserError(f"{where}: {err}") from None
            _check_keys(value, section, where, prefix=f"{dotted}.")
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _check_keys(value, annotation, where, prefix=f"{dotted}.")


def _format_validation_error(err: ValidationError, where: str) -> str:
    first = err.errors()[0]
    loc = list(first["loc"])
    if loc[:1] == ["method"] and len(loc) > 1 and loc[1] in METHOD_CONFIGS:
        del loc[1]  # the tag of the method section, not a key
    key = ".".join(str(part) for part in loc)
    return f"{where}: {key}: {first['msg']} (got {first.get('input')!r})"


def set_key(raw: dict[str, Any], dotted: str, value: Any, where: str) -> None:
    """Set the dotted key `dotted` of a raw config mapping to `value`, making the sections
    on the way; `where` names the setting in error messages (`config_from_dict` then checks
    the key and the value).

    Raises:
        UserError: an empty key part, or a part on the way that holds a value, not a section.
    """
    parts = dotted.strip().split(".")
    if not all(parts):
        raise UserError(f"{where}: empty key part in {dotted!r}")
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise UserError(f"{where}: '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def _apply_override(raw: dict[str, Any], override: str) -> None:
    if "=" not in override:
        raise UserError(f"--set {override!r}: expected KEY=VALUE, e.g. train.epochs=50")
    dotted, _, text = override.partition("=")
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as err:
        reason = " ".join(str(getattr(err, "problem", None) or "nested too deeply").split())
        raise UserError(f"--set {override!r}: the value is not valid YAML ({reason})") from None
    set_key(raw, dotted, value, f"--set {override!r}")


Note = Callable[[str], None]
"""Where a note about a config goes (a line to the person running the command)."""


def _note_to_stderr(message: str) -> None:
    print(message, file=sys.stderr)


_PAIRS_KEYS: dict[str, dict[str, str | None]] = {
    name: {
        "embed_dim": "embed_dim",
        "text_width": "text_width",
        "text_max_len": "text_max_len",
        "text_alphabet": "text_alphabet",
        "gather": "gather",
        "similarity_pairs": "similarity_pairs",
        "init_temperature": "init_temperature" if name == "clip" else None,
        "siglip_init_scale": "init_scale" if name == "siglip" else None,
        "siglip_init_bias": "init_bias" if name == "siglip" else None,
    }
    for name in ("clip", "siglip")
}
"""Keys of the `pairs:` section of configs written before CLIP and SigLIP had their own
sections -> the method key each is read into (None: the other method's, no effect)."""


def _fold_pairs(raw: dict[str, Any], where: str, note: Note) -> None:
    """Read a `pairs:` section into CLIP's or SigLIP's `method:` section, with a note; for
    any other method it had no effect and is dropped."""
    pairs = raw.pop("pairs")
    method = raw.setdefault("method", {})
    name = _method_name(method)
    if name not in _PAIRS_KEYS or not isinstance(method, dict):
        return
    if not isinstance(pairs, dict):
        raise UserError(f"{where}: pairs: expected a section of keys")
    moved = []
    for key, value in pairs.items():
        if key not in _PAIRS_KEYS[name]:
            raise UserError(
                f"{where}: unknown key 'pairs.{key}' (valid: {', '.join(_PAIRS_KEYS[name])})"
            )
        target = _PAIRS_KEYS[name][key]
        if target is not None and target not in method:
            method[target] = value
            moved.append(f"method.{target}")
    note(
        f"note: {where}: the pairs: section is read as {name}'s own keys "
        f"({', '.join(moved) or 'none set'}), which belong under method:"
    )


def config_from_dict(
    raw: dict[str, Any], where: str = "config", note: Note = _note_to_stderr
) -> Config:
    """Validate a nested dict into a `Config`; `where` names the source in error messages
    and `note` receives a line when an older layout is read (a `pairs:` section)."""
    if "pairs" in raw:
        _fold_pairs(raw, where, note)
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
    """The option sections a modality reads (it never sees the whole config): each field of
    `Settings` is the config's section of that name."""
    return Settings(**{f.name: getattr(cfg, f.name) for f in fields(Settings)})


def load_config(
    path: str | Path | None, overrides: list[str] | None = None, note: Note = _note_to_stderr
) -> Config:
    """Load a YAML config (or the defaults when `path` is None) and apply `--set` overrides;
    `note` receives a line when the file has an older layout.

    Raises:
        UserError: the file is missing or not YAML, a key is unknown, a value has the
            wrong type.
    """
    raw, where = raw_config(path, overrides)
    return config_from_dict(raw, where, note)


def raw_config(
    path: str | Path | None, overrides: list[str] | None = None
) -> tuple[dict[str, Any], str]:
    """The mapping of a YAML config (empty for the defaults) with `--set` overrides applied,
    not yet validated, and the name of its source for error messages (what `load_config`
    hands to `config_from_dict`).

    Raises:
        UserError: the file is missing or not YAML, an override is malformed.
    """
    raw: dict[str, Any] = {}
    where = "defaults"
    if path is not None:
        path = Path(path)
        where = str(path)
        if not path.is_file():
            raise UserError(f"config file not found: {path}")
        raw = read_yaml_mapping(path)
    for override in overrides or []:
        _apply_override(raw, override)
    if overrides:
        where = f"{where} (with --set)"
    return raw, where


def dump_config(cfg: Config) -> str:
    """The resolved config as YAML text (what `config.yaml` in a run directory holds)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)


def with_eval_overrides(cfg: Config, overrides: list[str], where: str) -> Config:
    """`cfg` with `--set eval.KEY=VALUE` overrides applied (`eval` and `train --resume`:
    only the evaluation may change after training).

    Raises:
        UserError: an override names a key outside `eval.`, or a bad value.
    """
    raw = cfg.model_dump(mode="json")
    for override in overrides:
        if not override.strip().startswith("eval."):
            raise UserError(
                f"--set {override!r}: only eval.* keys can be set for a trained run "
                "(e.g. --set eval.full=true); train again for the others"
            )
        _apply_override(raw, override)
    return config_from_dict(raw, f"{where} (with --set)")


def updated(cfg: Config, section: str, **values: Any) -> Config:
    """A copy of `cfg` with `values` in `section` (the sections not named are shared)."""
    return cfg.model_copy(update={section: getattr(cfg, section).model_copy(update=values)})


def eval_budget_s(cfg: Config, train_time_s: float | None) -> float | None:
    """The seconds the supervised baseline may take: `eval.budget_s` when set, else about
    the training time (at least `MIN_BUDGET_S`); None (no limit) without either. `eval.full`
    ignores the budget."""
    if cfg.eval.budget_s is not None or train_time_s is None:
        return cfg.eval.budget_s
    return max(float(train_time_s), MIN_BUDGET_S)


def fit_defaults(cfg: Config, fitted: list[Fitted]) -> tuple[Config, list[str]]:
    """`cfg` with the settings a modality chose from its data, and one line per choice
    applied. A recipe choice (`Fitted.recipe`) applies only when the config names no
    method, to each of its keys the config does not set; any other choice applies whole,
    when the config sets none of its keys."""
    sections: dict[str, Any] = {}
    lines = []
    named_method = bool(cfg.method.model_fields_set)
    for choice in fitted:
        section = sections.get(choice.section, getattr(cfg, choice.section))
        user_set = section.model_fields_set
        if choice.recipe:
            values = (
                {}
                if named_method
                else {k: v for k, v in choice.values.items() if k not in user_set}
            )
        else:
            values = {} if choice.values.keys() & user_set else choice.values
        if not values:
            continue
        if choice.section == "method":  # the recipe's method replaces the default one
            sections["method"] = METHOD_CONFIGS[values["name"]].model_validate(values)
        else:  # set: the user's keys and the chosen ones (fit_to_data leaves both alone)
            kept = section.model_dump(exclude_unset=True)
            sections[choice.section] = type(section).model_validate({**kept, **values})
        chosen = ", ".join(f"{choice.section}.{key}={value}" for key, value in values.items())
        lines.append(f"chose {chosen} for {choice.reason}; set it to override")
    return cfg.model_copy(update=sections), lines


def fit_to_data(cfg: Config, n: int) -> tuple[Config, list[str]]:
    """`cfg` with the size-dependent training settings the user did not set chosen for `n`
    training items, and one line per choice ("chose train.batch_size=64 for 300 items; set
    it to override") or warning for a set value that does not fit.

    - batch size: at most a quarter of the data (4 or more steps per epoch), a power of two
      >= 2, when `train.batch_size` is not set (a larger batch trains one step per epoch);
    - warm-up: a tenth of the epochs when it would span half the run or more and
      `train.warmup_epochs` is not set.
    """
    lines: list[str] = []
    train = cfg.train
    chosen = train.model_fields_set
    values: dict[str, int] = {}
    if "batch_size" not in chosen and train.batch_size > max(2, n // 4):
        values["batch_size"] = max(2, 2 ** int(np.log2(max(2, n // 4))))
        lines.append(
            f"chose train.batch_size={values['batch_size']} for {n} items (was "
            f"{train.batch_size}, {max(1, n // train.batch_size)} step(s) per epoch); set it "
            "to override"
        )
    elif train.batch_size > n // 2:
        lines.append(
            f"warning: train.batch_size={train.batch_size} for {n} items: "
            f"{max(1, n // train.batch_size)} step per epoch"
        )
    if train.warmup_epochs * 2 >= train.epochs and train.warmup_epochs > 0:
        if "warmup_epochs" not in chosen:
            values["warmup_epochs"] = train.epochs // 10
            lines.append(
                f"chose train.warmup_epochs={values['warmup_epochs']} for a run of "
                f"{train.epochs} epochs (was {train.warmup_epochs}); set it to override"
            )
        else:
            lines.append(
                f"warning: train.warmup_epochs={train.warmup_epochs} spans half or more of "
                f"the {train.epochs} epochs: the learning rate barely reaches train.lr"
            )
    return updated(cfg, "train", **values), lines
