"""The decoded cache: the second read does not decode, is memory-mapped, and equals the
first; a changed folder gets a new entry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from contrastkit.config import DataConfig
from contrastkit.data.cache import cached_decode
from contrastkit.data.folder import decode_folder, scan_folder
from contrastkit.modalities.images.sources import read_image_data

from .images import make_folder, save, shape_image


def test_second_read_comes_from_the_cache_without_decoding(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", ["a", "b"], per_class=3)
    layout = scan_folder(root)
    calls = []

    def decode():  # type: ignore[no-untyped-def]
        calls.append(1)
        return decode_folder(layout)

    opts = {"cache_dir": tmp_path / "cache", "skip_bad": False, "image_size": None}
    first = cached_decode(layout, decode, **opts)  # type: ignore[arg-type]
    second = cached_decode(layout, decode, **opts)  # type: ignore[arg-type]
    assert len(calls) == 1
    torch.testing.assert_close(first.images, second.images, rtol=0, atol=0)
    assert first.labels.tolist() == second.labels.tolist()
    assert first.paths == second.paths and first.class_names == second.class_names
    assert any("memory-mapped" in n for n in second.notes)
    (npy,) = (tmp_path / "cache").glob("*.npy")
    assert isinstance(np.load(npy, mmap_mode="r"), np.memmap)


def test_changing_a_file_makes_a_new_entry(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", None, per_class=3)
    cfg = DataConfig(source="folder", path=str(root), cache=True, cache_dir=str(tmp_path / "c"))
    before = read_image_data(cfg)
    save(root / "img001.png", shape_image(50))
    after = read_image_data(cfg)
    assert len(list((tmp_path / "c").glob("*.npy"))) == 2
    assert not isinstance(before, tuple) and not isinstance(after, tuple)
    assert not torch.equal(before.images[1], after.images[1])
    np.testing.assert_array_equal(after.images[1].numpy(), shape_image(50).transpose(2, 0, 1))


def test_default_cache_dir_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    root = make_folder(tmp_path / "d", None, per_class=2)
    read_image_data(DataConfig(source="auto", path=str(root), cache=True))
    assert len(list((tmp_path / "xdg" / "contrastkit" / "decoded").glob("*.npy"))) == 1
