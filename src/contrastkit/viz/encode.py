"""Turn a matplotlib figure into bytes or a data URI for a self-contained HTML page."""

from __future__ import annotations

import base64
import io

from matplotlib.figure import Figure


def figure_png(fig: Figure, *, dpi: int = 110) -> bytes:
    """The figure as PNG bytes (rendered by Agg; no display, no pyplot state)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def png_bytes_uri(png: bytes) -> str:
    """`data:image/png;base64,...` of PNG bytes, for an `<img src=...>`."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def png_data_uri(fig: Figure, *, dpi: int = 110) -> str:
    """`data:image/png;base64,...` of a figure, for an `<img src=...>`."""
    return png_bytes_uri(figure_png(fig, dpi=dpi))
