"""What every method shares, written once (the idea of solo-learn's BaseMethod and
BaseMomentumMethod and of lightly's models, without their size).

    Method          an encoder, a projection head, `projection()`, the method's own
                    `training_loss`, a no-op `after_step`
    InBatchMethod   a loss over the embeddings of the whole batch, in three calls a trainer
                    can also make itself: `views` (the model inputs of a batch), `embedder`
                    (the network of each input) and `embedding_loss` (the loss over their
                    outputs); GradCache (arXiv:2101.06983) runs the embedders in chunks
    TwoViewMethod   two random views of every image in one pass, the loss it is given over
                    the two views' projections (SimCLR, SupCon, DCL, Barlow Twins, VICReg)
    MomentumMethod  an EMA copy of encoder + head (the target), moved after every step with
                    a cosine momentum schedule (BYOL, MoCo, DINO)
    PredictorMomentumMethod  a momentum method whose online branch ends in a predictor that
                    meets the target's projection of the other view (BYOL, MoCo v3)

A method file holds its options section (a `MethodOptions` with its name, hyperparameters
and defaults), its class (its loss call) and its builder; `registry.py` lists it once.

Example:
    >>> class SimCLR(TwoViewMethod):
    ...     def __init__(self, encoder, head, *, temperature):
    ...         super().__init__(encoder, head, loss=NTXentLoss(temperature=temperature))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import torch
from torch import Tensor, nn

from contrastkit.batches import Batch, ImageBatch
from contrastkit.encoders.options import ModelConfig
from contrastkit.methods.ema import EMATeacher, cosine_momentum
from contrastkit.methods.views import halves, stacked_views
from contrastkit.options import Strict

BatchT = TypeVar("BatchT", bound=Batch)

Inputs = Tensor | Mapping[str, Tensor]
"""One model input: a tensor, or named tensors (token ids and their mask), batch first."""


class MethodOptions(Strict):
    """The base of a method's options section: `name` selects the method (its subclass
    narrows it to one `Literal`, which is where the method's name is written)."""

    name: str


@dataclass(frozen=True)
class MethodContext:
    """The run settings a builder reads beyond its own section.

    Attributes:
        model: Encoder and head sizes (`feature_dim`, `proj_hidden_dim`, `proj_dim`).
        epochs: Length of training (SwAV freezes its prototypes for a number of epochs).
        batch_size: The global batch (SigLIP's default bias is -ln(batch_size)).
    """

    model: ModelConfig
    epochs: int
    batch_size: int

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"epochs and batch_size must be >= 1, got {self.epochs}, {self.batch_size}"
            )


class Method(nn.Module, ABC, Generic[BatchT]):
    """An encoder and a projection head trained with a loss; what the loop trains.

    Args:
        encoder: What downstream tasks use, e.g. (B, C, H, W) -> (B, D).
        head: (B, D) -> (B, P), the embedding the loss compares; None: the encoder's output.

    Attributes:
        earlier_names: State-dict prefixes this method's checkpoints had in earlier
            versions -> today's (None: a tensor it no longer has), so that they load.
    """

    earlier_names: ClassVar[Mapping[str, str | None]] = {}

    def __init__(self, encoder: nn.Module, head: nn.Module | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Identity() if head is None else head
        if self.earlier_names:
            self.register_load_state_dict_pre_hook(_rename_earlier_keys)

    def projection(self, x: Any) -> Tensor:
        """The embedding the loss compares (the health monitor's collapse check).

        Args:
            x: The encoder's input, Shape: (B, ...) float; or named tensors (`Inputs`: table
                rows, token ids and mask), passed to the encoder in their order.

        Returns:
            Shape: (B, P).
        """
        features = self.encoder(*x.values()) if isinstance(x, Mapping) else self.encoder(x)
        out: Tensor = self.head(features)
        return out

    @abstractmethod
    def training_loss(
        self, batch: BatchT, *, augment: Any, generator: torch.Generator | None = None
    ) -> Tensor:
        """The loss of one batch (a scalar with gradient).

        Args:
            batch: The typed batch the method trains on (`registry.MethodSpec.batch`).
            augment: The modality's random views, made on the training device.
            generator: Draws the views (None: the global generator).
        """

    def after_step(self, progress: float) -> None:
        """Update the state kept between steps (EMA target, queue, centers) after an
        optimizer step; `progress` is the fraction of training done, in [0, 1]. A method
        without such state keeps this no-op."""


def _rename_earlier_keys(
    module: nn.Module, state_dict: dict[str, Any], prefix: str, *_args: Any
) -> None:
    assert isinstance(module, Method)  # the hook is registered on methods only
    names = module.earlier_names
    for key in list(state_dict):
        if not key.startswith(prefix):
            continue
        local = key[len(prefix) :]
        for old, new in names.items():
            if local.startswith(old):
                value = state_dict.pop(key)
                if new is not None:
                    state_dict[prefix + new + local[len(old) :]] = value
                break


class InBatchMethod(Method[BatchT]):
    """A method whose loss couples the samples of a batch (in-batch negatives, batch
    statistics), written as three calls that a trainer may also make itself:

        inputs = method.views(batch, augment=augment, generator=generator)
        embeddings = [method.embedder(i)(x) for i, x in enumerate(inputs)]
        loss = method.embedding_loss(embeddings, batch)

    (the step itself embeds with `embed_views`, which a method may do in one pass, e.g. texts
    grouped by length, as long as each row gets the embedding its embedder gives it).

    All randomness of the views is drawn in `views`; the embedders draw only the global
    generator's (dropout), so a trainer that embeds the inputs in chunks and replays that
    state (GradCache) gets the gradient of the whole batch.
    """

    @abstractmethod
    def views(
        self, batch: BatchT, *, augment: Any, generator: torch.Generator | None = None
    ) -> tuple[Inputs, ...]:
        """The model inputs of a batch, one per embedder, each with the batch first."""

    def embedder(self, index: int) -> Callable[[Any], Tensor]:
        """The network of input `index` of `views`: input (B, ...) -> embeddings (B, E);
        `projection` for every input unless the method has a tower per input."""
        return self.projection

    def embed_views(self, inputs: Sequence[Inputs]) -> list[Tensor]:
        """The embeddings of all the inputs of `views` in a training step: each through its
        embedder, unless the method embeds them together (the same rows, up to rounding)."""
        return [self.embedder(i)(x) for i, x in enumerate(inputs)]

    @abstractmethod
    def embedding_loss(self, embeddings: Sequence[Tensor], batch: BatchT) -> Tensor:
        """The loss over the embeddings of the whole batch (labels, ids from `batch`)."""

    def training_loss(
        self, batch: BatchT, *, augment: Any, generator: torch.Generator | None = None
    ) -> Tensor:
        """`embedding_loss` over the embeddings of `views`."""
        inputs = self.views(batch, augment=augment, generator=generator)
        return self.embedding_loss(self.embed_views(inputs), batch)


class TwoViewMethod(InBatchMethod[ImageBatch]):
    """Two random views of every image through encoder and head in one pass (the views
    share BatchNorm statistics, as in SimCLR's and BYOL's code), then `loss(z_a, z_b)`.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: (B, D) -> (B, P).
        loss: (z_a (B, P), z_b (B, P)) -> scalar, e.g. `NTXentLoss(temperature=0.2)`; a
            method whose loss needs more (labels, a predictor) overrides `view_loss`.
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, *, loss: Callable[..., Tensor]) -> None:
        super().__init__(encoder, head)
        self.loss = loss

    def views(
        self, batch: ImageBatch, *, augment: Any, generator: torch.Generator | None = None
    ) -> tuple[Inputs, ...]:
        """The first views of every image, then the second ones. Shape: (2B, C, H', W')."""
        return (stacked_views(batch.images, augment, generator),)

    def embedding_loss(self, embeddings: Sequence[Tensor], batch: ImageBatch) -> Tensor:
        (z,) = embeddings  # (2B, P)
        z_a, z_b = halves(z)  # (B, P) each; row i of both comes from image i
        return self.view_loss(z_a, z_b, batch)

    def view_loss(self, z_a: Tensor, z_b: Tensor, batch: ImageBatch) -> Tensor:
        """The loss over the two views' projections. Shape: (B, P) each."""
        return self.loss(z_a, z_b)


class MomentumMethod(Method[ImageBatch]):
    """A method with an EMA target: a frozen copy of encoder + head that follows them.

    After each step the target moves by 1 - m(p), m(p) = 1 - (1 - momentum) (cos(pi p) + 1)
    / 2 rising from `momentum` to 1 (BYOL's schedule, `target_momentum`); a method with a
    constant momentum (MoCo v2) overrides `target_momentum`.

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: (B, D) -> (B, P).
        momentum: The base momentum, in [0, 1].
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, *, momentum: float) -> None:
        super().__init__(encoder, head)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        self.target = EMATeacher(nn.Sequential(encoder, head))
        self.momentum = momentum

    def target_momentum(self, progress: float) -> float:
        """The momentum after a step at `progress` (cosine from `momentum` to 1)."""
        return cosine_momentum(progress, base=self.momentum)

    def after_step(self, progress: float) -> None:
        """Move the target towards encoder + head."""
        self.target.update(nn.Sequential(self.encoder, self.head), self.target_momentum(progress))


class PredictorMomentumMethod(MomentumMethod):
    """A momentum method whose online branch ends in a predictor: the prediction of each
    view meets the target's projection of the other view (BYOL, MoCo v3).

    Args:
        encoder: (B, C, H, W) -> (B, D).
        head: The projector, (B, D) -> (B, P).
        predictor: (B, P) -> (B, P).
        momentum: The base momentum, in [0, 1].
    """

    def __init__(
        self, encoder: nn.Module, head: nn.Module, predictor: nn.Module, *, momentum: float
    ) -> None:
        super().__init__(encoder, head, momentum=momentum)
        self.predictor = predictor

    def cross_view_loss(
        self,
        batch: ImageBatch,
        *,
        augment: Any,
        generator: torch.Generator | None,
        loss: Callable[[Tensor, Tensor], Tensor],
    ) -> Tensor:
        """``loss(q_1, k_2) + loss(q_2, k_1)`` over two views of every image: q the online
        predictions, k the target's projections (no gradient). batch.images: Shape:
        (B, C, H, W)."""
        views = stacked_views(batch.images, augment, generator)  # (2B, ...)
        q_1, q_2 = halves(self.predictor(self.projection(views)))  # (B, P) each
        k_1, k_2 = halves(self.target(views))  # (B, P) each, no gradient
        return loss(q_1, k_2) + loss(q_2, k_1)
