"""The image modality: read and split the images, train on them, evaluate and embed."""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from torch import nn

from contrastkit.augment.build import build_augment, build_views
from contrastkit.augment.options import COLOUR_VIEWS, GREY_VIEWS
from contrastkit.batches import ImageBatch
from contrastkit.data.arrays import write_split_arrays
from contrastkit.data.decode import IMAGE_SUFFIXES
from contrastkit.data.detect import ARRAY_SUFFIXES, detect_format
from contrastkit.data.folder_items import FolderItems, decode_items
from contrastkit.data.imageset import describe_images
from contrastkit.data.items import TensorItems
from contrastkit.data.preprocess import ImagePreprocess
from contrastkit.data.split import ImageSplit
from contrastkit.data.video import holds_videos
from contrastkit.data.workers import auto_workers
from contrastkit.encoders.build import build_encoder, encoder_feature_dim
from contrastkit.encoders.options import ModelConfig
from contrastkit.encoders.registry import ENCODERS
from contrastkit.encoders.traceable import ImageInput
from contrastkit.errors import UserError
from contrastkit.eval.embed import embed_images, embed_items
from contrastkit.eval.suite import evaluate, health
from contrastkit.eval.transfer import class_mask, select_classes
from contrastkit.methods.registry import MethodSpec
from contrastkit.modalities.base import (
    Embedded,
    EmbeddingViews,
    EmbedOptions,
    ExportSpec,
    ExportTower,
    Fitted,
    HealthProbe,
    Log,
    Modality,
    QualityTask,
    Settings,
    Training,
    label_matches,
)
from contrastkit.modalities.images.pretrained import (
    fine_tuning_verdict,
    loads_pretrained,
    pretrained_defaults,
    starts_pretrained,
)
from contrastkit.modalities.images.query import (
    embed_image_set,
    encoder_channels,
    match_channels,
    read_query,
)
from contrastkit.modalities.images.sources import (
    IMAGE_SOURCES,
    lazy_folder_items,
    lazy_folder_split,
    load_image_data,
    load_image_set,
    sample,
    source_for,
)
from contrastkit.modalities.images.videos import embed_videos
from contrastkit.modalities.pictures import Pictures, file_pictures, memory_pictures

SMALL_IMAGE_MAX_SIDE = 16
"""The largest image side that keeps the digits' defaults (SmallCNN, rotation-and-noise views).
Larger images get `resnet_small` unless the config names an encoder (SmallCNN's cost grows with
every pixel: on 28x28 Fashion-MNIST it trained at 409 images/s to kNN 75.7 after 4 epochs,
resnet_small at 1,032 images/s to 78.0) and, when grey, `GREY_VIEWS`."""


def names_in(paths: list[str], root: str | None) -> list[str] | None:
    """Each file's name relative to the data folder `root` (its own name when it lies
    elsewhere); None for items that are no files (bundled data)."""
    if root is None or not Path(root).is_dir():
        return None
    base = Path(root).expanduser().resolve()
    names = []
    for path in map(Path, paths):
        resolved = path.resolve()
        names.append(
            str(resolved.relative_to(base)) if resolved.is_relative_to(base) else path.name
        )
    return names


class ImageModality(Modality):
    """Images as uint8 (C, H, W); views made in batch on the training device."""

    name = "images"
    sources = IMAGE_SOURCES
    batch_types = (ImageBatch,)

    @classmethod
    def claims(cls, path: Path) -> str | None:
        """'auto' (the format is detected when read) for a folder or a .npy/.npz file; a
        single image or an archive is refused with what to pass instead."""
        suffix = path.suffix.lower()
        if path.is_dir() or suffix in (*ARRAY_SUFFIXES, *IMAGE_SUFFIXES, ".zip", ".tgz", ".gz"):
            detect_format(path)
            return "auto"
        return None

    @cached_property
    def folder(self) -> tuple[FolderItems, FolderItems] | None:
        """An image folder read without `data.cache`: (train, test) items decoded as they
        are read (only the headers are read here); None for data held in memory."""
        return lazy_folder_split(self.settings.data)

    @cached_property
    def data(self) -> ImageSplit:
        """The split decoded in memory, read once: all of it, or for a lazy folder a
        seeded sample of at most `eval.max_items` training and test images each."""
        if self.folder is None:
            return load_image_data(self.settings.data)
        train, test = self.folder
        limit, seed = self.settings.eval.max_items, self.settings.seed
        workers = auto_workers(None, in_memory=False)
        x_train, y_train = decode_items(sample(train, limit, seed), workers=workers)
        x_test, y_test = decode_items(sample(test, limit, seed), workers=workers)
        notes = list(train.notes)
        if limit is not None and max(len(train), len(test)) > limit:
            notes.append(
                f"evaluated on a seeded sample of {len(x_train)} of {len(train)} train and "
                f"{len(x_test)} of {len(test)} test images (eval.max_items)"
            )
        return ImageSplit(
            x_train=x_train,
            y_train=y_train,
            x_test=x_test,
            y_test=y_test,
            class_names=train.class_names if train.labelled else [],
            name=train.name,
            notes=tuple(notes),
        )

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
    def image_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of the training images."""
        if self.folder is not None:
            return self.folder[0].shape
        c, h, w = self.data.x_train.shape[1:]
        return int(c), int(h), int(w)

    @property
    def in_channels(self) -> int:
        return self.image_shape[0]

    def check(self, spec: MethodSpec) -> None:
        super().check(spec)
        encoder = self.settings.model.encoder
        if ENCODERS[encoder].takes != "image":
            readers = ", ".join(name for name, e in ENCODERS.items() if e.takes == "image")
            raise UserError(
                f"model.encoder: {encoder!r} does not read images "
                f"(data.source {self.settings.data.source!r}); image encoders: {readers}"
            )

    def fitted_defaults(self) -> list[Fitted]:
        """SimCLR's colour views for colour images (`COLOUR_VIEWS`), brightness and
        contrast views for grey images larger than `SMALL_IMAGE_MAX_SIDE` (`GREY_VIEWS`);
        for any image larger than that, the ImageNet-pretrained EfficientNet-Lite0 and its
        fine-tuning settings when its weights are installed (`images/pretrained.py`), else
        `resnet_small`."""
        c, h, w = self.image_shape
        larger = max(h, w) > SMALL_IMAGE_MAX_SIDE
        model = self.settings.model
        fitted = []
        if c == 3:
            fitted.append(Fitted("augment", dict(COLOUR_VIEWS), "colour images"))
        elif larger:
            fitted.append(Fitted("augment", dict(GREY_VIEWS), f"grey {h}x{w} images"))
        pretrained = pretrained_defaults(model, max(h, w), choose=larger)
        if larger and not any(f.values.get("encoder") for f in pretrained):
            fitted.append(
                Fitted(
                    "model",
                    {"encoder": "resnet_small"},
                    f"{h}x{w} images (small_cnn is kept for sides <= {SMALL_IMAGE_MAX_SIDE})",
                )
            )
        return fitted + pretrained

    def new_encoder(self) -> nn.Module:
        """The configured encoder for these images (a ViT is sized for the views' side)."""
        return self._encoder(self.settings.model)

    def _encoder(self, model: ModelConfig) -> nn.Module:
        _, h, _ = self.image_shape
        return build_encoder(model, self.in_channels, image_size=self.settings.augment.size or h)

    def training(self, spec: MethodSpec, log: Log) -> Training:
        """The training split (only `data.train_classes` when set), with the labels a
        method such as SupCon needs, the view augment and the health probe. A lazy folder's
        images are decoded by the loader's workers as they are read."""
        s = self.settings
        data = self.data
        self.eval_data  # noqa: B018  (a bad eval.classes fails now, not after training)
        if self.folder is None:
            labels, n_test = data.y_train, len(data.x_test)
        else:
            labels, n_test = self.folder[0].labels, len(self.folder[1])
        c, h, w = self.image_shape
        lines = [
            f"data: {data.name}, {len(labels)} train / {n_test} test images {(c, h, w)}, "
            f"{f'{data.num_classes} classes' if data.num_classes else 'no labels'}",
            *(f"note: {note}" for note in data.notes),
        ]
        if self.folder is not None:
            lines.append(f"training images are decoded from {s.data.path} as they are read")
        keep = torch.arange(len(labels))
        if s.data.train_classes is not None:
            absent = sorted(set(s.data.train_classes) - set(labels.unique().tolist()))
            if absent:
                raise UserError(
                    f"data.train_classes: class(es) {absent} have no training image "
                    f"(the labels run 0..{int(labels.max())})"
                )
            keep = class_mask(labels, s.data.train_classes).nonzero().flatten()
            lines.append(f"pre-training on classes {s.data.train_classes} only: {len(keep)} images")
        if spec.needs_labels and bool((labels[keep] < 0).any()):
            raise UserError(f"method {spec.name!r} needs a label for every training image")
        items: TensorItems | FolderItems
        if self.folder is None:
            items = TensorItems(ImageBatch(images=data.x_train, labels=data.y_train).take(keep))
        else:
            train = self.folder[0]
            items = train if len(keep) == len(train) else train.subset(keep)
        return Training(
            items=items,
            collate=None if self.folder is None else ImageBatch.collate,
            views=build_views(s.augment, image_size=(h, w)),
            name=data.name,
            lines=lines,
            probe=HealthProbe(split=data, augment=build_augment(s.augment)),
        )

    def write_subset(self, n: int, seed: int, folder: Path) -> dict[str, Any]:
        """The training images' seeded sample (`torch.randperm` with `seed`, the first `n`,
        in their order) and every test image as an `.npz` in `folder`, read as
        `data.source: arrays` (a lazy folder: of the `eval.max_items` sample it evaluates on).
        """
        data = self.data
        pick = torch.randperm(len(data.y_train), generator=torch.Generator().manual_seed(seed))
        keep = pick[:n].sort().values
        path = (folder / f"{data.name}-{len(keep)}.npz").resolve()
        subset = replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep])
        write_split_arrays(path, subset)
        return {"source": "arrays", "path": str(path)}

    def evaluate(
        self, method: nn.Module, run_dir: Path, log: Log, *, budget_s: float | None = None
    ) -> dict[str, Any]:
        """Probes, retrieval, clustering, anomaly and health, with the baselines."""
        return evaluate_images(self.settings, self.eval_data, method, log, budget_s=budget_s)

    def embed(
        self, method: nn.Module, data: str, log: Log, options: EmbedOptions = EmbedOptions()
    ) -> Embedded:
        """'train' (the run's data, train and test), 'digits' on a digits run, a PATH read
        with the run's data options, or a video file / folder of videos (frames sampled at
        `options.fps`, read at the training size). A folder without `data.cache` is decoded
        batch by batch as it is embedded."""
        if options.side != "inputs":
            raise UserError("--side texts: this is an image run; it embeds images only")
        if data != "train" and holds_videos(Path(data)):
            encoder = encoder_of(method)
            _, h, w = self.image_shape
            return embed_videos(
                Path(data),
                shape=(encoder_channels(encoder), h, w),
                embed=lambda frames: embed_images(encoder, frames),
                options=options,
                log=log,
            )
        source = source_for(self.settings.data, data)
        folder = lazy_folder_items(source)
        if folder is not None:
            classes = folder.class_names if folder.labelled else []
            summary = describe_images(len(folder), folder.shape, classes)
            log(f"data: {folder.name}: {summary}, decoded batch by batch")
            encoder = encoder_of(method)
            channels = encoder_channels(encoder)
            vectors = embed_items(
                encoder,
                folder,
                workers=auto_workers(None, in_memory=False),
                transform=lambda images: match_channels(images, channels),
            )
            return Embedded(
                vectors,
                folder.paths,
                folder.name,
                notes=list(folder.notes),
                info={"data": folder.name, "image_hw": list(folder.size)},
                shown=names_in(folder.paths, source.path),
            )
        images = load_image_set(source)
        log(f"data: {images.name}: {images.summary()}")
        for note in images.notes:
            log(f"note: {note}")
        return Embedded(
            vectors=embed_image_set(encoder_of(method), images),
            ids=images.paths,
            name=images.name,
            notes=list(images.notes),
            info={"data": images.name, "image_hw": list(images.images.shape[2:])},
            shown=names_in(images.paths, source.path),
        )

    def reference(self, method: nn.Module, log: Log) -> tuple[torch.Tensor, torch.Tensor]:
        """The training and test images (a seeded sample of a large folder) embedded."""
        data = self.data
        encoder = encoder_of(method)
        return embed_images(encoder, data.x_train), embed_images(encoder, data.x_test)

    def query(self, method: nn.Module, query: str, info: dict[str, Any]) -> torch.Tensor:
        """A query image file embedded as the index's images were (size, channels).
        Shape: (1, D)."""
        if not Path(query).is_file():
            raise UserError(
                f"--query {query!r}: no such file; an image run is searched with an image file"
            )
        encoder = encoder_of(method)
        h, w = info.get("image_hw", [0, 0])
        image = read_query(Path(query), channels=encoder_channels(encoder), size=(int(h), int(w)))
        return embed_images(encoder, image)

    def export_spec(self, method: nn.Module, *, max_items: int = 512) -> ExportSpec:
        """The encoder on uint8 images of the training size; the int8 cost as kNN top-1 of
        test images against training images (labelled data only)."""
        encoder = encoder_of(method)
        data = self.data
        channels = encoder_channels(encoder)
        x_train = match_channels(data.x_train, channels)
        c, h, w = (int(n) for n in x_train.shape[1:])
        tower = ExportTower(
            folder="",
            module=ImageInput(encoder),
            example_inputs=(x_train[:8],),
            input_names=("images",),
            preprocess=ImagePreprocess(height=h, width=w, channels=c),
        )
        if data.num_classes < 2:
            return ExportSpec((tower,), note=f"{data.name} has no labels: no kNN task")
        n_train, n_test = min(max_items, len(x_train)), min(max_items, len(data.x_test))
        quality = QualityTask(
            metric="knn_top1",
            query_tower="",
            queries=(match_channels(data.x_test[:n_test], channels),),
            candidate_tower="",
            candidates=(x_train[:n_train],),
            relevant=label_matches(data.y_test[:n_test], data.y_train[:n_train]),
        )
        return ExportSpec((tower,), quality)

    def pictures(self, ids: list[str]) -> Pictures | None:
        """A lazy folder's files (only under `data.path`), else the images in memory."""
        data = self.settings.data
        if lazy_folder_items(data) is not None:
            return file_pictures(ids, data.path)
        images = load_image_set(data)
        return memory_pictures(images.images, images.paths, ids)

    def report_views(self, method: nn.Module) -> tuple[EmbeddingViews | None, str]:
        """The test images embedded by the trained and by a random-init encoder."""
        data = self.eval_data
        torch.manual_seed(self.settings.seed)  # the random-init baseline uses this seed too
        random_encoder = self._encoder(self.settings.model.random_init())
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
    settings: Settings,
    data: ImageSplit,
    method: nn.Module,
    log: Log,
    *,
    budget_s: float | None = None,
) -> dict[str, Any]:
    """The image suite on `data`: label-free health only when it has fewer than 2 classes;
    `budget_s` holds the supervised baseline to about that many seconds."""
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
    in_channels, image_side = int(data.x_train.shape[1]), int(data.x_train.shape[2])
    side = settings.augment.size or image_side
    model = settings.model
    metrics = evaluate(
        encoder,
        data,
        settings.eval,
        augment=augment,
        make_encoder=lambda: build_encoder(
            settings.model.random_init(), in_channels, image_size=side
        ).to(device),
        feature_dim=encoder_feature_dim(settings.model),
        seed=settings.seed,
        budget_s=budget_s,
        log=log,
        make_pretrained=(
            (lambda: build_encoder(model.pretrained_frozen(), in_channels, image_size=side))
            if starts_pretrained(model)
            else None
        ),
        from_scratch=not loads_pretrained(model),
    )
    verdict = fine_tuning_verdict(metrics, len(data.y_test))
    if verdict is not None:
        log(verdict)
    return metrics
