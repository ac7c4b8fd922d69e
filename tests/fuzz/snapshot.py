"""What existed before a command: every file under some folders, by content. After the
command, `lost` lists each of those files that is gone or changed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Snapshot:
    """The sha256 of every file (symbolic links: their target text) under `roots`."""

    def __init__(self, *roots: Path) -> None:
        self.files: dict[Path, str] = {}
        for root in roots:
            for dirpath, _dirs, names in os.walk(root):
                for name in names:
                    path = Path(dirpath) / name
                    self.files[path] = (
                        f"link:{os.readlink(path)}" if path.is_symlink() else _digest(path)
                    )

    def lost(self) -> list[str]:
        """Each file of the snapshot that is now missing or different, with why."""
        found = []
        for path, digest in self.files.items():
            if not os.path.lexists(path):
                found.append(f"{path}: gone")
            elif path.is_symlink():
                if digest != f"link:{os.readlink(path)}":
                    found.append(f"{path}: link changed")
            elif _digest(path) != digest:
                found.append(f"{path}: changed")
        return found
