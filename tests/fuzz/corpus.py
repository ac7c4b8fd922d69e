"""A generated corpus of broken inputs for every reader the CLI reaches.

Each case writes its files under a folder and names the command line that reads them; the
fuzz tests run it through `contrastkit.cli.main` and expect exit code 2 with one line on
stderr and no traceback. Counted in `tests/fuzz/test_corpus.py`.
"""

from __future__ import annotations

import io
import pickle
import struct
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

TINY = [
    "--set",
    "train.epochs=1",
    "--set",
    "model.width=4",
    "--set",
    "model.feature_dim=16",
    "--set",
    "eval.fewshot_draws=1",
    "--set",
    "eval.supervised_steps=1",
    "--set",
    "eval.baselines=false",
    "--set",
    "health.every=0",
    "--no-progress",
]
"""A run small enough that a case which does reach training ends in a second."""


@dataclass(frozen=True)
class Case:
    """One broken input: `make(root)` writes it and returns the CLI arguments after `train`
    (or a whole command line when `command` is set)."""

    name: str
    make: Callable[[Path], list[str]]


def _png(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def _good_png_bytes(size: int = 16) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), 128, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def folder(root: Path, broken: Callable[[Path], None], labelled: bool = True) -> list[str]:
    """A folder of good PNGs (2 classes x 6) plus one broken file written by `broken`."""
    data = root / "images"
    for c in ("a", "b") if labelled else ("",):
        for i in range(6):
            _png(
                data / c / f"{i}.png",
                np.full((16, 16, 3), 40 * i + (0 if c == "a" else 20), np.uint8),
            )
    broken(data / "a" if labelled else data)
    return ["--data", str(data), *TINY]


def _truncated(folder: Path) -> None:
    (folder / "bad.png").write_bytes(_good_png_bytes()[:40])


def _zero_byte(folder: Path) -> None:
    (folder / "empty.png").write_bytes(b"")


def _wrong_extension(folder: Path) -> None:
    (folder / "text.jpg").write_text("this is not a JPEG\n")


def _png_named_jpg(folder: Path) -> None:
    (folder / "x.jpg").write_bytes(b"GIF89a" + b"\0" * 30)


def _huge_dimensions(folder: Path) -> None:
    """A PNG header claiming 100000 x 100000 pixels (a decompression bomb)."""
    header = b"\x89PNG\r\n\x1a\n"
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    import zlib

    chunk = b"IHDR" + ihdr
    body = struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    (folder / "bomb.png").write_bytes(header + body + b"\0" * 64)


def _random_bytes(folder: Path) -> None:
    (folder / "noise.png").write_bytes(np.random.default_rng(0).bytes(300))


def _npy(root: Path, array: np.ndarray, **kw: bool) -> list[str]:
    path = root / "x.npy"
    np.save(path, array, allow_pickle=kw.get("allow_pickle", False))
    return ["--data", str(path), *TINY]


def _npz(root: Path, **arrays: np.ndarray) -> list[str]:
    path = root / "x.npz"
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return ["--data", str(path), *TINY]


def _object_npy(root: Path) -> list[str]:
    path = root / "obj.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    return ["--data", str(path), *TINY]


def _bytes_file(root: Path, name: str, data: bytes) -> list[str]:
    path = root / name
    path.write_bytes(data)
    return ["--data", str(path), *TINY]


class _RunsCode:
    """Unpickling this calls os.system: a crafted CIFAR batch must not get that far."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, ("touch PWNED_BY_PICKLE",))


def _cifar(
    root: Path, batch: object, meta: object | None = None, raw: bytes | None = None
) -> list[str]:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    good = {b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 0, 1]}
    meta = {b"label_names": [b"a", b"b"]} if meta is None else meta
    (folder / "batches.meta").write_bytes(pickle.dumps(meta))
    for i in range(1, 6):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(good))
    (folder / "test_batch").write_bytes(pickle.dumps(good))
    (folder / "data_batch_1").write_bytes(raw if raw is not None else pickle.dumps(batch))
    return ["--data", str(folder), *TINY]


def table(root: Path, name: str, content: bytes, label: str | None = None) -> list[str]:
    path = root / name
    path.write_bytes(content)
    source = "parquet" if name.endswith(".parquet") else "csv"
    args = ["--config", str(CONFIGS / "tabular_scarf.yaml")]
    args += ["--set", f"data.source={source}", "--set", f"data.path={path}"]
    if label is not None:
        args += ["--set", f"data.label={label}"]
    return [*args, *TINY]


def _interactions(root: Path, content: bytes | None) -> list[str]:
    """An interactions run on `content` written as a CSV (None: no data.path at all)."""
    args = ["--config", str(CONFIGS / "interactions_two_tower.yaml")]
    args += ["--set", "data.source=interactions"]
    if content is not None:
        path = root / "interactions.csv"
        path.write_bytes(content)
        args += ["--set", f"data.path={path}"]
    return [*args, *TINY]


def _parquet_bytes(columns: dict[str, list[object]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def text(root: Path, source: str, name: str, content: bytes) -> list[str]:
    path = root / name
    path.write_bytes(content)
    return [
        "--set",
        f"data.source={source}",
        "--set",
        f"data.path={path}",
        "--set",
        "method.name=simcse" if source == "text_lines" else "method.name=text_pairs",
        *TINY,
    ]


def wav_bytes(samples: np.ndarray, rate: int = 16000, width: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def speech(root: Path, bad: bytes | None, manifest: str | None = None) -> list[str]:
    clips = root / "clips"
    clips.mkdir()
    rows = ["path,text,voice,speed,pitch"]
    tone = (np.sin(np.arange(8000) / 5) * 8000).astype(np.int16)
    for i, word in enumerate(["one", "two", "three", "four", "five", "six"]):
        for v, voice in enumerate(["v1", "v2", "v3"]):
            path = clips / f"{word}_{voice}.wav"
            path.write_bytes(wav_bytes(tone * (i + v + 1) // 8))
            rows.append(f"{path},{word},{voice},150,50")
    if bad is not None:
        (clips / "one_v1.wav").write_bytes(bad)
    path = root / "manifest.csv"
    path.write_text(manifest if manifest is not None else "\n".join(rows) + "\n")
    return [
        "--config",
        str(CONFIGS / "audio_text_clip.yaml"),
        "--set",
        f"data.path={path}",
        "--set",
        "audio.heldout_words=1",
        "--set",
        "audio.heldout_voices=1",
        *TINY,
    ]


def _config(root: Path, content: bytes) -> list[str]:
    path = root / "config.yaml"
    path.write_bytes(content)
    return ["--config", str(path), *TINY]


def _symlink_only(root: Path) -> list[str]:
    data = root / "links"
    (data / "a").mkdir(parents=True)
    (data / "b").mkdir(parents=True)
    for c in ("a", "b"):
        for i in range(3):
            (data / c / f"{i}.png").symlink_to(root / "nowhere" / f"{i}.png")
    return ["--data", str(data), *TINY]


def _one_class_folder(root: Path) -> list[str]:
    data = root / "one"
    _png(data / "only" / "0.png", np.zeros((16, 16, 3), np.uint8))
    return ["--data", str(data), *TINY]


def _one_pixel(root: Path) -> list[str]:
    """A labelled folder of 1x1-pixel images."""
    data = root / "dots"
    for c in ("a", "b"):
        for i in range(6):
            _png(data / c / f"{i}.png", np.full((1, 1, 3), 30 * i, np.uint8))
    return ["--data", str(data), *TINY]


def cut_in_data(folder: Path) -> None:
    """A PNG whose header reads and whose pixel data stops half-way: found only when a
    DataLoader worker decodes it."""
    buf = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buf, format="PNG")
    (folder / "cut.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def _npz_damaged(root: Path) -> list[str]:
    """A real .npz (a zip of .npy files) with bytes of its member data overwritten."""
    path = root / "x.npz"
    np.savez(path, x=np.arange(4 * 8 * 8, dtype=np.uint8).reshape(4, 8, 8), y=np.arange(4) % 2)
    raw = bytearray(path.read_bytes())
    raw[60:200] = b"\xff" * 140
    path.write_bytes(bytes(raw))
    return ["--data", str(path), *TINY]


def _wav_header(rate: int, data: bytes, width: int = 2) -> bytes:
    """A PCM WAV file with any sample rate and any data bytes (the wave module refuses to
    write odd ones)."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, (rate * width) % 2**32, width, width * 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def speech_latin1(root: Path) -> list[str]:
    """The speech manifest with one more row written in Latin-1 (not UTF-8)."""
    args = speech(root, None)
    manifest = root / "manifest.csv"
    row = f"{root / 'clips' / 'one_v1.wav'},caf\xe9,v1,150,50\n".encode("latin-1")
    manifest.write_bytes(manifest.read_bytes() + row)
    return args


def _long_field(rows: bytes, field: int) -> bytes:
    return rows + b"%d,%s,x\n" % (field, b"9" * 140_000)


HUGE = b"a,b,label\n" + b"".join(
    b"%s,%d,%s\n" % (b"1e300" if i % 2 else b"-1e300", i, b"xy"[i % 2 : i % 2 + 1])
    for i in range(8)
)
CSV_GOOD = b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n"


CASES: list[Case] = [
    # image folders
    Case("folder/truncated-png", lambda r: folder(r, _truncated)),
    Case("folder/zero-byte", lambda r: folder(r, _zero_byte)),
    Case("folder/text-as-jpg", lambda r: folder(r, _wrong_extension)),
    Case("folder/gif-as-jpg", lambda r: folder(r, _png_named_jpg)),
    Case("folder/huge-dimensions", lambda r: folder(r, _huge_dimensions)),
    Case("folder/random-bytes", lambda r: folder(r, _random_bytes)),
    Case("folder/flat-truncated", lambda r: folder(r, _truncated, labelled=False)),
    Case("folder/empty", lambda r: ["--data", str(_mkdir(r / "empty")), *TINY]),
    Case("folder/broken-symlinks", _symlink_only),
    Case("folder/one-image", _one_class_folder),
    # .npy / .npz
    Case("npy/object-array", _object_npy),
    Case("npy/strings", lambda r: _npy(r, np.array(["a", "b"]))),
    Case("npy/complex", lambda r: _npy(r, np.zeros((4, 8, 8), np.complex64))),
    Case("npy/bool", lambda r: _npy(r, np.zeros((4, 8, 8), bool))),
    Case("npy/1d", lambda r: _npy(r, np.zeros(10, np.uint8))),
    Case("npy/5d", lambda r: _npy(r, np.zeros((2, 2, 2, 8, 8), np.uint8))),
    Case("npy/empty", lambda r: _npy(r, np.zeros((0, 8, 8), np.uint8))),
    Case("npy/one-image", lambda r: _npy(r, np.zeros((1, 8, 8), np.uint8))),
    Case("npy/tiny-image", lambda r: _npy(r, np.zeros((8, 1, 1), np.uint8))),
    Case("npy/float-out-of-range", lambda r: _npy(r, np.full((8, 8, 8), 300.0, np.float32))),
    Case("npy/nan", lambda r: _npy(r, np.full((8, 8, 8), np.nan, np.float32))),
    Case("npy/int-over-255", lambda r: _npy(r, np.full((8, 8, 8), 1000, np.int32))),
    Case("npy/negative-int", lambda r: _npy(r, np.full((8, 8, 8), -5, np.int16))),
    Case("npy/many-channels", lambda r: _npy(r, np.zeros((4, 7, 8, 8), np.uint8))),
    Case("npy/truncated", lambda r: _bytes_file(r, "t.npy", b"\x93NUMPY\x01\x00v\x00{'descr'")),
    Case("npy/not-numpy", lambda r: _bytes_file(r, "t.npy", b"hello world")),
    Case("npy/zero-byte", lambda r: _bytes_file(r, "t.npy", b"")),
    Case("npz/not-zip", lambda r: _bytes_file(r, "t.npz", b"PK\x03\x04garbage")),
    Case("npz/no-x", lambda r: _npz(r, other=np.zeros(3))),
    Case("npz/object-x", lambda r: _npz_object(r)),
    Case("npz/labels-float", lambda r: _npz(r, x=np.zeros((4, 8, 8), np.uint8), y=np.zeros(4))),
    Case(
        "npz/labels-short", lambda r: _npz(r, x=np.zeros((4, 8, 8), np.uint8), y=np.zeros(2, int))
    ),
    Case(
        "npz/labels-negative",
        lambda r: _npz(r, x=np.zeros((4, 8, 8), np.uint8), y=-np.ones(4, int)),
    ),
    Case(
        "npz/labels-2d", lambda r: _npz(r, x=np.zeros((4, 8, 8), np.uint8), y=np.zeros((4, 2), int))
    ),
    Case(
        "npz/one-split",
        lambda r: _npz(
            r,
            x_train=np.zeros((4, 8, 8), np.uint8),
            x_test=np.zeros((4, 8, 8), np.uint8),
            y_train=np.zeros(4, int),
        ),
    ),
    Case(
        "npz/split-shape-mismatch",
        lambda r: _npz(
            r, x_train=np.zeros((4, 8, 8), np.uint8), x_test=np.zeros((4, 9, 9, 5), np.uint8)
        ),
    ),
    Case(
        "npz/class-names-short",
        lambda r: _npz(
            r,
            x=np.zeros((4, 8, 8), np.uint8),
            y=np.array([0, 1, 2, 3]),
            class_names=np.array(["a"]),
        ),
    ),
    # CIFAR pickles
    Case("cifar/runs-code", lambda r: _cifar(r, _RunsCode())),
    Case("cifar/truncated", lambda r: _cifar(r, None, raw=pickle.dumps({b"data": 1})[:10])),
    Case("cifar/not-pickle", lambda r: _cifar(r, None, raw=b"hello")),
    Case("cifar/list", lambda r: _cifar(r, [1, 2, 3])),
    Case("cifar/no-labels", lambda r: _cifar(r, {b"data": np.zeros((4, 3072), np.uint8)})),
    Case(
        "cifar/wrong-shape",
        lambda r: _cifar(r, {b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4}),
    ),
    Case(
        "cifar/floats",
        lambda r: _cifar(r, {b"data": np.full((4, 3072), 0.5), b"labels": [0, 1, 0, 1]}),
    ),
    Case(
        "cifar/over-255",
        lambda r: _cifar(r, {b"data": np.full((4, 3072), 300), b"labels": [0, 1, 0, 1]}),
    ),
    Case(
        "cifar/labels-short",
        lambda r: _cifar(r, {b"data": np.zeros((4, 3072), np.uint8), b"labels": [0]}),
    ),
    Case(
        "cifar/labels-strings",
        lambda r: _cifar(r, {b"data": np.zeros((4, 3072), np.uint8), b"labels": ["a"] * 4}),
    ),
    Case(
        "cifar/labels-out-of-range",
        lambda r: _cifar(r, {b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 9]}),
    ),
    Case("cifar/data-strings", lambda r: _cifar(r, {b"data": "abc", b"labels": [0]})),
    Case("cifar/meta-list", lambda r: _cifar(r, None, meta=[1, 2])),
    Case("cifar/meta-no-names", lambda r: _cifar(r, None, meta={b"x": 1})),
    Case("cifar/meta-names-int", lambda r: _cifar(r, None, meta={b"label_names": 5})),
    # CSV / Parquet tables
    Case("csv/latin-1", lambda r: table(r, "t.csv", "a,b\n\xe9,1\n2,3\n".encode("latin-1"))),
    Case("csv/utf-16", lambda r: table(r, "t.csv", "a,b\n1,2\n3,4\n".encode("utf-16"))),
    Case("csv/ragged", lambda r: table(r, "t.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n")),
    Case(
        "csv/overflow",
        lambda r: table(r, "t.csv", b"a,b,label\n1e400,1,x\n2,2,y\n3,3,x\n4,4,y\n", label="label"),
    ),
    Case("csv/nan-only", lambda r: table(r, "t.csv", b"a,b\nnan,1\nnan,2\nnan,3\nnan,4\n")),
    Case("csv/one-row", lambda r: table(r, "t.csv", b"a,b,label\n1,2,x\n", label="label")),
    Case("csv/header-only", lambda r: table(r, "t.csv", b"a,b\n")),
    Case("csv/empty", lambda r: table(r, "t.csv", b"")),
    Case("csv/binary", lambda r: table(r, "t.csv", b"\x00\x01\x02\xff\xfe")),
    Case("csv/missing-label", lambda r: table(r, "t.csv", CSV_GOOD, label="nope")),
    Case("csv/duplicate-header", lambda r: table(r, "t.csv", b"a,a\n1,2\n3,4\n")),
    Case("csv/quote-unclosed", lambda r: table(r, "t.csv", b'a,b\n"1,2\n3,4\n')),
    Case("csv/empty-header", lambda r: table(r, "t.csv", b",\n1,2\n3,4\n")),
    Case("parquet/garbage", lambda r: table(r, "t.parquet", b"PAR1garbagePAR1")),
    Case("parquet/zero-byte", lambda r: table(r, "t.parquet", b"")),
    Case(
        "parquet/nan-only",
        lambda r: table(
            r, "t.parquet", _parquet_bytes({"a": [float("nan")] * 4, "b": [1.0, 2.0, 3.0, 4.0]})
        ),
    ),
    Case(
        "parquet/one-row",
        lambda r: table(
            r, "t.parquet", _parquet_bytes({"a": [1.0], "label": ["x"]}), label="label"
        ),
    ),
    Case(
        "parquet/nested",
        lambda r: table(
            r, "t.parquet", _parquet_bytes({"a": [[1, 2], [3]], "label": ["x", "y"]}), label="label"
        ),
    ),
    Case("parquet/no-rows", lambda r: table(r, "t.parquet", _parquet_bytes({"a": [], "b": []}))),
    # text lines / pairs
    Case("lines/empty", lambda r: text(r, "text_lines", "t.txt", b"")),
    Case("lines/blank", lambda r: text(r, "text_lines", "t.txt", b"\n  \n\n")),
    Case("lines/latin-1", lambda r: text(r, "text_lines", "t.txt", "caf\xe9\n".encode("latin-1"))),
    Case("lines/one-line", lambda r: text(r, "text_lines", "t.txt", b"only one sentence\n")),
    Case("lines/binary", lambda r: text(r, "text_lines", "t.txt", b"\x00\xff\xfe\x01")),
    Case("pairs/no-header", lambda r: text(r, "text_pairs", "p.csv", b"")),
    Case("pairs/wrong-columns", lambda r: text(r, "text_pairs", "p.csv", b"x,y\n1,2\n")),
    Case("pairs/empty-cell", lambda r: text(r, "text_pairs", "p.csv", b"anchor,positive\na,\n")),
    Case(
        "pairs/ragged", lambda r: text(r, "text_pairs", "p.csv", b"anchor,positive\na,b,c,d\nx\n")
    ),
    Case("pairs/bad-json", lambda r: text(r, "text_pairs", "p.jsonl", b'{"anchor": "a", \n')),
    Case("pairs/json-list", lambda r: text(r, "text_pairs", "p.jsonl", b"[1, 2]\n")),
    Case(
        "pairs/json-number",
        lambda r: text(r, "text_pairs", "p.jsonl", b'{"anchor": 1, "positive": "b"}\n'),
    ),
    Case("pairs/one-pair", lambda r: text(r, "text_pairs", "p.csv", b"anchor,positive\na,b\n")),
    Case("pairs/unknown-suffix", lambda r: text(r, "text_pairs", "p.xlsx", b"anything")),
    Case(
        "pairs/latin-1",
        lambda r: text(r, "text_pairs", "p.csv", "anchor,positive\ncaf\xe9,b\n".encode("latin-1")),
    ),
    # WAV files (speech manifests)
    Case("wav/zero-byte", lambda r: speech(r, b"")),
    Case("wav/text", lambda r: speech(r, b"not a wav file")),
    Case("wav/truncated", lambda r: speech(r, wav_bytes(np.zeros(800, np.int16))[:30])),
    Case("wav/no-frames", lambda r: speech(r, wav_bytes(np.zeros(0, np.int16)))),
    Case("wav/manifest-empty", lambda r: speech(r, None, manifest="")),
    Case("wav/manifest-columns", lambda r: speech(r, None, manifest="a,b\n1,2\n")),
    Case(
        "wav/manifest-missing-file",
        lambda r: speech(r, None, manifest="path,text,voice,speed,pitch\n/nope.wav,a,b,1,2\n"),
    ),
    Case(
        "wav/manifest-bad-number",
        lambda r: speech(r, None, manifest="path,text,voice,speed,pitch\n/nope.wav,a,b,fast,2\n"),
    ),
    # interactions CSV (data.source interactions)
    Case("interactions/no-path", lambda r: _interactions(r, None)),
    Case("interactions/zero-byte", lambda r: _interactions(r, b"")),
    Case("interactions/header-only", lambda r: _interactions(r, b"user,item\n")),
    Case("interactions/no-item-column", lambda r: _interactions(r, b"user,thing\nu1,a\nu1,b\n")),
    Case("interactions/empty-user", lambda r: _interactions(r, b"user,item\nu1,a\n,b\n")),
    Case("interactions/ragged", lambda r: _interactions(r, b"user,item\nu1,a\nu1\n")),
    Case(
        "interactions/bad-timestamp",
        lambda r: _interactions(r, b"user,item,timestamp\nu1,a,1\nu1,b,yesterday\n"),
    ),
    Case(
        "interactions/nan-feature", lambda r: _interactions(r, b"user,item,f\nu1,a,1\nu1,b,nan\n")
    ),
    Case(
        "interactions/text-feature", lambda r: _interactions(r, b"user,item,f\nu1,a,1\nu1,b,red\n")
    ),
    Case(
        "interactions/features-change",
        lambda r: _interactions(r, b"user,item,f\nu1,a,1\nu2,a,2\nu2,b,1\n"),
    ),
    Case("interactions/one-each", lambda r: _interactions(r, b"user,item\nu1,a\nu2,b\n")),
    Case(
        "interactions/latin-1",
        lambda r: _interactions(r, "user,item\nu1,caf\xe9\n".encode("latin-1")),
    ),
    Case("interactions/utf-16", lambda r: _interactions(r, "user,item\nu1,a\n".encode("utf-16"))),
    Case("interactions/binary", lambda r: _interactions(r, bytes(range(256)) * 4)),
    # round 3: fields over the CSV limit, damaged archives, odd WAV headers, tiny images
    Case("folder/one-pixel", _one_pixel),
    Case("folder/cut-in-data", lambda r: folder(r, cut_in_data)),
    Case("npz/damaged-member", _npz_damaged),
    Case(
        "npz/empty-x-test",
        lambda r: _npz(
            r,
            x_train=np.zeros((8, 8, 8), np.uint8),
            y_train=np.arange(8) % 2,
            x_test=np.zeros((0, 8, 8), np.uint8),
            y_test=np.zeros(0, int),
        ),
    ),
    Case(
        "csv/field-over-limit",
        lambda r: table(r, "t.csv", _long_field(CSV_GOOD, 9), label="label"),
    ),
    Case(
        "pairs/field-over-limit",
        lambda r: text(
            r, "text_pairs", "p.csv", b"anchor,positive\na,b\n" + b"c," + b"d" * 140_000
        ),
    ),
    Case("wav/rate-zero", lambda r: speech(r, _wav_header(0, b"\x01\x02" * 400))),
    Case("wav/rate-2-31", lambda r: speech(r, _wav_header(2**31, b"\x01\x02" * 400))),
    Case("wav/rate-prime", lambda r: speech(r, _wav_header(2**31 - 1, b"\x01\x02" * 400))),
    Case("wav/manifest-not-utf8", lambda r: speech_latin1(r)),
    # config YAML
    Case("yaml/latin-1", lambda r: _config(r, "seed: 1 # caf\xe9\n".encode("latin-1"))),
    Case("yaml/tag", lambda r: _config(r, b"seed: !!python/object/apply:os.system ['true']\n")),
    Case("yaml/list", lambda r: _config(r, b"- 1\n- 2\n")),
    Case("yaml/scalar", lambda r: _config(r, b"42\n")),
    Case("yaml/syntax", lambda r: _config(r, b"train: {epochs: 1\n")),
    Case("yaml/tab", lambda r: _config(r, b"train:\n\tepochs: 1\n")),
    Case("yaml/duplicate", lambda r: _config(r, b"seed: 1\nseed: 2\n")),
    Case("yaml/unknown-key", lambda r: _config(r, b"trian: {epochs: 1}\n")),
    Case("yaml/section-scalar", lambda r: _config(r, b"train: 5\n")),
    Case("yaml/inf-lr", lambda r: _config(r, b"train: {lr: .inf}\n")),
    Case(
        "yaml/nan-temperature", lambda r: _config(r, b"method: {name: simclr, temperature: .nan}\n")
    ),
    Case("yaml/binary", lambda r: _config(r, b"\x00\x01\x02")),
    Case("yaml/deep", lambda r: _config(r, b"[" * 5000)),
    Case("yaml/huge-int", lambda r: _config(r, b"seed: 1" + b"0" * 400 + b"\n")),
    Case("yaml/bad-method", lambda r: _config(r, b"method: {name: simclrr}\n")),
    Case("yaml/method-scalar", lambda r: _config(r, b"method: simclr\n")),
    Case("yaml/missing", lambda r: ["--config", str(r / "nope.yaml")]),
    Case("yaml/folder", lambda r: ["--config", str(r)]),
]


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _npz_object(root: Path) -> list[str]:
    path = root / "obj.npz"
    np.savez(path, x=np.array([{"a": 1}, None], dtype=object))
    return ["--data", str(path), *TINY]
