"""`contrastkit --help` starts without loading torch or the library (issue 17: < 1 s)."""

from __future__ import annotations

import subprocess
import sys


def test_help_imports_neither_torch_nor_the_library() -> None:
    code = (
        "import sys\n"
        "from contrastkit.cli import app\n"
        "try:\n"
        "    app(['--help'], standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
        "names = ('torch', 'numpy', 'sklearn', 'contrastkit.run')\n"
        "heavy = sorted(m for m in names if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY []" in out
    assert "train" in out and "embed" in out
