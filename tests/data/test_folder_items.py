"""The lazy folder dataset decodes the same pixels, labels and notes as `decode_folder`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from contrastkit.data.folder import decode_folder, scan_folder
from contrastkit.data.folder_items import scan_folder_items, stack_images, stack_labelled
from contrastkit.errors import UserError

from .images import save, shape_image


def mixed_folder(root: Path) -> Path:
    """Two classes; RGB 16x16 (most common), a grey 16x16, a grey 8x12, an RGBA 20x20 JPEG."""
    for i in range(3):
        save(root / "a" / f"{i}.png", shape_image(i))
    save(root / "a" / "grey.png", shape_image(7)[..., 0])
    save(root / "b" / "small.png", shape_image(8, size=12)[:8, :, 1])
    rgba = np.concatenate([shape_image(9, size=20), np.full((20, 20, 1), 200, np.uint8)], axis=2)
    save(root / "b" / "alpha.png", rgba)
    save(root / "b" / "photo.jpg", shape_image(10))
    return root


def assert_same(root: Path, **options: object) -> None:
    layout = scan_folder(root)
    eager = decode_folder(layout, **options)  # type: ignore[arg-type]
    lazy = scan_folder_items(layout, **options)  # type: ignore[arg-type]
    assert lazy.paths == eager.paths and lazy.class_names == eager.class_names
    assert lazy.notes == eager.notes
    assert lazy.shape == tuple(eager.images.shape[1:])
    items = [lazy[i] for i in range(len(lazy))]
    assert all(image.dtype == torch.uint8 and label.dtype == torch.int64 for image, label in items)
    assert torch.equal(stack_images(items), eager.images)
    images, labels = stack_labelled(items)
    assert torch.equal(images, eager.images) and torch.equal(labels, eager.labels)


def test_mixed_sizes_and_modes_decode_like_decode_folder(tmp_path: Path) -> None:
    assert_same(mixed_folder(tmp_path / "d"))


def test_image_size_and_grey_only(tmp_path: Path) -> None:
    root = mixed_folder(tmp_path / "d")
    assert_same(root, image_size=10)
    grey = tmp_path / "grey"
    save(grey / "x.png", shape_image(1)[..., 0])
    save(grey / "y.png", shape_image(2, size=12)[..., 2])
    assert_same(grey)
    assert scan_folder_items(scan_folder(grey)).shape == (1, 16, 16)  # tie: the larger size


def test_bad_file_names_it_or_is_skipped(tmp_path: Path) -> None:
    root = mixed_folder(tmp_path / "d")
    (root / "b" / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(UserError, match=r"broken\.png.*--skip-bad"):
        scan_folder_items(scan_folder(root))
    assert_same(root, skip_bad=True)
    lazy = scan_folder_items(scan_folder(root), skip_bad=True)
    assert any("skipped 1 bad file" in note for note in lazy.notes)


def test_truncated_data_behind_a_good_header_fails_naming_the_file(tmp_path: Path) -> None:
    root = tmp_path / "d"
    save(root / "ok.png", shape_image(1))
    cut = save(root / "cut.png", shape_image(2, size=64))
    cut.write_bytes(cut.read_bytes()[:200])
    items = scan_folder_items(scan_folder(root))
    assert len(items) == 2
    with pytest.raises(UserError, match=r"cut\.png"):
        items[items.paths.index(str(cut))]


def test_subset_keeps_the_form(tmp_path: Path) -> None:
    items = scan_folder_items(scan_folder(mixed_folder(tmp_path / "d")))
    part = items.subset([4, 0])
    assert part.paths == [items.paths[4], items.paths[0]] and part.shape == items.shape
    assert torch.equal(part[0][0], items[4][0]) and part.labels.tolist() == [1, 0]
