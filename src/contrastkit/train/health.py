"""Training health without labels: is the embedding spreading out or collapsing?

Every `every` steps the monitor embeds a fixed probe set (no gradient, its own random
generator, every buffer restored, so training is unaffected and `--resume` stays exact):
the encoder in eval mode, as `embed` and the final evaluation see it, the projection with
the probe's own BatchNorm statistics as the loss sees it. It measures the mean per-dimension
std of the normalised embedding (about 1/sqrt(D) when spread out, 0 when collapsed;
SimSiam arXiv:2011.10566), the effective rank RankMe (arXiv:2210.02885), alignment and
uniformity (arXiv:2005.10242), and, when a labelled held-out split is given, online kNN
top-1 (eval mode, as downstream tasks see it). A collapse is flagged when the std falls
below `min_std / sqrt(D)` or below `max_std_drop` times its best value so far, or RankMe
below `min_rankme`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from contrastkit.augment.image import to_float
from contrastkit.errors import TrainingDiverged
from contrastkit.eval.classification import top1_accuracy
from contrastkit.eval.health import alignment, embedding_std, rankme, uniformity
from contrastkit.eval.knn import knn_predict
from contrastkit.train.options import HealthConfig

if TYPE_CHECKING:  # the loop does not need scikit-learn, which data/split.py imports
    from contrastkit.data.split import ImageSplit
    from contrastkit.methods.base import Method


@dataclass(frozen=True)
class LabelledProbe:
    """A labelled split for online kNN: `bank` images vote for `queries`.

    Attributes:
        bank: Shape: (M, C, H, W). bank_labels: Shape: (M,).
        queries: Shape: (Q, C, H, W). query_labels: Shape: (Q,).
    """

    bank: Tensor
    bank_labels: Tensor
    queries: Tensor
    query_labels: Tensor
    num_classes: int
    k: int = 20


@dataclass(frozen=True)
class Collapse:
    """The first step at which the monitor saw a collapse, and what it saw."""

    step: int
    symptom: str


class HealthMonitor:
    """Measures the embeddings of `probe` every `every` steps.

    Downstream health (emb_std, rankme, alignment, uniformity, knn_top1) is measured on the
    encoder's output. Collapse is judged on `projection` (the embedding the loss compares,
    proj_std and proj_rankme) when given, since a method collapses there first (SimSiam
    without stop-gradient: arXiv:2011.10566 Fig. 2), else on the encoder's output.

    Args:
        module: The method; put in eval mode while measuring, then restored.
        encoder: (B, C, H, W) -> (B, D), the module whose output downstream tasks use.
        probe: Unlabelled images to embed. Shape: (N, C, H, W).
        augment: Random views for alignment (`augment(x, generator)`).
        every: Steps between measurements (> 0).
        projection: (B, C, H, W) -> (B, P), or None.
        min_std: Collapse when std * sqrt(D) < min_std.
        max_std_drop: Collapse when std * sqrt(D) falls below this fraction of its best
            value in this process (falling towards 0).
        min_rankme: Collapse when RankMe < min_rankme.
        labelled: Optional held-out split for online kNN.
        seed: Seed of the monitor's own views (the same views at every measurement).

    Example:
        >>> monitor = HealthMonitor(method, method.encoder, x[:512], augment=aug, every=20)
        >>> stats, collapse = monitor.check(step)   # collapse is None while healthy
    """

    def __init__(
        self,
        module: nn.Module,
        encoder: nn.Module,
        probe: Tensor,
        *,
        augment: object,
        every: int,
        projection: Callable[[Tensor], Tensor] | None = None,
        min_std: float = 0.2,
        max_std_drop: float = 0.4,
        min_rankme: float = 1.5,
        labelled: LabelledProbe | None = None,
        seed: int = 0,
    ) -> None:
        if every < 1 or probe.ndim != 4 or len(probe) < 2:
            raise ValueError(
                f"need every >= 1 and probe images (N >= 2, C, H, W), got every={every}, "
                f"probe {tuple(probe.shape)}"
            )
        if not callable(augment):
            raise ValueError("augment must be callable: augment(images, generator)")
        self.module = module
        self.encoder = encoder
        self.projection = projection
        self.probe = probe
        self.augment = augment
        self.every = every
        self.min_std = min_std
        self.max_std_drop = max_std_drop
        self.best_spread = 0.0
        self.min_rankme = min_rankme
        self.labelled = labelled
        self.seed = seed
        self.collapse: Collapse | None = None

    def due(self, step: int, *, last: bool) -> bool:
        return step % self.every == 0 or last

    @torch.no_grad()
    def _embed(
        self, fn: Callable[[Tensor], Tensor], images: Tensor, *, batch_stats: bool = False
    ) -> Tensor:
        """fn over images in chunks of 512; Shape: (N, ...) -> (N, D) float32 CPU.

        batch_stats=False: eval mode (BatchNorm running statistics, as downstream use).
        batch_stats=True: BatchNorm normalises with the chunk's statistics, as in training;
        every buffer is restored afterwards, so the run is unchanged.
        """
        device = next(self.module.parameters()).device
        was_training = self.module.training
        saved = [buf.clone() for buf in self.module.buffers()]
        self.module.train(batch_stats)
        try:
            chunks = [
                fn(to_float(images[i : i + 512].to(device))).float().cpu()
                for i in range(0, len(images), 512)
            ]
        finally:
            self.module.train(was_training)
            for buf, old in zip(self.module.buffers(), saved, strict=True):
                buf.copy_(old)
        z = torch.cat(chunks).flatten(1)
        if not bool(torch.isfinite(z).all()):
            raise TrainingDiverged("the health probe's embedding holds NaN or infinity")
        return z

    def measure(self) -> dict[str, float]:
        """emb_std, rankme, alignment, uniformity (+ knn_top1, proj_std, proj_rankme).

        The encoder's statistics are measured in eval mode, as `embed` and the final
        evaluation see it; the projection's with the batch statistics the loss sees, where
        a collapse shows first."""
        device = next(self.module.parameters()).device
        gen = torch.Generator(device=device).manual_seed(self.seed)
        probe = self.probe.to(device)
        z = self._embed(self.encoder, probe)
        z_a = self._embed(self.encoder, self.augment(probe, gen))
        z_b = self._embed(self.encoder, self.augment(probe, gen))
        stats = {
            "emb_std": embedding_std(z),
            "rankme": rankme(z),
            "alignment": alignment(z_a, z_b),
            "uniformity": uniformity(z),
            "dim": float(z.shape[1]),
        }
        if self.projection is not None:
            p = self._embed(self.projection, probe, batch_stats=True)
            stats.update(proj_std=embedding_std(p), proj_rankme=rankme(p), proj_dim=p.shape[1])
        if self.labelled is not None:
            lab = self.labelled
            predicted = knn_predict(
                self._embed(self.encoder, lab.bank),
                lab.bank_labels,
                self._embed(self.encoder, lab.queries),
                num_classes=lab.num_classes,
                k=lab.k,
            )
            stats["knn_top1"] = top1_accuracy(predicted, lab.query_labels)
        return {key: float(value) for key, value in stats.items()}

    def collapse_symptom(self, stats: dict[str, float]) -> str | None:
        """Why `stats` look collapsed, or None when healthy (updates the best std seen).

        The std is judged as std * sqrt(D): about 1 when spread out, 0 when collapsed.
        """
        prefix = "proj_" if "proj_std" in stats else ""
        what = "projection" if prefix else "embedding"
        std = stats["proj_std"] if prefix else stats["emb_std"]
        rank, dim = stats[f"{prefix}rankme"], int(stats[f"{prefix}dim"])
        spread = std * math.sqrt(dim)
        self.best_spread = max(self.best_spread, spread) if math.isfinite(spread) else 0.0
        if not math.isfinite(spread) or spread < self.min_std:
            return f"{what} std collapsed: std * sqrt(D) = {spread:.3f} < {self.min_std}"
        if spread < self.max_std_drop * self.best_spread:
            return (
                f"{what} std falling towards 0: std * sqrt(D) = {spread:.3f}, "
                f"{spread / self.best_spread:.0%} of its best {self.best_spread:.3f}"
            )
        if rank < self.min_rankme:
            return f"{what} effective rank collapsed: RankMe {rank:.2f} < {self.min_rankme}"
        return None

    def check(self, step: int) -> tuple[dict[str, float], Collapse | None]:
        """Measure; on the first collapse remember it and return it (None afterwards).

        Raises:
            TrainingDiverged: the embedding holds NaN or infinity (names the step).
        """
        try:
            stats = self.measure()
        except TrainingDiverged as err:
            raise TrainingDiverged(
                f"training diverged at step {step}: {err}; lower train.lr or set train.grad_clip"
            ) from None
        symptom = self.collapse_symptom(stats)
        if symptom is None or self.collapse is not None:
            return stats, None
        self.collapse = Collapse(step=step, symptom=symptom)
        return stats, self.collapse


def progress_summary(stats: dict[str, float]) -> str:
    """The short health text of the progress line."""
    text = f"rank {stats['rankme']:.1f} std {stats['emb_std']:.3f}"
    if "proj_std" in stats:
        text += f" proj std {stats['proj_std']:.3f}"
    if "knn_top1" in stats:
        text += f" knn {stats['knn_top1']:.3f}"
    return text


def build_monitor(
    cfg: HealthConfig, method: Method[Any], data: ImageSplit, *, augment: object, seed: int
) -> HealthMonitor | None:
    """The monitor a run's `health` section asks for (None when `every` is 0): a fixed
    random probe of training images, online kNN train -> test when `knn` is set, and the
    method's `projection` for the collapse check."""
    if cfg.every == 0:
        return None
    gen = torch.Generator().manual_seed(seed)
    probe_idx = torch.randperm(len(data.x_train), generator=gen)[: cfg.samples]
    labelled = None
    has_label = data.y_train >= 0
    if cfg.knn and bool(has_label.any()) and len(data.x_test) > 0:
        labelled = LabelledProbe(
            bank=data.x_train[has_label],
            bank_labels=data.y_train[has_label],
            queries=data.x_test,
            query_labels=data.y_test,
            num_classes=data.num_classes,
        )
    return HealthMonitor(
        method,
        method.encoder,
        data.x_train[probe_idx],
        projection=method.projection,
        augment=augment,
        every=cfg.every,
        min_std=cfg.min_std,
        max_std_drop=cfg.max_std_drop,
        min_rankme=cfg.min_rankme,
        labelled=labelled,
        seed=seed,
    )
