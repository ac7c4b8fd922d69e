"""What `contrastkit serve` serves: a run's towers (the models that read queries), its
catalog (index, ids, thumbnails) and, for a recommender run, its users and items embedded;
`build_service` loads them from a run directory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from contrastkit.errors import UserError
from contrastkit.modalities.recommendations import Recommendations
from contrastkit.serve.auth import check_key_setting
from contrastkit.serve.batcher import MicroBatcher
from contrastkit.serve.catalog import Catalog
from contrastkit.serve.engine import QueryKind, Tower
from contrastkit.serve.limits import UNPROCESSABLE, Limits, RequestError


@dataclass
class Service:
    """Everything the app serves.

    Attributes:
        towers: The tower that reads each query kind ('image', 'text', 'row').
        catalog: The index, ids and thumbnails.
        backend: 'onnx' or 'torch'.
        title: Shown on the page (the run's name).
        limits: Per-request limits.
        api_key: Required in `X-API-Key` when set.
        batch_window_ms: Micro-batching window (0: none).
        recommendations: A recommender run's users and items embedded (`/recommend`), or
            None.
    """

    towers: dict[QueryKind, Tower]
    catalog: Catalog
    backend: str
    title: str
    limits: Limits = field(default_factory=Limits)
    api_key: str | None = None
    batch_window_ms: float = 2.0
    recommendations: Recommendations | None = None
    batchers: dict[str, MicroBatcher] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        check_key_setting(self.api_key)
        for tower in self.towers.values():
            if tower.folder not in self.batchers:
                self.batchers[tower.folder] = MicroBatcher(
                    tower.run, window_ms=self.batch_window_ms, max_rows=self.limits.max_batch
                )

    def tower(self, kind: QueryKind) -> Tower:
        """The tower that reads `kind` queries.

        Raises:
            RequestError: 422, the run takes no such queries (names those it takes).
        """
        tower = self.towers.get(kind)
        if tower is None:
            takes = ", ".join(self.towers) or "nothing"
            raise RequestError(
                UNPROCESSABLE, f"this run takes no {kind} queries (it takes: {takes})"
            )
        return tower

    async def embed(self, kind: QueryKind, items: Sequence[Any]) -> np.ndarray:
        """A request's items embedded by the tower for `kind`, batched with other
        requests in flight. Shape: (len(items), D) float32."""
        tower = self.tower(kind)
        out = await self.batchers[tower.folder].submit(tower.inputs(items, self.limits))
        if not np.isfinite(out).all():
            raise RequestError(UNPROCESSABLE, "the model gave a non-finite embedding")
        return out

    def stored_vector(self, item: str) -> np.ndarray:
        """The index's vector of an item id. Shape: (1, D).

        Raises:
            RequestError: 404 for an id the index does not hold, 422 when the index
                cannot return stored vectors.
        """
        row = self.catalog.ids.row_of(item, name="id")
        try:
            return self.catalog.index.vector(row)[None]
        except UserError as err:
            raise RequestError(UNPROCESSABLE, str(err)) from None

    async def close(self) -> None:
        """Stop the batchers' workers."""
        for batcher in self.batchers.values():
            await batcher.close()


def check_choices(*, backend: str, index: str | None) -> None:
    """Refuse an unknown backend or a malformed index name before anything is loaded.

    Raises:
        UserError: names the option and what it expects.
    """
    from contrastkit.index.store import check_name
    from contrastkit.serve.engine import BACKENDS

    if backend not in BACKENDS:
        raise UserError(f"--backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if index is not None:
        check_name(index)


def build_service(
    run: Path,
    *,
    index: str | None = None,
    backend: str = "onnx",
    api_key: str | None = None,
    limits: Limits | None = None,
    batch_window_ms: float = 2.0,
    threads: int | None = None,
    log: Callable[[str], None] = print,
) -> Service:
    """Load a run's model(s) under `backend` and its index (named, else the run's data).

    `threads` caps ONNX Runtime's intra-op threads (PyTorch's are set with
    `torch.set_num_threads`); None leaves the runtimes' defaults.

    Raises:
        UserError: an unknown backend, no export for the ONNX backend, a missing index,
            or an index whose dimension differs from the model's.
    """
    from contrastkit.run import load_run
    from contrastkit.serve.engine import onnx_towers, torch_towers
    from contrastkit.serve.sources import run_catalog

    check_choices(backend=backend, index=index)
    _, modality, method = load_run(run)
    recommendations = modality.recommendations(method)
    if recommendations is not None:  # a recommender answers by ids: no query tower
        towers: list[Tower] = []
        if backend == "onnx":
            log("a recommender run is served from embeddings made by PyTorch at startup")
            backend = "torch"
    elif backend == "onnx":
        towers = onnx_towers(run / "export", threads=threads)
    else:
        towers = torch_towers(modality, method)
    by_kind: dict[QueryKind, Tower] = {}
    for tower in towers:
        if tower.takes is not None:
            by_kind.setdefault(tower.takes, tower)
    catalog = run_catalog(run, modality, method, index, log)
    log(
        f"serving {catalog.name}: {len(catalog.index)} items of dimension "
        f"{catalog.index.dim}, {backend} backend, queries: {', '.join(by_kind) or 'none'}"
    )
    return Service(
        towers=by_kind,
        catalog=catalog,
        backend=backend,
        title=run.resolve().name,
        limits=limits or Limits(),
        api_key=api_key,
        batch_window_ms=batch_window_ms,
        recommendations=recommendations,
    )
