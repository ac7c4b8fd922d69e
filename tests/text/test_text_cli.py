"""`contrastkit train` on text: bad input exits 2 with one clear line; a tiny run on CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from contrastkit.cli import main
from contrastkit.data.text import read_text_pairs
from contrastkit.data.text_split import split_by_group
from contrastkit.encoders.text import embed_tokens, load_text_encoder, load_tokenizer, tokenize
from contrastkit.eval.text_retrieval import ranking_metrics, relevance_matrix
from contrastkit.report.run_report import report_run
from contrastkit.run import eval_run, load_run
from contrastkit.use import embed_run

FAST = [
    "--set",
    "train.epochs=1",
    "--set",
    "train.batch_size=4",
    "--set",
    "train.warmup_epochs=0",
    "--no-progress",
]


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return int(exit_info.value.code or 0)


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("source", "method", "name", "content", "message"),
    [
        ("text_lines", "simcse", "empty.txt", b"\n\n", "empty.txt: no text"),
        (
            "text_lines",
            "simcse",
            "bad.txt",
            b"ok\n\xc3(\n",
            "bad.txt: line 2, byte 1: invalid UTF-8",
        ),
        (
            "text_pairs",
            "text_pairs",
            "cols.csv",
            b"anchor,text\na,b\n",
            "cols.csv: line 1: missing column 'positive'",
        ),
        (
            "text_pairs",
            "text_pairs",
            "rag.csv",
            b"anchor,positive\na,b\nc\n",
            "rag.csv: line 3: expected 2 fields",
        ),
        ("text_lines", "text_pairs", "ok.txt", b"a\nb\n", "text_pairs needs pairs"),
    ],
)
def test_bad_text_input_exits_2_naming_the_place(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tiny_model: str,
    source: str,
    method: str,
    name: str,
    content: bytes,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    code = run_cli(
        monkeypatch,
        "train",
        "--out",
        str(tmp_path / "run"),
        "--set",
        f"data.source={source}",
        "--set",
        f"data.path={path}",
        "--set",
        f"method.name={method}",
        "--set",
        f"text.model={tiny_model}",
        *FAST,
    )
    err = one_line(capsys.readouterr().err)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_text_method_on_image_data_and_missing_model_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(
        monkeypatch, "train", "--out", str(tmp_path / "a"), "--set", "method.name=simcse"
    )
    assert code == 2
    assert "'simcse' does not train on images" in one_line(capsys.readouterr().err)
    code = run_cli(
        monkeypatch,
        "train",
        "--config",
        "configs/text_simcse.yaml",
        "--out",
        str(tmp_path / "b"),
        "--set",
        f"text.model={tmp_path / 'no_model'}",
    )
    assert code == 2
    assert "no_model is not a model directory" in one_line(capsys.readouterr().err)


@pytest.mark.slow
def test_cli_process_exit_code_is_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "contrastkit",
            "train",
            "--config",
            "configs/text_pairs.yaml",
            "--out",
            str(tmp_path / "run"),
            "--set",
            "data.source=text_pairs",
            "--set",
            f"data.path={tmp_path / 'missing.jsonl'}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "missing.jsonl: file not found" in one_line(result.stderr)
    assert "Traceback" not in result.stderr


WORDS = [
    "red",
    "blue",
    "green",
    "fox",
    "dog",
    "cat",
    "bird",
    "fish",
    "tree",
    "house",
    "river",
    "stone",
]
TARGETS = [
    "sea",
    "sky",
    "land",
    "bank",
    "money",
    "fire",
    "water",
    "light",
    "dark",
    "fast",
    "slow",
    "small",
]


@pytest.mark.slow
def test_tiny_fine_tuning_run_learns_its_pairs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tiny_model: str,
) -> None:
    """Arbitrary word -> word pairs (nothing a random model could know): after 15 epochs
    the trained encoder retrieves every training pair's target, the base does not (seeds 0-5
    all reach 1.0 at 15 epochs; at 10, one or two of them stop at 0.78-0.89, by which
    dropout masks they draw); the run directory reloads to the same evaluation."""
    pairs = tmp_path / "pairs.jsonl"
    rows = [{"anchor": f"the {w}", "positive": t} for w, t in zip(WORDS, TARGETS, strict=True)]
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "run"
    code = run_cli(
        monkeypatch,
        "train",
        "--config",
        "configs/text_pairs.yaml",
        "--out",
        str(out),
        "--set",
        "data.source=text_pairs",
        "--set",
        f"data.path={pairs}",
        "--set",
        "data.test_fraction=0.25",
        "--set",
        f"text.model={tiny_model}",
        "--set",
        "text.hard_negatives=false",
        "--set",
        "train.epochs=15",
        "--set",
        "train.batch_size=9",
        "--set",
        "train.lr=0.003",
        "--set",
        "train.warmup_epochs=0",
        "--no-progress",
    )
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    text = metrics["text"]
    assert text["queries"] == 3 and text["corpus"] == 3  # 25% of 12 anchors held out
    assert metrics["eval"]["retrieval"]["recall_at_1"] == text["trained"]["recall_at_1"]
    assert metrics["train_sentences_per_s"] == pytest.approx(2 * metrics["samples_per_s"])
    assert text["spearman"] is None and "no graded" in text["spearman_note"]

    _, _, method = load_run(out)
    tokenizer = load_tokenizer(tiny_model)
    train_pairs, _ = split_by_group(read_text_pairs(pairs), test_fraction=0.25, seed=0)

    def train_recall(encoder: torch.nn.Module) -> float:
        q = embed_tokens(encoder, tokenize(tokenizer, train_pairs.anchors, max_length=16))
        c = embed_tokens(encoder, tokenize(tokenizer, train_pairs.positives, max_length=16))
        n = len(train_pairs)
        return ranking_metrics(q, c, relevance_matrix([[i] for i in range(n)], n))["recall_at_1"]

    base = train_recall(load_text_encoder(tiny_model, normalize=True))
    trained = train_recall(method.encoder)
    assert len(train_pairs) == 9
    assert trained == 1.0 and base < 0.8

    lines = tmp_path / "lines.txt"
    lines.write_text("the red\n\nsea\n")
    assert embed_run(out, str(lines), tmp_path / "emb.npy") == (2, 32)
    expected = embed_tokens(method.encoder, tokenize(tokenizer, ["the red", "sea"], max_length=32))
    np.testing.assert_allclose(np.load(tmp_path / "emb.npy"), expected.numpy(), atol=1e-6)
    assert run_cli(monkeypatch, "index", "--run", str(out), "--data", str(lines)) == 0
    capsys.readouterr()
    assert run_cli(monkeypatch, "search", "--run", str(out), "--text", "the red", "--json") == 0
    hits = json.loads(capsys.readouterr().out)["hits"]  # the sentence, not only its line
    assert [(h["id"], h["shown"]) for h in hits] == [
        ("lines.txt:1", "the red"),
        ("lines.txt:2", "sea"),
    ]

    again = eval_run(out, log=lambda _msg: None)
    assert again["text"]["trained"]["mrr"] == pytest.approx(text["trained"]["mrr"], abs=1e-6)
    assert again["text"]["base"]["mrr"] == pytest.approx(text["base"]["mrr"], abs=1e-6)

    page = report_run(out, projections=("pca",), log=lambda _msg: None).read_text()
    assert "Text retrieval, base model and fine-tuned" in page and ">base model</td>" in page
    assert 'id="examples"' in page and "<th>base model</th>" in page  # queries and hits
    for absent in ("not drawn", "no label metrics", "Metrics against the baselines", "map-pca"):
        assert absent not in page  # nothing that does not apply to text


@pytest.mark.slow
def test_simcse_on_text_lines_is_evaluated_on_eval_pairs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model: str
) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(
        "".join(f"the {w} and the {t}\n" for w, t in zip(WORDS, TARGETS, strict=True))
    )
    eval_pairs = tmp_path / "eval.csv"
    eval_pairs.write_text("anchor,positive\nthe red fox,fox\nthe blue sea,sea\na dog,dog\n")
    out = tmp_path / "run"
    args = ["train", "--config", "configs/text_simcse.yaml", "--out", str(out)]
    args += ["--set", "data.source=text_lines", "--set", f"data.path={corpus}"]
    args += ["--set", f"text.eval_pairs={eval_pairs}", "--set", f"text.model={tiny_model}"]
    assert run_cli(monkeypatch, *args, *FAST) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"] == "corpus" and metrics["method"] == "simcse"
    assert metrics["text"]["task"] == "eval.csv: anchor -> positive"
    assert (metrics["text"]["queries"], metrics["text"]["corpus"]) == (3, 3)
    assert metrics["train_sentences_per_s"] == pytest.approx(metrics["samples_per_s"])
