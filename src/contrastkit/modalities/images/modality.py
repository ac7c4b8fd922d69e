"""The image modality: read and split the images, train on them, evaluate and embed."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from torch import nn

from contrastkit.augment.build import build_augment, build_views
from contrastkit.batches import ImageBatch
from contrastkit.data.items import TensorItems
from contrastkit.data.split import ImageSplit
from contrastkit.encoders.build import build_encoder
from contrastkit.errors import UserError
from contrastkit.eval.embed import embed_images
from contrastkit.eval.suite import evaluate, health
from contrastkit.eval.transfer import class_mask, select_classes
from contrastkit.methods.registry import MethodSpec
from contrastkit.modalities.base import (
    Embedded,
    EmbeddingViews,
    HealthProbe,
    Log,
    Modality,
    Settings,
    Training,
)
from contrastkit.modalities.images.query import embed_image_set, encoder_channels, read_query
from contrastkit.modalities.images.sources import (
    IMAGE_SOURCES,
    load_image_data,
    load_image_set,
    source_for,
)


class ImageModality(Modality):
    """Images as uint8 (C, H, W); views made in batch on the training device."""

    name = "images"
    sources = IMAGE_SOURCES
    batch_types = (ImageBatch,)

    @cached_property
    def data(self) -> ImageSplit:
        """The train/test split (read once)."""
        return load_image_data(self.settings.data)

    @cached_property
    def eval_data(self) -> ImageSplit:
        """The split evaluation uses: all classes, or only `eval.classes` (relabelled)."""
        classes = self.settings.eval.classes
        if classes is None:
            return self.data
        try:
            return select_classes(self.data, classes)
        except ValueError as err:
            raise UserError(f"eval.classes: {err}") from None

    @property
    def in_channels(self) -> int:
        return int(self.data.x_train.shape[1])

    def check(self, spec: MethodSpec) -> None:
        super().check(spec)
        if self.settings.model.encoder in ("audio_cnn", "mlp"):
            raise UserError(
                f"model.encoder={self.settings.model.encoder!r} does not read images "
                f"(data.source={self.settings.data.source!r})"
            )

    def new_encoder(self) -> nn.Module:
        return build_encoder(self.settings.model, self.in_channels)

    def training(self, spec: MethodSpec, log: Log) -> Training:
        """The training split (only `data.train_classes` when set), with the labels a
        method such as SupCon needs, the view augment and the health probe."""
        data, s = self.data, self.settings
        lines = [
            f"data: {data.name}, {len(data.x_train)} train / {len(data.x_test)} test images "
            f"{tuple(data.x_train.shape[1:])}, "
            f"{f'{data.num_classes} classes' if data.num_classes else 'no labels'}",
            *(f"note: {note}" for note in data.notes),
        ]
        self.eval_data  # noqa: B018  (a bad eval.classes fails now, not after training)
        train_x, train_y = data.x_train, data.y_train
        if s.data.train_classes is not None:
            keep = class_mask(data.y_train, s.data.train_classes)
            train_x, train_y = train_x[keep], train_y[keep]
            lines.append(
                f"pre-training on classes {s.data.train_classes} only: {len(train_x)} images"
            )
        if spec.needs_labels and bool((train_y < 0).any()):
            raise UserError(f"method {spec.name!r} needs a label for every training image")
        size = (int(data.x_train.shape[2]), int(data.x_train.shape[3]))
        return Training(
            items=TensorItems(ImageBatch(images=train_x, labels=train_y)),
            collate=ImageBatch.collate,
            views=build_views(s.augment, image_size=size),
            name=data.name,
            lines=lines,
            probe=HealthProbe(split=data, augment=build_augment(s.augment)),
        )

    def evaluate(self, method: nn.Module, run_dir: Path, log: Log) -> dict[str, Any]:
        """Probes, retrieval, clustering, anomaly and health, with the baselines."""
        return evaluate_images(self.settings, self.eval_data, method, log)

    def embed(self, method: nn.Module, data: str, log: Log) -> Embedded:
        """'train' (the run's data, train and test), 'digits' on a digits run, or a PATH
        read with the run's data options."""
        images = load_image_set(source_for(self.settings.data, data))
        log(f"data: {images.name}: {images.summary()}")
        for note in images.notes:
            log(f"note: {note}")
        return Embedded(
            vectors=embed_image_set(encoder_of(method), images),
            ids=images.paths,
            name=images.name,
            notes=list(images.notes),
            info={"data": images.name, "image_hw": list(images.images.shape[2:])},
        )

    def query(self, method: nn.Module, query: str, info: dict[str, Any]) -> torch.Tensor:
        """A query image file embedded as the index's images were (size, channels).
        Shape: (1, D)."""
        encoder = encoder_of(method)
        h, w = info.get("image_hw", [0, 0])
        image = read_query(Path(query), channels=encoder_channels(encoder), size=(int(h), int(w)))
        return embed_images(encoder, image)

    def report_views(self, method: nn.Module) -> tuple[EmbeddingViews | None, str]:
        """The test images embedded by the trained and by a random-init encoder."""
        data = self.eval_data
        torch.manual_seed(self.settings.seed)  # the random-init baseline uses this seed too
        random_encoder = self.new_encoder()
        labels = data.y_test.numpy()
        return (
            EmbeddingViews(
                trained=embed_images(encoder_of(method), data.x_test).numpy(),
                random_init=embed_images(random_encoder, data.x_test).numpy(),
                labels=labels if (labels >= 0).all() else None,
                class_names=list(data.class_names),
                images=data.x_test.numpy(),
            ),
            "",
        )


def encoder_of(method: nn.Module) -> nn.Module:
    """The method's encoder (what downstream tasks use)."""
    encoder = method.encoder
    if not isinstance(encoder, nn.Module):
        raise TypeError("a method's encoder must be an nn.Module")
    return encoder


def evaluate_images(
    settings: Settings, data: ImageSplit, method: nn.Module, log: Log
) -> dict[str, Any]:
    """The image suite on `data`: label-free health only when it has fewer than 2 classes."""
    encoder = encoder_of(method)
    augment = build_augment(settings.augment)
    if data.num_classes < 2:
        found = "no labels" if data.num_classes == 0 else "one class"
        reason = f"{data.name} has {found}: label-based metrics and baselines skipped"
        log(f"{reason}; computing label-free health only")
        return {
            "eval": {"skipped": reason},
            "health": health(encoder, data.x_test, augment, settings.seed),
        }
    device = next(encoder.parameters()).device
    in_channels = int(data.x_train.shape[1])
    return evaluate(
        encoder,
        data,
        settings.eval,
        augment=augment,
        make_encoder=lambda: build_encoder(settings.model, in_channels).to(device),
        feature_dim=settings.model.feature_dim,
        seed=settings.seed,
        log=log,
    )
