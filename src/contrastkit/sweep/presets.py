"""The augmentation-composition preset: `--grid augment=pairs` (SimCLR's figure 5).

SimCLR (Chen et al. 2020, arXiv:2002.05709, figure 5) trains one model per augmentation
and per pair of augmentations and shows the linear-probe accuracy as a matrix: the diagonal
is one augmentation alone, the cells off it two together. Here each point of the grid sets
every switch of the `augment` section: the named augmentations on, at the strengths below,
and every other one off. "Off" is the identity: crops of the whole image at its own aspect
ratio (`crop_scale` [1, 1], `crop_ratio` [1, 1]), no flip, jitter, grey, blur, solarize,
noise or rotation. The other `augment` keys (`views`, `size`, `asymmetric`, the local crops)
keep the config's values.

Strengths (SimCLR's CIFAR-10 recipe where the project has one: `COLOUR_VIEWS`; the
section's defaults for blur, noise and rotation):

| name | keys set |
|---|---|
| crop | crop_scale [0.2, 1], crop_ratio [0.75, 1.3333] |
| jitter | jitter_prob 0.8, brightness 0.4, contrast 0.4, saturation 0.4, hue 0.1 |
| blur | blur_prob 0.5, blur_sigma [0.1, 1.0] (pixels) |
| flip | hflip_prob 0.5 |
| grey | grayscale_prob 0.2 |
| noise | noise_std 0.1 |
| rotation | rotation_deg 15 |

On grey images `grey`, `saturation` and `hue` change nothing: `grey` alone is then the
identity, and jitter acts through brightness and contrast only.
"""

from __future__ import annotations

import difflib
from itertools import combinations
from typing import Any

from contrastkit.augment.options import COLOUR_VIEWS, AugmentConfig
from contrastkit.errors import UserError

PRESET_KEY = "augment"
"""The grid key of the preset (the section's own name: its values are compositions)."""


def _default(key: str) -> Any:
    return AugmentConfig.model_fields[key].default


def _pair(value: Any) -> list[float]:
    """A (low, high) range as the list a YAML config holds."""
    return [float(v) for v in value]


OFF: dict[str, Any] = {
    "crop_scale": [1.0, 1.0],
    "crop_ratio": [1.0, 1.0],
    "hflip_prob": 0.0,
    "jitter_prob": 0.0,
    "brightness": 0.0,
    "contrast": 0.0,
    "saturation": 0.0,
    "hue": 0.0,
    "grayscale_prob": 0.0,
    "blur_prob": 0.0,
    "solarize_prob": 0.0,
    "noise_std": 0.0,
    "rotation_deg": 0.0,
}
"""Every augmentation switch off: each view is the image itself."""

AUGMENTATIONS: dict[str, dict[str, Any]] = {
    "crop": {
        "crop_scale": _pair(COLOUR_VIEWS["crop_scale"]),
        "crop_ratio": _pair(_default("crop_ratio")),
    },
    "jitter": {
        key: COLOUR_VIEWS[key]
        for key in ("jitter_prob", "brightness", "contrast", "saturation", "hue")
    },
    "blur": {"blur_prob": _default("blur_prob"), "blur_sigma": _pair(_default("blur_sigma"))},
    "flip": {"hflip_prob": COLOUR_VIEWS["hflip_prob"]},
    "grey": {"grayscale_prob": COLOUR_VIEWS["grayscale_prob"]},
    "noise": {"noise_std": _default("noise_std")},
    "rotation": {"rotation_deg": _default("rotation_deg")},
}
"""Each augmentation of the preset and the `augment` keys it turns on (the rest: `OFF`)."""

SWITCHES = frozenset(OFF) | {"blur_sigma"}
"""The `augment` keys a point of the preset sets (a grid may not vary them as well)."""

NONE = "none"
"""The composition with no augmentation (both views are the image)."""


def composition_name(names: tuple[str, ...]) -> str:
    """'crop+blur' for ('crop', 'blur'); 'none' for ()."""
    return "+".join(names) or NONE


def augment_settings(names: tuple[str, ...]) -> dict[str, Any]:
    """The `augment` keys of a composition: `OFF`, then each named augmentation on."""
    settings = dict(OFF)
    for name in names:
        settings.update(AUGMENTATIONS[name])
    return settings


def _names(text: str, where: str) -> tuple[str, ...]:
    """The augmentations of 'crop+blur' (or 'crop,blur'), in `AUGMENTATIONS` order."""
    if text.strip() == NONE:
        return ()
    parts = [p.strip() for p in text.replace(",", "+").split("+")]
    for part in parts:
        if part not in AUGMENTATIONS:
            close = difflib.get_close_matches(part, list(AUGMENTATIONS), n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join([*AUGMENTATIONS, NONE])
            raise UserError(f"{where}: unknown augmentation {part!r}{hint} (known: {known})")
    if len(set(parts)) != len(parts):
        raise UserError(f"{where}: {text!r} names an augmentation twice")
    return tuple(name for name in AUGMENTATIONS if name in parts)


def compositions(value: Any, where: str) -> list[tuple[str, ...]]:
    """The compositions a grid value names.

    `pairs`: every augmentation alone and every two together (7 + 21 points); `singles`:
    each alone; `pairs:crop,jitter,blur` or `singles:...`: the same among the named ones;
    a list such as `[crop, crop+blur, none]`: those compositions.

    Raises:
        UserError: an unknown preset or augmentation (nearest name suggested), an empty
            or repeated composition list.
    """
    if isinstance(value, str):
        kind, _, among = value.partition(":")
        kind = kind.strip()
        if kind not in ("pairs", "singles"):
            raise UserError(
                f"{where}: expected pairs, singles, pairs:NAME,NAME,..., or a list of "
                f"compositions such as [crop, crop+blur]; got {value!r}"
            )
        names = _names(among, where) if among.strip() else tuple(AUGMENTATIONS)
        if not names:
            raise UserError(f"{where}: {value!r} names no augmentation")
        singles: list[tuple[str, ...]] = [(name,) for name in names]
        return singles if kind == "singles" else [*singles, *combinations(names, 2)]
    if not isinstance(value, list) or not value:
        raise UserError(f"{where}: expected a non-empty list of compositions or a preset")
    found = [_names(str(item), where) for item in value]
    if len(set(found)) != len(found):
        raise UserError(f"{where}: a composition is listed twice")
    return found
