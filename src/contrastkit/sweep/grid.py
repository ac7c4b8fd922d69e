"""The grid of a sweep: `--grid KEY=[v1,v2,...]` options, their product, a seeded sample.

Each `--grid` names one config key (dotted, as `--set` takes it) and a YAML list of its
values, or several keys joined by commas that every value sets together
(`augment.brightness,augment.contrast=[0.4,0.8]`: one jitter strength). Two keys are
special: `augment` takes the augmentation-composition preset (`sweep/presets.py`) and
`config` a list of config files (one recipe per file, e.g. one per method). The points are
the product of the keys' values, the first key varying slowest; `--sample K` keeps K of
them, drawn with a seed (the first K of a seeded permutation, so a larger K keeps the
points a smaller one chose).

Example:
    >>> axes = parse_grid(["method.temperature=[0.1,0.5]", "augment=singles:crop,blur"])
    >>> [p.settings for p in expand(axes)][:2]
    [{'method.temperature': 0.1, 'augment': 'crop'}, {'method.temperature': 0.1, 'augment': 'blur'}]
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml

from contrastkit.errors import UserError
from contrastkit.sweep.presets import (
    PRESET_KEY,
    SWITCHES,
    augment_settings,
    composition_name,
    compositions,
)

CONFIG_KEY = "config"
"""The grid key whose values are config files (each point starts from one of them)."""


def label(value: Any) -> str:
    """How a grid value is shown: strings as they are, anything else as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class Axis:
    """One `--grid` option: its key and values, as given and as shown.

    `given` is the parsed value of the option (a list, or a preset name for `augment`);
    `values` are the points' values: config values, composition tuples for `augment`,
    file names for `config`.
    """

    key: str
    given: Any
    values: tuple[Any, ...]
    labels: tuple[str, ...]

    def overrides(self, i: int) -> dict[str, Any]:
        """The dotted config keys value `i` sets (none for `config`: it is the base)."""
        if self.key == CONFIG_KEY:
            return {}
        if self.key == PRESET_KEY:
            return {f"{PRESET_KEY}.{k}": v for k, v in augment_settings(self.values[i]).items()}
        return {key: self.values[i] for key in self.keys}

    @property
    def keys(self) -> list[str]:
        """The config keys the axis sets (several when joined by commas)."""
        return [key.strip() for key in self.key.split(",")]


@dataclass(frozen=True)
class Point:
    """One point of the grid: its index in the full product and its settings."""

    index: int
    choice: tuple[int, ...]
    """The index of its value on each axis."""
    settings: dict[str, Any]
    """Grid key -> the value shown (a composition name for `augment`, a file for `config`)."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Dotted config key -> value, what the point sets on top of its config."""
    config: str | None = None
    """Its config file when the grid varies `config`."""

    @property
    def id(self) -> str:
        """'p007': the name of its run directory."""
        return f"p{self.index:03d}"


def _parse_one(text: str) -> Axis:
    if "=" not in text:
        raise UserError(
            f"--grid {text!r}: expected KEY=[v1,v2,...], e.g. method.temperature=[0.1,0.2]"
        )
    key, _, values_text = text.partition("=")
    key, where = key.strip(), f"--grid {text.strip()}"
    if not all(part.strip() for part in key.split(",")):
        raise UserError(f"{where}: an empty key before '='")
    try:
        given = yaml.safe_load(values_text)
    except (yaml.YAMLError, RecursionError) as err:
        reason = " ".join(str(getattr(err, "problem", None) or "nested too deeply").split())
        raise UserError(f"{where}: the values are not valid YAML ({reason})") from None
    if key == PRESET_KEY:
        found = compositions(given, where)
        return Axis(key, given, tuple(found), tuple(composition_name(c) for c in found))
    if not isinstance(given, list):
        raise UserError(f"{where}: expected a list of values in brackets, e.g. {key}=[a,b]")
    if not given:
        raise UserError(f"{where}: an empty list of values (empty grid)")
    if key == CONFIG_KEY and not all(isinstance(v, str) and v.strip() for v in given):
        raise UserError(f"{where}: expected a list of config file paths")
    labels = tuple(label(v) for v in given)
    if len(set(labels)) != len(labels):
        raise UserError(f"{where}: a value is listed twice")
    return Axis(key, given, tuple(given), labels)


def parse_grid(texts: list[str]) -> list[Axis]:
    """The axes of the `--grid` options, in the order given.

    Raises:
        UserError: no option (an empty grid), a malformed option, a value list that is
            empty or not a list, a key given twice, or a key the `augment` preset sets.
    """
    if not texts:
        raise UserError("empty grid: give at least one --grid KEY=[v1,v2,...]")
    axes = [_parse_one(text) for text in texts]
    keys = [key for axis in axes for key in axis.keys]
    for key in keys:
        if keys.count(key) > 1:
            raise UserError(f"--grid {key}: given twice; list every value in one option")
    if PRESET_KEY in keys:
        for key in keys:
            if key.startswith(f"{PRESET_KEY}.") and key.split(".", 1)[1] in SWITCHES:
                raise UserError(
                    f"--grid {key}: the augment preset already sets {key} in every point; "
                    "vary it in a sweep of its own"
                )
    return axes


def expand(axes: list[Axis]) -> list[Point]:
    """Every point of the product of the axes, the first axis varying slowest."""
    points = []
    for index, choice in enumerate(itertools.product(*(range(len(a.values)) for a in axes))):
        overrides: dict[str, Any] = {}
        settings: dict[str, Any] = {}
        config = None
        for axis, i in zip(axes, choice, strict=True):
            overrides.update(axis.overrides(i))
            named = axis.key in (PRESET_KEY, CONFIG_KEY)
            settings[axis.key] = axis.labels[i] if named else axis.values[i]
            config = axis.values[i] if axis.key == CONFIG_KEY else config
        points.append(Point(index, tuple(choice), settings, overrides, config))
    return points


def sample(points: list[Point], k: int | None, seed: int) -> list[Point]:
    """`k` of the points, the first `k` of a permutation drawn with `seed`, in grid order
    (all of them when `k` is None or not smaller)."""
    if k is None or k >= len(points):
        return list(points)
    order = np.random.default_rng(seed).permutation(len(points))
    return [points[i] for i in sorted(int(i) for i in order[:k])]
