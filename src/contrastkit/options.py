"""The base of every options section: strict keys, values checked on assignment too."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A typed options section: unknown keys are errors, assignments are validated, floats
    must be finite (inf and NaN are refused with the key named)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)
