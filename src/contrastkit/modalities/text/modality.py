"""The text modality: tokenise once, dropout views (SimCSE) or given pairs, held-out retrieval."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from contrastkit.augment.text import dropout_views
from contrastkit.batches import SentenceBatch, TextPairBatch
from contrastkit.data.items import TensorItems
from contrastkit.data.preprocess import TokenizerPreprocess
from contrastkit.data.table import csv_header
from contrastkit.data.text import PAIR_COLUMNS, read_text_lines
from contrastkit.data.text_split import TextData
from contrastkit.encoders.text import embed_tokens, load_text_encoder, load_tokenizer, tokenize
from contrastkit.encoders.traceable import TextEmbedding
from contrastkit.errors import UserError
from contrastkit.eval.health import embedding_std, rankme, uniformity
from contrastkit.eval.text_retrieval import SPEARMAN_NOTE, evaluate_retrieval
from contrastkit.eval.text_table import text_metrics_table
from contrastkit.methods.registry import MethodSpec
from contrastkit.methods.simcse import sentence_tensors
from contrastkit.methods.text_pairs import pair_tensors
from contrastkit.modalities.base import (
    Embedded,
    EmbedOptions,
    Example,
    Examples,
    ExportSpec,
    ExportTower,
    Fitted,
    Log,
    Modality,
    QualityTask,
    SentenceTransformerExport,
    Training,
)
from contrastkit.modalities.images.modality import encoder_of
from contrastkit.modalities.metrics_table import MetricsTable
from contrastkit.modalities.text.recipe import text_recipe
from contrastkit.modalities.text.sources import TEXT_SOURCES, load_text_data

NOT_TEXT = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".wav", ".npy", ".csv")
"""File suffixes a text query is refused with (the wrong kind of query for a text run)."""


TEXT_TABLE = MetricsTable(
    "text", "Text retrieval, base model and fine-tuned", "held-out text task", text_metrics_table
)


class TextModality(Modality):
    """Sentences on an offline transformer (`text.model`)."""

    name = "text"
    suite_table = False  # its own table: the held-out task, the base model beside the run
    sources = TEXT_SOURCES
    batch_types = (SentenceBatch, TextPairBatch)
    tables = (TEXT_TABLE,)

    @classmethod
    def claims(cls, path: Path) -> str | None:
        """'text_lines' for a .txt file (one sentence per line), 'text_pairs' for a .jsonl
        file or a .csv file whose header has anchor and positive."""
        suffix = path.suffix.lower()
        if suffix == ".txt":
            return "text_lines"
        if suffix == ".jsonl":
            return "text_pairs"
        if suffix == ".csv" and path.is_file() and set(PAIR_COLUMNS) <= set(csv_header(path)):
            return "text_pairs"
        return None

    def fitted_defaults(self) -> list[Fitted]:
        """The recipe for pairs or for plain lines (`recipe.py`)."""
        d = self.settings.data
        return text_recipe(d.source, Path(d.path).name if d.path else d.source)

    @cached_property
    def data(self) -> TextData:
        return load_text_data(self.settings.data, self.settings.text)

    @cached_property
    def tokenizer(self) -> Any:
        return load_tokenizer(self.settings.text.model)

    def new_encoder(self) -> nn.Module:
        text = self.settings.text
        return load_text_encoder(text.model, normalize=text.normalize)

    def training(self, spec: MethodSpec, log: Log) -> Training:
        """Tokenise the training texts once: pairs (with hard negatives when the data has
        them) for a pair method, distinct sentences for SimCSE.

        Raises:
            UserError: a pair method on a corpus without pairs (text_lines).
        """
        data, max_length = self.data, self.settings.text.max_length
        batch: SentenceBatch | TextPairBatch
        if spec.batch is TextPairBatch:
            if data.pairs is None:
                raise UserError(
                    f"method.name: {spec.name} needs pairs (data.source wordnet or text_pairs); "
                    "text_lines gives plain sentences, for simcse"
                )
            batch = pair_tensors(self.tokenizer, data.pairs, max_length=max_length)
            per_sample = 3 if data.pairs.negatives is not None else 2
            what = f"{len(data.pairs)} pairs" + (" + hard negatives" if per_sample == 3 else "")
        else:
            batch = sentence_tensors(self.tokenizer, data.sentences, max_length=max_length)
            per_sample = 1
            what = f"{len(data.sentences)} sentences"
        test = (
            "no held-out task"
            if data.test is None
            else f"held-out: {len(data.test.queries)} queries / {len(data.test.corpus)} candidates"
        )
        return Training(
            items=TensorItems(batch),
            views=dropout_views,
            name=data.name,
            lines=[f"data: {data.name}, {what}; {test}; model {self.settings.text.model}"],
            per_sample={"train_sentences_per_s": per_sample},
        )

    def evaluate(
        self, method: nn.Module, run_dir: Path, log: Log, *, budget_s: float | None = None
    ) -> dict[str, Any]:
        """The held-out retrieval task for the trained encoder and the untrained base model.

        Returns:
            `eval.retrieval` (Recall@1, mAP of the trained encoder), `health`, and a `text`
            block: task sizes, trained and base metrics, encoding speed, the Spearman note.
        """
        task = self.data.test
        if task is None:  # label-free health of (a seeded sample of) the training lines
            lines = self.data.sentences
            picked = np.random.default_rng(self.settings.seed).permutation(len(lines))
            z = self._embed_texts(
                method, [lines[i] for i in picked[: self.settings.eval.max_items]]
            )
            return {
                "health": {
                    "rankme": rankme(z),
                    "emb_std": embedding_std(z),
                    "uniformity": uniformity(z),
                },
                "text": {"task": None, "note": "no held-out task (set text.eval_pairs)"},
            }
        text = self.settings.text
        kwargs: dict[str, Any] = {"max_length": text.max_length, "batch_size": text.eval_batch_size}
        encoder = encoder_of(method)
        log(f"evaluating on {task.name}")
        trained = evaluate_retrieval(encoder, self.tokenizer, task, **kwargs)
        log("baseline: the base model before training")
        base_encoder = self.new_encoder().to(next(encoder.parameters()).device)
        base = evaluate_retrieval(base_encoder, self.tokenizer, task, **kwargs)
        health = trained.pop("health")
        base.pop("health")
        return {
            "eval": {"retrieval": {"recall_at_1": trained["recall_at_1"], "map": trained["map"]}},
            "health": health,
            "text": {
                "task": task.name,
                "queries": len(task.queries),
                "corpus": len(task.corpus),
                "trained": trained,
                "base": base,
                "spearman": None,
                "spearman_note": SPEARMAN_NOTE,
            },
        }

    def _embed_texts(self, method: nn.Module, texts: list[str]) -> torch.Tensor:
        return self._embed_with(encoder_of(method), texts)

    def _embed_with(self, encoder: nn.Module, texts: list[str]) -> torch.Tensor:
        text = self.settings.text
        tokens = tokenize(self.tokenizer, texts, max_length=text.max_length)
        return embed_tokens(encoder, tokens, batch_size=text.eval_batch_size)

    def embed(
        self, method: nn.Module, data: str, log: Log, options: EmbedOptions = EmbedOptions()
    ) -> Embedded:
        """'train' (a run on a file of lines: that file, as below; else the run's training
        sentences, ids `train:K`), or the non-blank lines of a UTF-8 text file in file order
        (ids `FILE:K` for the K-th non-blank line, from 1); each row is shown as its
        sentence."""
        d = self.settings.data
        if data == "train" and d.source == "text_lines" and d.path is not None:
            data = d.path  # the lines by their place in the file, not in the training set
        if data == "train":
            lines, name = self.data.sentences, self.data.name
            ids = [f"train:{i}" for i in range(len(lines))]
        else:
            path = Path(data)
            lines, name = read_text_lines(path), path.name
            ids = [f"{path.name}:{i + 1}" for i in range(len(lines))]
        return Embedded(self._embed_texts(method, lines), ids, name, shown=lines)

    def query(self, method: nn.Module, query: str, info: dict[str, Any]) -> torch.Tensor:
        """A text query embedded as the index's lines were. Shape: (1, D).

        Raises:
            UserError: the query is an image or audio file (a text run reads texts).
        """
        if Path(query).suffix.lower() in NOT_TEXT and Path(query).is_file():
            raise UserError(f"--query {query}: this is a text run; give a text, not a file")
        return self._embed_texts(method, [query])

    def query_text(self, method: nn.Module, text: str, info: dict[str, Any]) -> torch.Tensor:
        """`search --text`: the text embedded as the index's lines were. Shape: (1, D)."""
        return self._embed_texts(method, [text])

    def report_examples(self, method: nn.Module, *, queries: int = 6, k: int = 3) -> Examples:
        """The first `queries` queries of the held-out task and their `k` best candidates by
        the trained and by the base model (a tick marks a right answer); without a task, the
        first lines of the training text and their nearest other lines."""
        task = self.data.test
        if task is None:
            candidates = self.data.sentences
            asked, relevant = candidates[:queries], None
        else:
            asked, candidates = task.queries[:queries], task.corpus
            relevant = [set(r) for r in task.relevant[:queries]]
        trained = encoder_of(method)
        base = self.new_encoder().to(next(trained.parameters()).device)

        def best(encoder: nn.Module) -> list[list[tuple[str, bool | None]]]:
            sims = self._embed_with(encoder, asked) @ self._embed_with(encoder, candidates).T
            found = []
            for i, order in enumerate(sims.argsort(dim=1, descending=True).tolist()):
                top = [j for j in order if task is not None or j != i][:k]
                found.append([(candidates[j], None if relevant is None else j in relevant[i])
                              for j in top])  # fmt: skip
            return found

        where = "the held-out task" if task is not None else "the training lines"
        return Examples(
            f"Queries and their best candidates ({where}, cosine)",
            f"The first queries of {where}, with the {k} most similar candidates by the "
            "trained encoder and by the base model before training, best first"
            + ("; a tick marks a right answer." if task is not None else "."),
            [
                Example(text, hits, base_hits)
                for text, hits, base_hits in zip(asked, best(trained), best(base), strict=True)
            ],
        )

    def export_spec(self, method: nn.Module, *, max_items: int = 512) -> ExportSpec:
        """The transformer with mean pooling on (input_ids, attention_mask), free batch and
        sequence length, with its tokenizer; the int8 cost as Recall@1 of the held-out task."""
        text = self.settings.text
        encoder = encoder_of(method)
        embedding = TextEmbedding(encoder)

        def tokens(texts: list[str]) -> tuple[torch.Tensor, ...]:
            t = tokenize(self.tokenizer, texts, max_length=text.max_length)
            return (t.ids, t.mask)

        # texts of unequal length, so that the parity check sees padding
        sample = sorted(self.data.sentences[:64], key=len)
        examples = [sample[0], sample[-1], *sample[1:7]] if len(sample) > 2 else sample * 2
        tower = ExportTower(
            folder="",
            module=embedding,
            example_inputs=tokens(examples),
            input_names=("input_ids", "attention_mask"),
            preprocess=TokenizerPreprocess(
                tokenizer_dir="tokenizer",
                max_length=text.max_length,
                normalized=embedding.normalize,
            ),
            dynamic_axes={"input_ids": {1: "sequence"}, "attention_mask": {1: "sequence"}},
            tokenizer=self.tokenizer,
            sentence_transformer=SentenceTransformerExport(encoder, text.max_length),
        )
        task = self.data.test
        if task is None:
            return ExportSpec((tower,), note="no held-out task (set text.eval_pairs)")
        queries, corpus = task.queries[:max_items], task.corpus
        relevant = np.zeros((len(queries), len(corpus)), dtype=bool)
        for i, hits in enumerate(task.relevant[: len(queries)]):
            relevant[i, hits] = True
        quality = QualityTask(
            metric="recall_at_1",
            query_tower="",
            queries=tokens(queries),
            candidate_tower="",
            candidates=tokens(corpus),
            relevant=relevant,
        )
        return ExportSpec((tower,), quality)
