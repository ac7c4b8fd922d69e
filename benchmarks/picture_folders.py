"""Class folders of pictures from Debian packages, for benchmarks/pretrained.py.

- clipart: Open Clip Art (`apt-get install openclipart-png`), 8 of its categories, at most
  90 drawings each, composited on white and written as 96x96 JPEGs (700 pictures);
- icons: the MATE icon theme (`apt-get install mate-icon-theme`), its 48x48 PNGs by context
  (actions, apps, categories, devices, mimetypes, places, status), at most 120 each, on white;
- fashion: the Fashion-MNIST test set (`apt-get install dataset-fashion-mnist`), 200 seeded
  picks of each of its 10 classes as 28x28 grey PNGs in class folders (2,000 pictures).

Each picture keeps its aspect ratio (padded to a square). The pick is seeded.

    python benchmarks/picture_folders.py --out /tmp/folders
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np
from PIL import Image

CLIPART = Path("/usr/share/openclipart/png")
CLIPART_CLASSES = ("animals", "buildings", "food", "office", "people", "plants", "tools",
                   "transportation")  # fmt: skip
ICONS = Path("/usr/share/icons/mate/48x48")
ICON_CLASSES = ("actions", "apps", "categories", "devices", "mimetypes", "places", "status")
FASHION = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = ("tshirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                   "sneaker", "bag", "ankle_boot")  # fmt: skip


def on_white(path: Path, side: int) -> Image.Image:
    """The picture composited on white, scaled to fit `side` and centred on a square."""
    with Image.open(path) as image:
        rgba = image.convert("RGBA")
    rgba.thumbnail((side, side), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    at = ((side - rgba.width) // 2, (side - rgba.height) // 2)
    canvas.paste(rgba, at, rgba)
    return canvas


def write_classes(
    root: Path, classes: tuple[str, ...], out: Path, *, per_class: int, side: int, suffix: str
) -> int:
    """At most `per_class` seeded picks of each class folder's PNGs (searched recursively)."""
    rng = np.random.default_rng(0)
    n = 0
    for name in classes:
        files = sorted((root / name).rglob("*.png"))
        if not files:
            raise SystemExit(f"{root / name}: no PNG files (is the Debian package installed?)")
        picks = rng.permutation(len(files))[:per_class]
        (out / name).mkdir(parents=True, exist_ok=True)
        for i in sorted(picks):
            on_white(files[i], side).save(out / name / f"{files[i].stem}{suffix}", quality=90)
            n += 1
    return n


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip) as an array: 3 dims for images, 1 for labels."""
    raw = gzip.decompress(path.read_bytes())
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def write_fashion(out: Path, *, per_class: int) -> int:
    """`per_class` seeded picks of each class of the Fashion-MNIST test images as PNGs in
    class folders."""
    images = read_idx(FASHION / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(FASHION / "t10k-labels-idx1-ubyte.gz")
    rng = np.random.default_rng(0)
    n = 0
    for label, name in enumerate(FASHION_CLASSES):
        (out / name).mkdir(parents=True, exist_ok=True)
        picks = rng.permutation(np.flatnonzero(labels == label))[:per_class]
        for i in sorted(picks):
            Image.fromarray(images[i]).save(out / name / f"{i:05d}.png")
            n += 1
    return n


def make_folder(name: str, out: Path) -> Path:
    """Write the folder `name` (clipart, icons, fashion) under `out` unless it is there."""
    folder = out / name
    if folder.is_dir():
        return folder
    if name == "clipart":
        write_classes(CLIPART, CLIPART_CLASSES, folder, per_class=90, side=96, suffix=".jpg")
    elif name == "icons":
        write_classes(ICONS, ICON_CLASSES, folder, per_class=120, side=48, suffix=".png")
    else:
        write_fashion(folder, per_class=200)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--folders", nargs="+", default=["clipart", "icons", "fashion"])
    args = parser.parse_args()
    for name in args.folders:
        folder = make_folder(name, args.out)
        print(folder, sum(1 for _ in folder.rglob("*.*")), "pictures")


if __name__ == "__main__":
    main()
