"""Image folders: layouts, exact pixels, modes, sizes, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from contrastkit.data.folder import decode_folder, scan_folder
from contrastkit.errors import UserError

from .images import make_folder, save, shape_image


def _read(root: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return decode_folder(scan_folder(root), **kwargs)  # type: ignore[arg-type]


def test_class_subfolders_give_labels_and_exact_pixels(tmp_path: Path) -> None:
    data = _read(make_folder(tmp_path / "d", ["cat", "dog", "owl"], per_class=3))
    assert data.class_names == ["cat", "dog", "owl"]
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert tuple(data.images.shape) == (9, 3, 16, 16)
    expected = shape_image(100 * 1 + 2).transpose(2, 0, 1)  # dog/002.png
    np.testing.assert_array_equal(data.images[5].numpy(), expected)
    assert data.paths[5].endswith("dog/002.png") and data.labelled
    assert data.summary() == "9 images, 16x16 RGB, 3 classes (cat, dog, owl)"


def test_flat_folder_is_unlabeled_and_hidden_files_are_ignored(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "flat", None, per_class=5)
    (root / ".DS_Store").write_bytes(b"junk")
    data = _read(root)
    assert len(data.paths) == 5 and not data.labelled and data.class_names == []
    assert (data.labels == -1).all()
    assert "no labels" in data.summary()


def test_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="empty.*the folder is empty"):
        scan_folder(tmp_path / "empty")


def test_file_next_to_class_folders_is_named(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", ["a", "b"], per_class=1)
    save(root / "stray.png", shape_image(0))
    with pytest.raises(UserError, match="stray.png: a file next to class subfolders"):
        scan_folder(root)


def test_empty_class_folder_is_left_out_with_a_note(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", ["a", "b"], per_class=2)
    (root / "c").mkdir()
    data = _read(root)
    assert data.class_names == ["a", "b"]
    assert any("'c' is empty" in note for note in data.notes)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "cannot decode"),
        ("notes.txt", b"hello", "not an image file"),
        ("random.jpg", bytes(range(256)) * 4, "cannot decode"),
    ],
)
def test_bad_file_stops_the_read_naming_the_file(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    root = make_folder(tmp_path / "d", None, per_class=3)
    (root / name).write_bytes(content)
    with pytest.raises(UserError, match=rf"{name}: {reason}.*--skip-bad"):
        _read(root)


def test_truncated_image_is_named(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", None, per_class=2)
    whole = save(tmp_path / "whole.jpg", shape_image(7, 64)).read_bytes()
    (root / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UserError, match="cut.jpg: cannot decode"):
        _read(root)


def test_skip_bad_skips_and_reports_how_many(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", ["a", "b"], per_class=3)
    (root / "a" / "bad1.png").write_bytes(b"not a png")
    (root / "b" / "bad2.txt").write_text("hello")
    data = _read(root, skip_bad=True)
    assert len(data.paths) == 6 and data.labels.tolist() == [0, 0, 0, 1, 1, 1]
    (note,) = [n for n in data.notes if "skipped" in n]
    assert note.startswith("skipped 2 bad file(s)") and "bad1.png" in note


def test_all_files_bad_is_an_error_even_with_skip_bad(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.png").write_bytes(b"nope")
    with pytest.raises(UserError, match="no readable images"):
        _read(tmp_path / "d", skip_bad=True)


def test_mixed_sizes_are_resized_to_the_most_common_with_a_note(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "d", None, per_class=3, size=16)
    save(root / "big.png", shape_image(9, 24))
    data = _read(root)
    assert tuple(data.images.shape) == (4, 3, 16, 16)
    assert any("resized 1 of 4 images to 16x16" in n for n in data.notes)
    assert tuple(_read(root, image_size=8).images.shape) == (4, 3, 8, 8)


def test_grey_rgba_16bit_and_rgb_are_mixed_into_rgb(tmp_path: Path) -> None:
    root = tmp_path / "d"
    rgb = shape_image(1, 4)
    grey = np.arange(16, dtype=np.uint8).reshape(4, 4) * 15
    grey16 = (np.arange(16, dtype=np.uint16) * 4369).reshape(4, 4)  # 4369 = 65535 / 15
    rgba = np.concatenate([rgb, np.full((4, 4, 1), 7, np.uint8)], axis=2)
    save(root / "a_rgb.png", rgb)
    save(root / "b_grey.png", grey)
    save(root / "c_grey16.png", grey16)
    save(root / "d_rgba.png", rgba)
    data = _read(root)
    x = data.images.numpy()
    assert x.shape == (4, 3, 4, 4)
    np.testing.assert_array_equal(x[0], rgb.transpose(2, 0, 1))
    np.testing.assert_array_equal(x[1], np.repeat(grey[None], 3, 0))
    np.testing.assert_array_equal(x[2], np.repeat((np.arange(16) * 17).reshape(1, 4, 4), 3, 0))
    np.testing.assert_array_equal(x[3], rgb.transpose(2, 0, 1))  # alpha dropped
    assert any("grey image(s) repeated on 3 channels" in n for n in data.notes)
    assert any("mixed image modes" in n and "I;16" in n for n in data.notes)


def test_grey_only_folder_stays_one_channel(tmp_path: Path) -> None:
    root = tmp_path / "d"
    for i in range(3):
        save(root / f"{i}.bmp", np.full((5, 6), 40 * i, np.uint8))
    data = _read(root)
    assert tuple(data.images.shape) == (3, 1, 5, 6)
    assert data.images[:, 0, 0, 0].tolist() == [0, 40, 80]
