"""`contrastkit train` against sentence-transformers' `SentenceTransformerTrainer` with
MultipleNegativesRankingLoss: the same MiniLM, the same WordNet pairs (each trainer shuffles
them with its own sampler, seeded by the job's seed), the same batch size, learning rate,
weight decay, clipping, number of steps and precision (float32, or bfloat16 autocast with
float32 weights), one CPU thread each.

Each trainer runs in a child process of its own (`python benchmarks/text_trainers.py NAME
JOB_JSON`, started by `benchmarks/text.py`), so that its peak resident memory is its own,
and prints one JSON line: training seconds (wall: contrastkit's training clock, which leaves
out writing its checkpoint, as the trainer beside it writes none; process CPU, from the first
step to the end of training, its checkpoint included), sentences/s by each clock,
peak RSS at the end of training, and the held-out Recall@1 / MRR / mAP of its trained
model, scored by the same `ranking_metrics` on the same task.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from contrastkit.config import load_config
from contrastkit.encoders.text import resolve_model_dir
from contrastkit.eval.text_retrieval import ranking_metrics, relevance_matrix
from contrastkit.modalities.text.sources import load_text_data

CONFIG = "configs/text_pairs.yaml"


def settings(job: dict[str, Any]) -> list[str]:
    """The config overrides both trainers follow (bf16 autocast when `job["bf16"]`)."""
    return [
        f"seed={job['seed']}",  # the initial state and the order of batches; the split is fixed
        f"train.amp={str(job['bf16']).lower()}",
        "text.hard_negatives=false",
        f"text.wordnet_train_synsets={job['train_synsets']}",
        f"text.wordnet_test_synsets={job['test_synsets']}",
        f"train.batch_size={job['batch_size']}",
        "train.epochs=1",
        "eval.baselines=false",
        "health.every=0",  # no monitoring while training: the trainer beside us does none
    ]


def peak_rss_mib() -> float:
    """This process's peak resident set size."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def held_out(job: dict[str, Any], embed: Any) -> dict[str, float]:
    """Recall@1, MRR and mAP of `embed` (texts -> (N, D)) on the held-out task."""
    cfg = load_config(CONFIG, settings(job))
    task = load_text_data(cfg.data, cfg.text).test
    assert task is not None
    metrics = ranking_metrics(
        embed(task.queries), embed(task.corpus), relevance_matrix(task.relevant, len(task.corpus))
    )
    return {k: metrics[k] for k in ("recall_at_1", "mrr", "map")}


def run_contrastkit(job: dict[str, Any]) -> dict[str, Any]:
    """`train_run` on the pairs (the run's own evaluation gives the held-out metrics)."""
    from contrastkit.run import train_run

    cfg = load_config(CONFIG, settings(job))
    cpu: dict[str, float] = {}

    def log(line: str) -> None:  # the speed line comes right before the first step
        if line.startswith("speed:"):
            cpu["start"] = time.process_time()

    def epoch_done(_epoch: int) -> None:  # the one epoch: training is over
        cpu["end"], cpu["peak_rss_mib"] = time.process_time(), peak_rss_mib()

    with tempfile.TemporaryDirectory() as tmp:
        metrics = train_run(
            cfg, Path(tmp) / "run", show_progress=False, log=log, on_epoch_end=epoch_done
        )
    steps = round(metrics["samples_per_s"] * metrics["train_time_s"] / cfg.train.batch_size)
    sentences, cpu_s = 2 * steps * cfg.train.batch_size, cpu["end"] - cpu["start"]
    trained = metrics["text"]["trained"]
    return {
        "steps": steps,
        "train_s": metrics["train_time_s"],
        "process_cpu_s": cpu_s,
        "sentences_per_s": metrics["train_sentences_per_s"],
        "sentences_per_cpu_s": sentences / cpu_s,
        "peak_rss_mib": cpu["peak_rss_mib"],
        **{k: trained[k] for k in ("recall_at_1", "mrr", "map")},
        "base": {k: metrics["text"]["base"][k] for k in ("recall_at_1", "mrr", "map")},
    }


def run_sentence_transformers(job: dict[str, Any]) -> dict[str, Any]:
    """`SentenceTransformerTrainer` with `MultipleNegativesRankingLoss` (scale 20 =
    temperature 0.05) on the same pairs, batch size, lr, weight decay, clipping and
    precision, its batches without duplicate texts (its sampler for this loss)."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers

    cfg = load_config(CONFIG, settings(job))
    pairs = load_text_data(cfg.data, cfg.text).pairs
    assert pairs is not None
    model = SentenceTransformer(
        str(resolve_model_dir(cfg.text.model)), device="cpu", local_files_only=True
    )
    model.max_seq_length = cfg.text.max_length
    data = Dataset.from_dict({"anchor": pairs.anchors, "positive": pairs.positives})
    steps = len(pairs) // cfg.train.batch_size
    with tempfile.TemporaryDirectory() as tmp:
        args = SentenceTransformerTrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=cfg.train.batch_size,
            max_steps=steps,
            learning_rate=cfg.train.lr,
            weight_decay=cfg.train.weight_decay,
            max_grad_norm=cfg.train.grad_clip or 0.0,
            warmup_steps=0,
            batch_sampler=BatchSamplers.NO_DUPLICATES,
            dataloader_drop_last=True,
            report_to="none",
            save_strategy="no",
            logging_steps=10_000,
            disable_tqdm=True,
            seed=cfg.seed,
            use_cpu=True,
            bf16=job["bf16"],  # autocast to bfloat16, as contrastkit's train.amp
        )
        loss = MultipleNegativesRankingLoss(model, scale=1.0 / cfg.method.temperature)  # type: ignore[attr-defined]
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss)
        wall, cpu = time.perf_counter(), time.process_time()
        trainer.train()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = peak_rss_mib()
    model.eval()

    def embed(texts: list[str]) -> torch.Tensor:
        return model.encode(texts, batch_size=128, convert_to_tensor=True).cpu()

    return {
        "steps": steps,
        "train_s": wall,
        "process_cpu_s": cpu,
        "sentences_per_s": 2 * steps * cfg.train.batch_size / wall,
        "sentences_per_cpu_s": 2 * steps * cfg.train.batch_size / cpu,
        "peak_rss_mib": peak,
        **held_out(job, embed),
    }


TRAINERS = {"contrastkit": run_contrastkit, "sentence_transformers": run_sentence_transformers}


if __name__ == "__main__":
    name, job_json = sys.argv[1], sys.argv[2]
    job = json.loads(job_json)
    torch.set_num_threads(job["threads"])
    torch.manual_seed(job["seed"])
    print("RESULT " + json.dumps(TRAINERS[name](job)), flush=True)
