"""End to end through `contrastkit train`: tiny CLIP / SigLIP runs on the digits captions
and on espeak-ng speech write metrics.json with a `crossmodal` block and similarity.png;
mismatched configs and bad input exit with code 2 and one line."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.multimodal.few_clips import speak_few

from contrastkit import cli
from contrastkit.audio.speech import MANIFEST
from contrastkit.config import load_config
from contrastkit.modalities.pairs.modality import SIMILARITY_PNG
from contrastkit.report.run_report import report_run
from contrastkit.run import eval_run, train_run
from contrastkit.viz.similarity_matrix import similarity_figure

TINY = [
    "train.epochs=1",
    "train.batch_size=256",
    "train.warmup_epochs=0",
    "model.width=4",
    "model.feature_dim=16",
    "method.embed_dim=8",
    "method.text_width=8",
    "eval.baselines=false",
    "eval.fewshot_draws=1",
]


@pytest.mark.slow
def test_digits_siglip_run_writes_crossmodal_block_and_picture(tmp_path: Path) -> None:
    cfg = load_config(Path("configs/digits_text_siglip.yaml"), TINY)
    metrics = train_run(cfg, tmp_path / "run", show_progress=False, log=lambda _m: None)
    block = metrics["crossmodal"]["test"]
    assert set(block) >= {"image_to_text", "text_to_image", "zero_shot_top1", "zero_shot_chance"}
    assert block["zero_shot_chance"] == pytest.approx(0.1)
    assert block["image_to_text"]["chance_recall_at_1"] == pytest.approx(0.1)
    assert 0.0 <= block["zero_shot_top1"] <= 1.0
    assert "fewshot" in metrics["eval"]  # the few-label probe to compare zero-shot with
    assert metrics["crossmodal"]["logit_bias"] == pytest.approx(-10.0, abs=0.5)
    png = tmp_path / "run" / SIMILARITY_PNG
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = report_run(tmp_path / "run", projections=("pca",), log=lambda _m: None)
    page = html.read_text()
    assert "Cross-modal retrieval" in page and "image to text" in page
    assert 'data-figure="similarity"' in page and 'data-figure="map-pca"' in page


@pytest.mark.slow
def test_speech_clip_run_from_a_manifest(tmp_path: Path) -> None:
    voices = {"en": ("en-us+m1", "en-gb+f2", "en-029+f4")}
    manifest = speak_few(tmp_path / "speech", voices, ("apple", "river", "tiger"))
    overrides = [*TINY, f"data.path={manifest}", "audio.heldout_words=1", "audio.heldout_voices=1"]
    cfg = load_config(Path("configs/audio_text_clip.yaml"), overrides)
    metrics = train_run(cfg, tmp_path / "run", show_progress=False, log=lambda _m: None)
    voices = metrics["crossmodal"]["heldout_voices"]
    assert voices["audio_to_text"]["candidates"] == 2  # the two training words
    assert voices["text_to_audio"]["queries"] == 2
    assert metrics["crossmodal"]["heldout_words"]["zero_shot_chance"] == 1.0
    assert (tmp_path / "run" / SIMILARITY_PNG).is_file()
    assert (tmp_path / "speech" / MANIFEST).is_file()
    again = eval_run(tmp_path / "run", log=lambda _m: None)["crossmodal"]
    for split in ("heldout_voices", "heldout_words"):
        for key in ("audio_to_text", "text_to_audio"):
            got, want = again[split][key], metrics["crossmodal"][split][key]
            assert got["mrr"] == pytest.approx(want["mrr"], abs=1e-6)


@pytest.mark.slow
def test_two_language_run_reports_retrieval_by_language(tmp_path: Path) -> None:
    voices = {"de": ("de+m1", "de+f2", "de+m4"), "es": ("es+m1", "es-419+f2", "es+m4")}
    manifest = speak_few(tmp_path / "speech", voices, ("apple", "river", "tiger"))
    overrides = [*TINY, f"data.path={manifest}", "audio.heldout_words=1", "audio.heldout_voices=1"]
    cfg = load_config(Path("configs/audio_text_languages.yaml"), overrides)
    assert cfg.method.text_alphabet == "latin"
    metrics = train_run(cfg, tmp_path / "run", show_progress=False, log=lambda _m: None)
    voices = metrics["crossmodal"]["heldout_voices"]
    table = voices["audio_to_text_by_language"]
    assert list(table) == ["de", "es"] and all(list(row) == ["de", "es"] for row in table.values())
    for row in table.values():
        for cell in row.values():  # 2 training concepts spoken by 1 held-out voice
            assert (cell["queries"], cell["candidates"]) == (2, 2)
            assert cell["chance_recall_at_1"] == pytest.approx(0.5)
    within = (table["de"]["de"]["recall_at_1"] + table["es"]["es"]["recall_at_1"]) / 2
    assert voices["within_language_recall_at_1"] == pytest.approx(within)
    across = (table["de"]["es"]["recall_at_1"] + table["es"]["de"]["recall_at_1"]) / 2
    assert voices["across_languages_recall_at_1"] == pytest.approx(across)
    assert voices["audio_to_text"]["candidates"] == 4  # "Apfel", "manzana", ...: 2 x 2 texts


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    return int(exit_info.value.code or 0)


def test_cli_rejects_a_two_tower_method_on_images(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _cli(monkeypatch, "train", "--out", str(tmp_path / "r"), "--set", "method.name=clip")
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "'clip' does not train on images" in err and "methods for images: simclr" in err


def test_cli_missing_caption_image_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pairs.csv").write_text("image_path,caption\ngone.png,a cat\n")
    code = _cli(
        monkeypatch,
        "train",
        "--config",
        "configs/digits_text_siglip.yaml",
        "--out",
        str(tmp_path / "r"),
        "--set",
        "data.source=caption_csv",
        "--set",
        f"data.path={tmp_path / 'pairs.csv'}",
    )
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "pairs.csv row 2: image file not found" in err and "gone.png" in err
    assert "Traceback" not in err


def test_similarity_figure_checks_its_shape() -> None:
    fig = similarity_figure(np.eye(3), ["a", "b", "c"], row_name="audio", title="t")
    assert len(fig.axes[0].patches) == 3  # the true pairs, boxed
    with pytest.raises(ValueError, match=r"\(n, n\)"):
        similarity_figure(np.eye(2), ["a", "b", "c"], row_name="audio", title="t")


def test_cli_caption_csv_run_with_skip_bad(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ["image_path,caption"]
    for i in range(12):
        Image.fromarray(np.full((6, 6, 3), 20 * i, dtype=np.uint8)).save(tmp_path / f"{i}.png")
        rows.append(f"{i}.png,{'dark' if i < 6 else 'bright'} square")
    rows.append("missing.png,lost square")
    (tmp_path / "pairs.csv").write_text("\n".join(rows) + "\n")
    sets = [*TINY, "data.source=caption_csv", f"data.path={tmp_path / 'pairs.csv'}"]
    sets += ["data.image_size=8", "data.test_fraction=0.25", "train.batch_size=8"]
    args = ["train", "--config", "configs/digits_text_siglip.yaml", "--no-progress"]
    args += ["--out", str(tmp_path / "r"), "--skip-bad"]
    for item in sets:
        args += ["--set", item]
    assert _cli(monkeypatch, *args) == 0
    out = capsys.readouterr().out
    assert "skipped 1 bad input files" in out
    block = (tmp_path / "r" / "metrics.json").read_text()
    assert '"skipped_bad_files": 1' in block and '"image_to_text"' in block
