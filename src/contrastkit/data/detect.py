"""What kind of image data a `--data PATH` points at, or why it is none we can read."""

from __future__ import annotations

from pathlib import Path

from contrastkit.data.cifar import cifar_kind
from contrastkit.data.decode import IMAGE_SUFFIXES
from contrastkit.errors import UserError

ARRAY_SUFFIXES = (".npy", ".npz")
EXPECTED = (
    "expected a folder of PNG/JPEG/BMP images (one subfolder per class, or flat for "
    "unlabeled), a CIFAR-10/100 python folder, or a .npy/.npz file"
)


def detect_format(path: Path) -> str:
    """'folder', 'cifar' or 'arrays'.

    Raises:
        UserError: the path is missing or is a file of another kind, saying what was
            found and what was expected.
    """
    if not path.exists():
        raise UserError(f"--data {path}: no such file or folder")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix in ARRAY_SUFFIXES:
            return "arrays"
        if suffix in IMAGE_SUFFIXES:
            raise UserError(f"--data {path}: a single image; pass the folder that holds the images")
        if path.name.endswith((".tar.gz", ".tgz", ".zip")):
            raise UserError(f"--data {path}: an archive; extract it and pass the folder")
        raise UserError(f"--data {path}: a {suffix or 'suffix-less'} file; {EXPECTED}")
    if cifar_kind(path) is not None:
        return "cifar"
    return "folder"
