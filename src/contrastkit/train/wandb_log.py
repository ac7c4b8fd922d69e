"""Training curves in Weights & Biases, when asked for (`train.wandb_project`) and installed.

`fit` hands every logged record (the line it appends to `log.jsonl`) to a `WandbLog`,
which logs its finite numbers at the record's step into a W&B run named after the run
directory, with W&B's files under `<run>/wandb/`. W&B's own settings apply: on a machine
without network set `WANDB_MODE=offline` and `wandb sync` later. Needs the `wandb` package
(`pip install "contrastkit[wandb]"`); asking for it without the package is an error before
training starts, not a silent gap in the curves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contrastkit.errors import UserError
from contrastkit.train.sinks import Sink, scalars


class WandbLog(Sink):
    """Logs a run's records to W&B (a no-op when `project` is None or not `enabled`).

    Args:
        run_dir: The run directory: W&B's run name and where its files go.
        project: The W&B project, or None for no W&B.
        enabled: False on the ranks of a multi-process run that do not write.

    Raises:
        UserError: a project was given and the `wandb` package is not installed.
    """

    def __init__(self, run_dir: Path, *, project: str | None, enabled: bool = True) -> None:
        self._run: Any = None
        if project is None or not enabled:
            return
        try:
            import wandb
        except ImportError:
            raise UserError(
                f"train.wandb_project={project!r} needs the wandb package: "
                'pip install "contrastkit[wandb]" (or unset train.wandb_project)'
            ) from None
        self._run = wandb.init(project=project, name=run_dir.name, dir=str(run_dir))

    def write(self, record: dict[str, Any]) -> None:
        """Each finite number of `record` (but step and epoch) as `train/<key>` at its step."""
        if self._run is None:
            return
        self._run.log(scalars(record), step=int(record["step"]))

    def close(self) -> None:
        if self._run is not None:
            self._run.finish()
            self._run = None
