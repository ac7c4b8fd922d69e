"""`contrastkit export` on each kind of run: ONNX parity on the run's data (<= 1e-4,
printed), preprocess.json that reproduces the run's inputs, both towers of a two-tower
run, the sentence-transformers folder of a text run, and the int8 cost."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.export.runs import IMAGE, PAIRS, TABLE, make_run, text_run

from contrastkit.cli import main
from contrastkit.data.preprocess import read_preprocess
from contrastkit.export.onnx import OnnxEncoder
from contrastkit.export.run_export import export_run, top1
from contrastkit.run import load_run

PARITY = re.compile(r"parity max \|ONNX - PyTorch\| = ([0-9.e+-]+)")


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["contrastkit", *args])
    try:
        main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def exported(
    tmp_path: Path, run: Path, capsys: pytest.CaptureFixture[str], mp: pytest.MonkeyPatch
) -> tuple[dict, list[float], str]:
    assert run_cli(mp, "export", "--run", str(run), "--quantize", "int8") == 0
    out = capsys.readouterr().out
    diffs = [float(x) for x in PARITY.findall(out)]
    return json.loads((run / "export" / "export.json").read_text()), diffs, out


def test_top1_by_hand() -> None:
    q = np.array([[1.0, 0.0], [0.0, 1.0]])
    c = np.array([[2.0, 0.1], [0.1, 3.0], [-1.0, 0.0]])
    relevant = np.array([[True, False, False], [True, False, True]])
    assert top1(q, c, relevant) == 0.5  # query 0 -> cand 0 (hit), query 1 -> cand 1 (miss)


def test_smallcnn_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(tmp_path / "digits", "digits_simclr.yaml", IMAGE)
    record, diffs, out = exported(tmp_path, run, capsys, monkeypatch)
    assert len(diffs) == 1 and diffs[0] <= 1e-4
    assert record["towers"][0]["parity_max_abs_diff"] == pytest.approx(diffs[0], rel=0.01)
    assert record["towers"][0]["parity_batch_sizes"] == [8, 1]
    assert "int8 accuracy cost: knn_top1" in out
    q = record["int8_quality"]["knn_top1"]
    assert 0.0 <= q["int8"] <= 1.0 and 0.0 <= q["float"] <= 1.0
    pre = read_preprocess(run / "export")
    assert (pre.KIND, pre.height, pre.width, pre.channels) == ("image", 8, 8, 1)
    # the exported model on the run's images == the encoder the run embeds with
    _, modality, method = load_run(run)
    x = modality.data.x_test[:5]
    with torch.no_grad():
        want = method.encoder(x.float() / 255).numpy()
    got = OnnxEncoder(run / "export" / "model.onnx")(x)
    assert np.abs(got - want).max() <= 1e-4
    assert (run / "export" / "model.int8.onnx").is_file()


def test_existing_folder_needs_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(tmp_path / "digits", "digits_simclr.yaml", IMAGE)
    assert run_cli(monkeypatch, "export", "--run", str(run)) == 0
    assert run_cli(monkeypatch, "export", "--run", str(run)) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert run_cli(monkeypatch, "export", "--run", str(run), "--format", "tflite") == 2
    assert "--format 'tflite'" in capsys.readouterr().err
    assert run_cli(monkeypatch, "export", "--run", str(run), "--overwrite") == 0
    assert not [p for p in run.iterdir() if p.name.startswith(".")]


def test_mlp_table_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(tmp_path / "wine", "tabular_scarf.yaml", TABLE)
    record, diffs, out = exported(tmp_path, run, capsys, monkeypatch)
    assert diffs and max(diffs) <= 1e-4
    assert "knn_top1" in record["int8_quality"]
    # preprocess.json turns the raw rows into exactly the tensors training used
    pre = read_preprocess(run / "export")
    _, modality, _ = load_run(run)
    from contrastkit.data.table import bundled_table

    raw = bundled_table("wine")
    rows = [{n: float(raw.numeric[n][i]) for n in raw.numeric} for i in range(len(raw.labels))]
    numeric, _ = pre.encode(rows)
    table = modality.table
    both = np.concatenate([table.num_train.numpy(), table.num_test.numpy()])
    assert np.allclose(np.sort(numeric, axis=0), np.sort(both, axis=0), atol=1e-5)


def test_two_tower_run_exports_both_towers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(tmp_path / "captions", "digits_text_siglip.yaml", PAIRS)
    record, diffs, out = exported(tmp_path, run, capsys, monkeypatch)
    assert [t["folder"] for t in record["towers"]] == ["inputs", "texts"]
    assert len(diffs) == 2 and max(diffs) <= 1e-4
    assert "recall_at_1" in record["int8_quality"]
    assert read_preprocess(run / "export" / "texts").KIND == "chars"
    # the texts tower with preprocess.json's tokenizer == the method's text embedding
    _, _, method = load_run(run)
    texts = ["a handwritten 3", "the digit seven"]
    ids = read_preprocess(run / "export" / "texts").encode(texts)
    got = OnnxEncoder(run / "export" / "texts" / "model.onnx")(ids)
    assert np.abs(got - method.embed_texts(texts).numpy()).max() <= 1e-4


@pytest.mark.slow
def test_text_run_and_sentence_transformers(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tiny_model_dir: str,
) -> None:
    run = text_run(tmp_path / "text", tiny_model_dir)
    record, diffs, out = exported(tmp_path, run, capsys, monkeypatch)
    assert len(diffs) == 1 and diffs[0] <= 1e-4
    assert "recall_at_1" in record["int8_quality"]
    folder = run / "export"
    assert (folder / "tokenizer").is_dir() and read_preprocess(folder).KIND == "text"
    st = pytest.importorskip("sentence_transformers")
    _, modality, method = load_run(run)
    texts = ["the red fox is here", "a b", "green tree"]
    want = modality._embed_texts(method, texts).numpy()
    model = st.SentenceTransformer(str(folder / "sentence-transformers"), device="cpu")
    got = model.encode(texts, convert_to_numpy=True)
    assert np.abs(got - want).max() <= 1e-4


def test_export_run_api_writes_to_out(tmp_path: Path) -> None:
    run = make_run(tmp_path / "digits", "digits_simclr.yaml", IMAGE)
    lines: list[str] = []
    report = export_run(run, out=tmp_path / "elsewhere", log=lines.append)
    assert report.out == tmp_path / "elsewhere" and (report.out / "model.onnx").is_file()
    assert report.quality == {} and any("parity" in line for line in lines)


def test_audio_tower_through_the_export_hook(tmp_path: Path) -> None:
    """A speech run's two towers (AudioCNN on standardised log-mel clips, and texts) through
    the modality hook and the command's writer, on stand-in clips (no espeak-ng here)."""
    from tests.export.runs import CONFIGS

    from contrastkit.builders import build_method
    from contrastkit.config import load_config
    from contrastkit.data.pairs import PairData, PairSplit
    from contrastkit.data.preprocess import AudioPreprocess
    from contrastkit.export.run_export import _write_tower
    from contrastkit.run import resolve

    cfg = load_config(CONFIGS / "audio_text_clip.yaml", ["model.width=4", "method.embed_dim=8"])
    modality = resolve(cfg)
    torch.manual_seed(0)
    method = build_method(cfg, modality.new_encoder)
    words = ["one", "two", "three", "four", "five", "six"]
    split = PairSplit(
        x=torch.randn(12, 1, cfg.audio.n_mels, 101),
        texts=words * 2,
        ids=torch.arange(12) % 6,
    )
    data = PairData("speech", "audio", split, {"heldout_words": split}, input_stats=(-3.0, 2.0))
    modality.__dict__["data"] = data
    spec = modality.export_spec(method)
    inputs, texts = spec.towers
    assert isinstance(inputs.preprocess, AudioPreprocess)
    assert (inputs.preprocess.mean, inputs.preprocess.std) == (-3.0, 2.0)
    assert inputs.preprocess.n_mels == cfg.audio.n_mels
    reports = [_write_tower(t, tmp_path / t.folder, lambda _m: None) for t in spec.towers]
    assert all(r.max_abs_diff <= 1e-4 for r in reports)
    got = OnnxEncoder(tmp_path / "inputs" / "model.onnx")(split.x[:3])
    want = method.embed_inputs(split.x[:3]).numpy()
    assert np.abs(got - want).max() <= 1e-4
    assert spec.quality is not None and spec.quality.relevant.shape == (12, 6)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("module", "overrides"),
    [
        ("contrastkit.encoders.resnet", ["model.encoder=resnet_small"]),
        ("contrastkit.encoders.vit", ["model.encoder=vit_tiny", "model.patch_size=4"]),
    ],
)
def test_resnet_and_vit_runs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    overrides: list[str],
) -> None:
    """Any image encoder goes through `ImageInput`: ResNet and ViT need no code of their own
    (skipped where those encoders have not landed yet)."""
    pytest.importorskip(module, reason=f"{module} is not in this tree")
    run = make_run(tmp_path / "digits", "digits_simclr.yaml", overrides)
    assert run_cli(monkeypatch, "export", "--run", str(run)) == 0
    diffs = [float(x) for x in PARITY.findall(capsys.readouterr().out)]
    assert len(diffs) == 1 and diffs[0] <= 1e-4
