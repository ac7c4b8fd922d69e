"""The paired modality: (image or spectrogram, text) pairs for CLIP / SigLIP; retrieval both
ways, zero-shot and a similarity picture as its evaluation."""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from contrastkit.audio.speech import COLUMNS as SPEECH_COLUMNS
from contrastkit.augment.build import build_augment
from contrastkit.augment.specaugment import SpecAugment
from contrastkit.augment.types import Augment
from contrastkit.batches import PairBatch
from contrastkit.data.caption_csv import COLUMNS as CAPTION_COLUMNS
from contrastkit.data.caption_csv import load_caption_pairs
from contrastkit.data.digit_captions import load_digit_captions
from contrastkit.data.fashion_captions import load_fashion_captions
from contrastkit.data.fashion_mnist import FASHION_MNIST_ROOT
from contrastkit.data.items import TensorItems
from contrastkit.data.pairs import PairData, PairSplit
from contrastkit.data.preprocess import AudioPreprocess, CharPreprocess, ImagePreprocess
from contrastkit.data.speech_pairs import load_speech_pairs
from contrastkit.data.table import csv_header
from contrastkit.data.text import read_text_lines
from contrastkit.data.video import holds_videos
from contrastkit.encoders.build import build_encoder
from contrastkit.encoders.registry import ENCODERS
from contrastkit.encoders.small_text import PAD, UNKNOWN, CharTokenizer
from contrastkit.encoders.traceable import SharedSpaceInputs, SharedSpaceTexts
from contrastkit.errors import UserError
from contrastkit.eval.crossmodal import retrieval_metrics, zero_shot_accuracy
from contrastkit.eval.crossmodal_languages import language_means, retrieval_by_language
from contrastkit.eval.crossmodal_table import crossmodal_table, language_table
from contrastkit.methods.registry import MethodSpec
from contrastkit.methods.towers import TwoTower, TwoTowerOptions, text_tokenizer
from contrastkit.modalities.base import (
    Embedded,
    EmbeddingViews,
    EmbedOptions,
    ExportSpec,
    ExportTower,
    Fitted,
    Log,
    Modality,
    QualityTask,
    Training,
    ZeroShotScores,
    label_matches,
)
from contrastkit.modalities.images.modality import ImageModality, evaluate_images
from contrastkit.modalities.images.videos import embed_videos
from contrastkit.modalities.metrics_table import MetricsTable, TablePicture
from contrastkit.modalities.pairs.inputs import (
    IMAGE_SUFFIXES,
    read_clips,
    read_image_folder,
    read_image_query,
    wav_files,
)
from contrastkit.modalities.pairs.recipe import speech_recipe
from contrastkit.modalities.pictures import Pictures, memory_pictures
from contrastkit.viz.similarity_matrix import similarity_figure, write_png

PAIR_SOURCES = ("digits_captions", "fashion_captions", "caption_csv", "speech")
SIMILARITY_PNG = "similarity.png"


def tower_options(options: object) -> TwoTowerOptions:
    """The method section of a paired run (CLIP's or SigLIP's: `check` made sure)."""
    if not isinstance(options, TwoTowerOptions):
        raise UserError(f"paired data needs a two-tower method, got {type(options).__name__}")
    return options


def as_two_tower(method: nn.Module) -> TwoTower:
    if not isinstance(method, TwoTower):
        raise UserError(f"paired data needs a two-tower method, got {type(method).__name__}")
    return method


CROSSMODAL = MetricsTable.of_block(
    "crossmodal",
    "Cross-modal retrieval",
    "cross-modal (%)",
    crossmodal_table,
    picture=TablePicture(
        "similarity",
        "similarity_png",
        "Similarity of a batch of test pairs",
        "Cosine similarity of each item (rows) to each text (columns); matching pairs lie on "
        "the diagonal.",
    ),
)


LANGUAGES = MetricsTable.of_block(
    "crossmodal",
    "Retrieval by language",
    "R@1 by spoken language and text language (%)",
    language_table,
)


class PairModality(Modality):
    """(x, text) pairs: x is an image (digit or Fashion-MNIST captions, caption CSV) or a
    log-mel clip."""

    name = "pairs"
    sources = PAIR_SOURCES
    batch_types = (PairBatch,)
    tables = (CROSSMODAL, LANGUAGES)

    @classmethod
    def claims(cls, path: Path) -> str | None:
        """'speech' for a .csv file whose header is a speech manifest's (path, text, voice,
        speed, pitch), 'caption_csv' for one with image_path and caption."""
        if path.suffix.lower() != ".csv" or not path.is_file():
            return None
        header = set(csv_header(path))
        if set(SPEECH_COLUMNS) <= header:
            return "speech"
        return "caption_csv" if set(CAPTION_COLUMNS) <= header else None

    def fitted_defaults(self) -> list[Fitted]:
        """For spoken words, the recipe of `configs/audio_text_languages.yaml` (`recipe.py`)."""
        d = self.settings.data
        return speech_recipe(Path(d.path).name if d.path else d.source) if self.speech else []

    @property
    def speech(self) -> bool:
        return self.settings.data.source == "speech"

    @property
    def digits(self) -> ImageModality | None:
        """The labelled digits behind "digits_captions": where the image tower is evaluated
        (probes, baselines) and mapped in the report."""
        if self.settings.data.source != "digits_captions":
            return None
        data = self.settings.data.model_copy(update={"source": "digits"})
        return ImageModality(replace(self.settings, data=data))

    def check(self, spec: MethodSpec) -> None:
        super().check(spec)
        encoder = self.settings.model.encoder
        takes = ENCODERS[encoder].takes
        if self.speech and takes != "log_mel":
            raise UserError("data.source='speech' needs model.encoder='audio_cnn'")
        if not self.speech and takes != "image":
            raise UserError(
                f"model.encoder={encoder!r} does not read the images of "
                f"{self.settings.data.source!r}"
            )

    def load(self, log: Log) -> PairData:
        """The pairs `data` names; bad files are counted and reported with `skip_bad`."""
        d = self.settings.data
        data: PairData
        if self.speech:
            data = load_speech_pairs(
                self.settings.audio,
                manifest=d.path,
                split_seed=d.split_seed,
                skip_bad=d.skip_bad,
                log=log,
            )
        elif d.source == "caption_csv":
            if d.path is None:
                raise UserError(
                    "data.source='caption_csv' needs data.path: a CSV image_path,caption"
                )
            data = load_caption_pairs(
                d.path,
                image_size=d.image_size or 32,
                test_fraction=d.test_fraction,
                split_seed=d.split_seed,
                skip_bad=d.skip_bad,
            )
        elif d.source == "fashion_captions":
            root = Path(d.path) if d.path else FASHION_MNIST_ROOT
            data = load_fashion_captions(root=root, seed=d.split_seed)
        else:
            data = load_digit_captions(test_fraction=d.test_fraction, split_seed=d.split_seed)
        if data.skipped:
            log(f"skipped {data.skipped} bad input files (--skip-bad)")
        return data

    @cached_property
    def data(self) -> PairData:
        return self.load(lambda _msg: None)

    def new_encoder(self) -> nn.Module:
        """The non-text tower (the method adds the text tower)."""
        if self.speech:
            return build_encoder(self.settings.model, 1)
        if self.settings.data.source == "fashion_captions":
            return build_encoder(self.settings.model, 1, image_size=28)
        if self.settings.data.source == "caption_csv":
            return build_encoder(
                self.settings.model, 3, image_size=self.settings.data.image_size or 32
            )
        return build_encoder(self.settings.model, 1, image_size=8)  # the 8x8 digits

    def views(self) -> Augment:
        """SpecAugment for spectrograms, the image views otherwise; texts are not augmented."""
        if self.speech:
            a = self.settings.audio
            return SpecAugment(
                time_masks=a.time_masks,
                time_mask_width=a.time_mask_width,
                freq_masks=a.freq_masks,
                freq_mask_width=a.freq_mask_width,
            )
        return build_augment(self.settings.augment)

    def training(self, spec: MethodSpec, log: Log) -> Training:
        """(x, token ids, group ids) of the training pairs, tokenised once with the
        text tower's tokenizer (characters, or a Hugging Face CLIP's; `method.text_max_len`)."""
        data = self.load(log)
        self.__dict__["data"] = data  # read once: evaluation reuses it
        tokenizer = text_tokenizer(self.settings.model, tower_options(self.settings.method))
        tokens = tokenizer.encode(data.train.texts)
        return Training(
            items=TensorItems(PairBatch(inputs=data.train.x, tokens=tokens, groups=data.train.ids)),
            views=self.views(),
            name=data.name,
            lines=[data.describe()],
        )

    def evaluate(
        self, method: nn.Module, run_dir: Path, log: Log, *, budget_s: float | None = None
    ) -> dict[str, Any]:
        """The digits suite on the image tower (digit captions only) and the `crossmodal`
        block; also writes `similarity.png` to `run_dir`."""
        result: dict[str, Any] = {}
        digits = self.digits
        if digits is not None:
            result.update(
                evaluate_images(digits.settings, digits.data, method, log, budget_s=budget_s)
            )
        tower = as_two_tower(method)
        data = self.data
        log(f"cross-modal retrieval and zero-shot on {', '.join(data.tests)}")
        block: dict[str, Any] = {
            name: split_report(tower, split, data.modality) for name, split in data.tests.items()
        }
        block["logit_scale"] = tower.logit_scale()
        bias = tower.logit_bias()
        if bias is not None:
            block["logit_bias"] = bias
        block["skipped_bad_files"] = data.skipped
        block["similarity_png"] = SIMILARITY_PNG
        similarity_picture(
            tower,
            data,
            run_dir / SIMILARITY_PNG,
            tower_options(self.settings.method).similarity_pairs,
        )
        result["crossmodal"] = block
        return result

    def embed(
        self, method: nn.Module, data: str, log: Log, options: EmbedOptions = EmbedOptions()
    ) -> Embedded:
        """Either side in the shared space (`options.side`).

        inputs: 'train' (the run's pairs: train then test splits, ids `SPLIT:i`), an image
        folder or array file (images; ids the file paths), a video file / folder of videos
        (image-text runs: frames sampled at `options.fps`; ids `VIDEO#t=SECONDS`), or a WAV
        file / folder of WAVs (audio-text runs), preprocessed as the training inputs. texts:
        'train' (the run's distinct texts; the id is the text) or a file of lines (ids
        `FILE:K`, K from 1).
        """
        tower = as_two_tower(method)
        pairs = self.data
        side = options.side
        info = {"side": side, "modality": pairs.modality}
        if side == "texts":
            if data == "train":
                texts = sorted({t for s in (pairs.train, *pairs.tests.values()) for t in s.texts})
                return Embedded(tower.embed_texts(texts), texts, pairs.name, info=info)
            path = Path(data)
            lines = read_text_lines(path)
            ids = [f"{path.name}:{k + 1}" for k in range(len(lines))]
            return Embedded(tower.embed_texts(lines), ids, path.name, info=info)
        if data == "train":
            splits = {"train": pairs.train, **pairs.tests}
            vectors = torch.cat([tower.embed_inputs(s.x) for s in splits.values()])
            ids = [f"{name}:{i}" for name, s in splits.items() for i in range(len(s.texts))]
            return Embedded(vectors, ids, pairs.name, info=info)
        path = Path(data)
        if holds_videos(path):
            if self.speech:
                raise UserError(f"--data {data}: videos need an image-text run; this is audio-text")
            c, h, w = (int(n) for n in pairs.train.x.shape[1:])
            frames = embed_videos(
                path, shape=(c, h, w), embed=tower.embed_inputs, options=options, log=log
            )
            return replace(frames, info={**frames.info, **info})
        if self.speech:
            paths = [path] if path.is_file() else wav_files(path)
            x = read_clips(paths, self.settings.audio, pairs, what="--data")
            log(f"data: {len(paths)} clips from {path}")
            return Embedded(tower.embed_inputs(x), [str(p) for p in paths], path.name, info=info)
        images, ids, _, _ = read_image_folder(self.settings.data, data, pairs.train.x)
        log(f"data: {len(ids)} images from {path} at {tuple(images.shape[1:])}")
        return Embedded(tower.embed_inputs(images), ids, path.name, info=info)

    def reference(self, method: nn.Module, log: Log) -> tuple[Tensor, Tensor]:
        """The training inputs and the first test split's inputs in the shared space."""
        tower, pairs = as_two_tower(method), self.data
        first = next(iter(pairs.tests.values()))
        return tower.embed_inputs(pairs.train.x), tower.embed_inputs(first.x)

    def query(self, method: nn.Module, query: str, info: dict[str, Any]) -> Tensor:
        """In the shared space: an image file (or a WAV for audio-text runs) by the inputs
        tower, against either index (the inputs most like it, or its best texts); any other
        query is a text, against an index of inputs (text -> image / audio). Shape: (1, E).

        Raises:
            UserError: a text against an index of texts, or a file that is not readable.
        """
        tower, pairs = as_two_tower(method), self.data
        path = Path(query)
        if path.suffix.lower() in (*IMAGE_SUFFIXES, ".wav") or path.is_file():
            if self.speech:
                return tower.embed_inputs(
                    read_clips([path], self.settings.audio, pairs, what="--query")
                )
            return tower.embed_inputs(read_image_query(path, pairs.train.x))
        if info.get("side", "inputs") == "texts":
            raise UserError(
                f"--query {query!r}: the index holds texts; search it with "
                f"{'a .wav clip' if self.speech else 'an image file'} (or --text TEXT)"
            )
        return tower.embed_texts([query])

    def query_text(self, method: nn.Module, text: str, info: dict[str, Any]) -> Tensor:
        """`search --text`: the text tower's embedding, against an index of inputs (videos,
        images, clips) or of texts. Shape: (1, E)."""
        return as_two_tower(method).embed_texts([text])

    def zero_shot(
        self, method: nn.Module, labels: list[str], data: str, templates: list[str], log: Log
    ) -> ZeroShotScores:
        """Class probabilities of each input of `data` over `labels`, each label embedded as
        the mean of its prompts (`template.format(label)`), as in CLIP: the softmax of the
        logit-scaled cosines; the true label is -1 for a folder class or a split text not
        among `labels`.

        Args:
            data: 'test' (the run's first test split) or an image folder / array file.
        """
        tower, pairs = as_two_tower(method), self.data
        prompts = [[t.format(label) for t in templates] for label in labels]
        class_emb = torch.nn.functional.normalize(
            torch.stack([tower.embed_texts(p).mean(dim=0) for p in prompts]), dim=1
        )  # (K, E)
        position = {label.lower(): i for i, label in enumerate(labels)}
        if data == "test":
            name, split = next(iter(pairs.tests.items()))
            x, ids = split.x, [f"{name}:{i}" for i in range(len(split.texts))]
            truth = torch.tensor([_label_of(t, position) for t in split.texts], dtype=torch.int64)
        elif self.speech:
            path = Path(data)
            paths = [path] if path.is_file() else wav_files(path)
            x = read_clips(paths, self.settings.audio, pairs, what="--data")
            ids = [str(p) for p in paths]
            truth = torch.tensor([position.get(p.parent.name.lower(), -1) for p in paths])
        else:
            x, ids, names, folder_labels = read_image_folder(
                self.settings.data, data, pairs.train.x
            )
            truth = torch.tensor(
                [
                    position.get(names[c].lower(), -1) if c >= 0 else -1
                    for c in folder_labels.tolist()
                ],
                dtype=torch.int64,
            )
        logits = tower.embed_inputs(x) @ class_emb.T * tower.logit_scale()  # (N, K)
        return ZeroShotScores(ids, logits.softmax(dim=1), truth)

    def export_spec(self, method: nn.Module, *, max_items: int = 512) -> ExportSpec:
        """Two models into the shared space: 'inputs' (uint8 images, or standardised
        log-mel clips) and 'texts' (character ids); the int8 cost as Recall@1 of the first
        test split's inputs against its distinct texts."""
        tower = as_two_tower(method)
        tokenizer = tower.tokenizer
        if not isinstance(tokenizer, CharTokenizer):
            raise UserError(
                "export: runs with a Hugging Face CLIP text tower are not exported yet (the "
                "character text tower is)"
            )
        data = self.data
        x = data.train.x[:8]
        if self.speech:
            a = self.settings.audio
            mean, std = data.input_stats or (0.0, 1.0)
            pre: AudioPreprocess | ImagePreprocess = AudioPreprocess(
                sample_rate=a.sample_rate,
                clip_seconds=a.clip_seconds,
                n_fft=a.n_fft,
                hop_length=a.hop_length,
                n_mels=a.n_mels,
                mean=mean,
                std=std,
            )
            names: tuple[str, ...] = ("logmel",)
        else:
            c, h, w = (int(n) for n in x.shape[1:])
            pre = ImagePreprocess(height=h, width=w, channels=c)
            names = ("images",)
        inputs = ExportTower(
            folder="inputs",
            module=SharedSpaceInputs(tower),
            example_inputs=(x,),
            input_names=names,
            preprocess=pre,
        )
        texts = ExportTower(
            folder="texts",
            module=SharedSpaceTexts(tower),
            example_inputs=(tokenizer.encode(data.train.texts[:8]),),
            input_names=("ids",),
            preprocess=CharPreprocess(
                alphabet=tokenizer.alphabet,
                max_len=tokenizer.max_len,
                pad_id=PAD,
                unknown_id=UNKNOWN,
            ),
        )
        _, split = next(iter(data.tests.items()))
        unique, t_ids = split.unique_texts()
        n = min(max_items, len(split.texts))
        quality = QualityTask(
            metric="recall_at_1",
            query_tower="inputs",
            queries=(split.x[:n],),
            candidate_tower="texts",
            candidates=(tokenizer.encode(unique),),
            relevant=label_matches(split.ids[:n], t_ids),
        )
        return ExportSpec((inputs, texts), quality)

    def pictures(self, ids: list[str]) -> Pictures | None:
        """The images of an image-text run's pairs (ids as `embed` gives them); None for
        spoken words."""
        if self.speech:
            return None
        splits = {"train": self.data.train, **self.data.tests}
        xs = torch.cat([s.x for s in splits.values()])
        names = [f"{name}:{i}" for name, s in splits.items() for i in range(len(s.texts))]
        return memory_pictures(xs, names, ids)

    def report_views(self, method: nn.Module) -> tuple[EmbeddingViews | None, str]:
        digits = self.digits
        if digits is None:
            return None, "embedding maps are drawn for the digit captions' image tower only"
        return digits.report_views(method)


def _label_of(text: str, position: dict[str, int]) -> int:
    """The label a pair's text names: the whole text, else the one label word it contains."""
    if text.lower() in position:
        return position[text.lower()]
    words = set(text.lower().replace(",", " ").replace(".", " ").split())
    found = [i for label, i in position.items() if label in words]
    return found[0] if len(found) == 1 else -1


def split_report(method: TwoTower, split: PairSplit, modality: str) -> dict[str, Any]:
    """Retrieval both ways (candidates: each distinct text once; all samples) and the
    zero-shot accuracy from the split's prompts (mean prompt embedding per class)."""
    x_emb = method.embed_inputs(split.x)
    texts, t_ids = split.unique_texts()
    t_emb = method.embed_texts(texts)
    report: dict[str, Any] = {
        f"{modality}_to_text": retrieval_metrics(x_emb, t_emb, split.ids, t_ids),
        f"text_to_{modality}": retrieval_metrics(t_emb, x_emb, t_ids, split.ids),
    }
    if len(set(split.languages)) > 1:
        report.update(language_report(method, x_emb, split, modality))
    if split.prompts:
        class_ids = sorted(split.prompts)
        class_emb = torch.stack(
            [method.embed_texts(split.prompts[c]).mean(dim=0) for c in class_ids]
        )  # (K, E)
        report["zero_shot_top1"] = zero_shot_accuracy(
            x_emb, class_emb, split.ids, torch.tensor(class_ids)
        )
        report["zero_shot_chance"] = 1.0 / len(class_ids)
    return report


def language_report(
    method: TwoTower, x_emb: Tensor, split: PairSplit, modality: str
) -> dict[str, Any]:
    """Inputs of each language against the texts of each language (`retrieval_by_language`)
    and the mean Recall@1 within and across languages."""
    texts, t_ids, t_languages = split.unique_texts_by_language()
    table = retrieval_by_language(
        x_emb, split.ids, split.languages, method.embed_texts(texts), t_ids, t_languages
    )
    return {f"{modality}_to_text_by_language": table, **language_means(table)}


def similarity_picture(method: TwoTower, data: PairData, path: Path, n_pairs: int) -> None:
    """One sample per group of the first test split (up to `n_pairs`; the languages of a
    multilingual split in turn) against their texts, as `similarity.png`."""
    name, split = next(iter(data.tests.items()))
    rows = split.one_per_group(n_pairs)
    labels = [split.texts[i] for i in rows]
    sim = method.embed_inputs(split.x[rows]) @ method.embed_texts(labels).T  # (n, n)
    title = f"{data.name} {name}: {data.modality}-text cosine similarity (true pairs boxed)"
    write_png(similarity_figure(sim.numpy(), labels, row_name=data.modality, title=title), path)
