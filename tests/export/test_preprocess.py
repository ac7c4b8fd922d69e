"""preprocess.json: every kind round-trips, the reader is strict, and the recorded
preprocessing reproduces what training did (tables, characters)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from contrastkit.data.preprocess import (
    PREPROCESS_FILE,
    AudioPreprocess,
    CategoricalColumn,
    CharPreprocess,
    ImagePreprocess,
    NumericColumn,
    Preprocess,
    TablePreprocess,
    TokenizerPreprocess,
    fit_table_preprocess,
    from_json,
    read_preprocess,
    to_json,
    write_preprocess,
)
from contrastkit.data.table import RawTable
from contrastkit.data.table_split import preprocess
from contrastkit.encoders.small_text import ALPHABET, LATIN, CharTokenizer
from contrastkit.errors import UserError

SPECS: list[Preprocess] = [
    ImagePreprocess(height=28, width=28, channels=1),
    ImagePreprocess(
        height=224, width=224, channels=3, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)
    ),
    TokenizerPreprocess(tokenizer_dir="tokenizer", max_length=32, normalized=True),
    CharPreprocess(alphabet=ALPHABET, max_len=32),
    TablePreprocess(
        numeric=(NumericColumn("age", 40.0, 41.5, 12.25), NumericColumn("income", 3.0, 2.5, 1.0)),
        categorical=(CategoricalColumn("colour", ("blue", "red")),),
    ),
    AudioPreprocess(
        sample_rate=16000,
        clip_seconds=1.0,
        n_fft=400,
        hop_length=160,
        n_mels=64,
        mean=-5.5,
        std=3.25,
    ),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.KIND)
def test_round_trip(tmp_path: Path, spec: Preprocess) -> None:
    path = write_preprocess(tmp_path, spec)
    assert path == tmp_path / PREPROCESS_FILE
    assert read_preprocess(tmp_path) == spec
    assert read_preprocess(path) == spec
    written = json.loads(path.read_text())
    assert written["format"] == 1 and written["kind"] == spec.KIND
    assert not [p for p in tmp_path.iterdir() if p.name != PREPROCESS_FILE]  # no temp files


def _with(spec: Preprocess, **changes: object) -> dict[str, object]:
    return {**to_json(spec), **changes}


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        (_with(SPECS[0], heigth=28), "unknown key 'heigth'"),
        (_with(SPECS[0], height="28"), "height: expected int, got str '28'"),
        (_with(SPECS[0], height=True), "height: expected int, got bool"),
        (_with(SPECS[0], dtype="float32"), r"dtype: expected one of \['uint8'\]"),
        (_with(SPECS[1], mean=[0.5, "x", 0.5]), r"mean\[1\]: expected float"),
        (_with(SPECS[1], std=[1.0, 1.0]), "3 values"),
        (_with(SPECS[0], format=2), "format: expected 1, got 2"),
        (_with(SPECS[0], kind="video"), "kind: expected one of"),
        ({"format": 1, "kind": "image", "height": 8}, "missing key 'width'"),
        (_with(SPECS[2], tokenizer_dir="../../etc"), "inside the export folder"),
        (
            _with(SPECS[4], numeric=[{"name": "a", "median": 0, "mean": 0, "std": 1, "x": 2}]),
            r"unknown key numeric\[0\]\.'x'",
        ),
        (
            _with(SPECS[4], numeric=[{"name": "a", "median": 0, "mean": 0, "std": 0}]),
            "std must be > 0",
        ),
        (_with(SPECS[4], categorical={"colour": ["red"]}), "categorical: expected a list"),
        (_with(SPECS[5], f_max="8000"), "f_max: expected float"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_strict_reader_names_the_key(tmp_path: Path, obj: object, match: str) -> None:
    with pytest.raises(UserError, match=match):
        from_json(obj)
    (tmp_path / PREPROCESS_FILE).write_text(json.dumps(obj))
    with pytest.raises(UserError, match=PREPROCESS_FILE):  # the file is named too
        read_preprocess(tmp_path)


def test_reader_missing_and_bad_json(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        read_preprocess(tmp_path)
    (tmp_path / PREPROCESS_FILE).write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        read_preprocess(tmp_path)


@pytest.mark.parametrize("alphabet", [ALPHABET, LATIN])
def test_char_encode_matches_the_tokenizer(alphabet: str) -> None:
    texts = ["Hello, World!", "", "ünïcode & symbols", "a" * 40, "Schildkröte, Straße"]
    spec = CharPreprocess(alphabet=alphabet, max_len=16)
    expected = CharTokenizer(max_len=16, alphabet=alphabet).encode(texts).numpy()
    np.testing.assert_array_equal(spec.encode(texts), expected)


def test_table_fit_reproduces_training_preprocessing() -> None:
    rng = np.random.default_rng(0)
    n = 40
    height = rng.normal(170, 10, n)
    height[[3, 17, 30]] = np.nan
    colour = rng.choice(np.array(["red", "blue", "green"], dtype=object), n)
    colour[[5, 9]] = None
    labels = np.array(["a", "b"] * (n // 2), dtype=object)
    raw = RawTable(
        numeric={"height": height, "flat": np.full(n, 2.0)},
        categorical={"colour": colour},
        labels=labels,
        name="toy",
    )
    split = preprocess(raw, test_fraction=0.25, seed=3)
    # the same training rows preprocess() chose
    y = np.array([0, 1] * (n // 2))
    idx_train, idx_test = train_test_split(np.arange(n), test_size=0.25, random_state=3, stratify=y)
    train = np.zeros(n, dtype=bool)
    train[idx_train] = True
    spec = fit_table_preprocess(raw, train)
    assert spec.numeric[1].std == 1.0  # a constant column divides by 1
    rows = [
        {
            "height": None if np.isnan(height[i]) else float(height[i]),
            "flat": 2.0,
            "colour": colour[i],
        }
        for i in idx_test
    ]
    numeric, codes = spec.encode(rows)
    np.testing.assert_allclose(numeric, split.num_test.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(codes, split.cat_test.numpy())


def test_table_encode_errors() -> None:
    spec = SPECS[4]
    assert isinstance(spec, TablePreprocess)
    numeric, codes = spec.encode([{"age": 41.5, "colour": "purple"}])  # income missing
    np.testing.assert_allclose(numeric, [[0.0, 0.5]])
    assert codes.tolist() == [[0]]  # unseen category
    with pytest.raises(UserError, match="row 0: unknown column '../../etc/passwd'"):
        spec.encode([{"../../etc/passwd": 1}])
    with pytest.raises(UserError, match="row 1, column 'age': expected a number, got 'old'"):
        spec.encode([{}, {"age": "old"}])
