"""What `contrastkit embed`, `index`, `search`, `anomaly`, `zero-shot` and `recommend` do,
as functions over a run directory. Every modality goes through its contract (`modalities/base.py`):
`embed` (new data with ids), `query` (one query as the index's entries were embedded) and
`reference` (training and held-out embeddings).

Example:
    >>> embed_run(Path("runs/a"), "new.csv", Path("z.npy"))     # z.npy + z.ids.txt
    >>> index_run(Path("runs/a"), "train", name="all")           # runs/a/indexes/all/
    >>> search_run(Path("runs/a"), "query.png", k=5, index="all").hits
    >>> search_run(Path("runs/clip"), "a sneaker", text=True, index="clips").scenes  # videos
    >>> recommend_run(Path("runs/rec"), "u17", k=10).items      # two_tower runs
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
from torch import nn

from contrastkit.atomic import writable_folder, write_atomic, write_text_atomic
from contrastkit.errors import UserError
from contrastkit.eval.anomaly import knn_outlier_scores, threshold_at_quantile
from contrastkit.eval.classification import top1_accuracy
from contrastkit.index.ann import KINDS, BuiltIndex, KindChoice, build_index
from contrastkit.index.scenes import Scene, is_video_index, search_scenes
from contrastkit.index.store import (
    NamedIndex,
    check_name,
    in_memory,
    list_indexes,
    load_index,
    save_index,
    search_rows,
)
from contrastkit.modalities.base import Embedded, EmbedOptions, Log, Modality
from contrastkit.modalities.recommendations import Recommended
from contrastkit.run import load_run
from contrastkit.rundir import CHECKPOINT, check_output_file, model_fingerprint

INDEXES = "indexes"
"""The run's named indexes: `<run>/indexes/<name>/` (`index/store.py`)."""
DEFAULT_INDEX = "default"
BATCH = 4096
"""Vectors handed to the index builder at a time."""


def ids_path(out: Path) -> Path:
    """Where `embed` writes the ids of `out`'s rows: `<stem>.ids.txt` beside it."""
    return out.with_name(f"{out.stem}.ids.txt")


def embed_run(
    run: Path,
    data: str,
    out: Path,
    *,
    options: EmbedOptions = EmbedOptions(),
    overwrite: bool = False,
    log: Log = print,
) -> tuple[int, int]:
    """Embed `data` with a run's model: a float32 (N, D) `.npy` at `out` and the ids beside
    it (`<stem>.ids.txt`, one per line: line i is row i of the array). Writes no index.

    Raises:
        UserError: `out` (or its ids file) exists without `overwrite`, is a run file, or the
            data cannot be read.
    """
    check_output_file(out, overwrite=overwrite, run=run)
    check_output_file(ids_path(out), overwrite=overwrite, run=run, option="--out (ids file)")
    _, modality, method = load_run(run)
    embedded = modality.embed(method, data, log, options)
    array = embedded.vectors.numpy().astype(np.float32)
    write_atomic(out, lambda handle: np.save(handle, array))
    write_text_atomic(ids_path(out), "".join(f"{_one_line(i)}\n" for i in embedded.ids))
    log(f"wrote the ids to {ids_path(out)} (line i = row i of {out.name})")
    return int(array.shape[0]), int(array.shape[1])


def _one_line(identifier: str) -> str:
    """An id as one line of the ids file (a newline in an id would shift every row)."""
    return identifier.replace("\n", "\\n").replace("\r", "\\r")


@dataclass(frozen=True)
class IndexReport:
    """What `index_run` built: name, folder, kind, vector count, dimension, recall@10
    against exact search (None for the exact flat index) and the search parameters."""

    name: str
    folder: Path
    kind: str
    count: int
    dim: int
    recall_at_10: float | None
    recall_queries: str
    params: dict[str, int]


def _batches(vectors: np.ndarray) -> Iterator[np.ndarray]:
    for start in range(0, len(vectors), BATCH):
        yield vectors[start : start + BATCH]


def index_run(
    run: Path,
    data: str,
    *,
    name: str = DEFAULT_INDEX,
    kind: str = "auto",
    options: EmbedOptions = EmbedOptions(),
    overwrite: bool = False,
    log: Log = print,
) -> IndexReport:
    """Embed `data` and build the named index `<run>/indexes/<name>/` from it in batches
    (`index/ann.py`: exact flat up to 100k vectors, IVF above, or `kind`), stamped with the
    run's model fingerprint. Video frames keep their thumbnails (`index/thumbnails.py`).

    Raises:
        UserError: an index of that name exists without `overwrite`, a bad name or kind,
            or the run's `indexes/` folder cannot be written.
    """
    check_name(name)  # before anything is read: '' would name the indexes folder itself
    if kind not in KINDS:
        raise UserError(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    root = run / INDEXES
    if (root / name).exists() and not overwrite:
        raise UserError(
            f"{root / name}: an index named {name!r} exists; choose another --name or pass "
            "--overwrite to replace it"
        )
    _, modality, method = load_run(run)  # refuses a run still training: before indexes/
    return _index_and_save(run, modality, method, data, name, kind, options, overwrite, log)


def _index_and_save(
    run: Path,
    modality: Modality,
    method: nn.Module,
    data: str,
    name: str,
    kind: str,
    options: EmbedOptions,
    overwrite: bool,
    log: Log,
) -> IndexReport:
    """`index_run` once its arguments are checked and its run is loaded."""
    root = writable_folder(run / INDEXES)  # before the data is embedded
    built, embedded, fingerprint = _build_index(run, modality, method, data, kind, options, log)
    folder = save_index(
        root,
        name,
        built,
        embedded.ids,
        fingerprint=fingerprint,
        overwrite=overwrite,
        info={"data": embedded.name, **embedded.info},
        thumbnails=embedded.thumbnails,
        shown=embedded.shown,
    )
    return IndexReport(
        name,
        folder,
        built.kind,
        built.count,
        built.dim,
        built.recall_at_10,
        built.recall_queries,
        dict(built.params),
    )


def _build_index(
    run: Path,
    modality: Modality,
    method: nn.Module,
    data: str,
    kind: str,
    options: EmbedOptions,
    log: Log,
) -> tuple[BuiltIndex, Embedded, str]:
    """Embed `data` with the run's model and build an index of it: (the index, the
    embedded data, the model fingerprint)."""
    fingerprint = model_fingerprint(run / CHECKPOINT)
    embedded = modality.embed(method, data, log, options)
    vectors = embedded.vectors.numpy().astype(np.float32)
    built = build_index(
        _batches(vectors),
        dim=int(vectors.shape[1]),
        kind=cast(KindChoice, kind),  # checked against KINDS by the caller
        count=len(vectors),
    )
    return built, embedded, fingerprint


@dataclass(frozen=True)
class Hit:
    """One search hit: its id, cosine similarity, and what a person reads for it beside
    the id (the sentence, the row's leading columns, the image's name in its folder; ''
    when the id says it all)."""

    id: str
    score: float
    shown: str = ""


@dataclass(frozen=True)
class SearchResult:
    """Hits best first, the index searched and its size; for an index of video frames,
    the scenes best first, and the hits are their best frames."""

    hits: list[Hit]
    index: str
    size: int
    scenes: list[Scene] | None = None


def search_run(
    run: Path,
    query: str,
    k: int = 5,
    *,
    index: str | None = None,
    text: bool = False,
    log: Log = print,
) -> SearchResult:
    """The `k` entries of a named index most similar to `query` (cosine); in an index of
    video frames, the `k` best scenes (consecutive matching frames as time ranges,
    `index/scenes.py`).

    Without `index`: the run's only index, or 'default'; when the run has no index at all,
    its own data ('train') is indexed as 'default' first (in memory, with a note, when the
    run's folder cannot be written). With `text`, the query is a text for the run's text
    tower (`search --text`).

    Raises:
        UserError: k < 1, no such index (the names are listed), an index built by another
            model (fingerprint), a query of the wrong kind for the run, or a text query on a
            run without a text tower (which runs can answer it).
    """
    if k < 1:
        raise UserError(f"--k must be >= 1, got {k}")
    root = run / INDEXES
    _, modality, method = load_run(run)  # refuses a run still training: before indexes/
    named = None
    if index is None:
        index, named = _default_index(run, modality, method, log)
    if named is None:
        named = load_index(root, index, expect_fingerprint=model_fingerprint(run / CHECKPOINT))
    info = dict(named.meta.get("info", {}))
    z = modality.query_text(method, query, info) if text else modality.query(method, query, info)
    shown = named.shown or [""] * named.count
    if is_video_index(named.meta):
        scenes = search_scenes(named, z.numpy(), k)
        hits = [Hit(named.ids[s.row], s.score, shown[s.row]) for s in scenes]
        return SearchResult(hits, index, named.count, scenes)
    scores, rows = search_rows(named, z.numpy(), k)
    hits = [
        Hit(named.ids[r], float(s), shown[r])
        for r, s in zip(rows[0], scores[0].tolist(), strict=False)
    ]
    return SearchResult(hits, index, named.count)


def _default_index(
    run: Path, modality: Modality, method: nn.Module, log: Log
) -> tuple[str, NamedIndex | None]:
    """The run's only index, or 'default', built from the run's data when there is none;
    held in memory (returned, with a note) when the run's folder cannot be written."""
    root = run / INDEXES
    names = [m["name"] for m in list_indexes(root)]
    if not names:
        try:
            writable_folder(root)
        except UserError as err:
            log(f"note: {err}; indexing the run's data in memory (not saved)")
            built, embedded, fingerprint = _build_index(
                run, modality, method, "train", "auto", EmbedOptions(), log
            )
            info = {"data": embedded.name, **embedded.info}
            named = in_memory(
                root,
                DEFAULT_INDEX,
                built,
                embedded.ids,
                fingerprint=fingerprint,
                info=info,
                shown=embedded.shown,
            )
            return DEFAULT_INDEX, named
        log(f"no index in {root}/: indexing the run's data as {DEFAULT_INDEX!r}")
        _index_and_save(
            run, modality, method, "train", DEFAULT_INDEX, "auto", EmbedOptions(), False, log
        )
        names = [DEFAULT_INDEX]
    if len(names) > 1 and DEFAULT_INDEX not in names:
        raise UserError(f"{root}: several indexes ({', '.join(names)}); choose one with --index")
    return (DEFAULT_INDEX if DEFAULT_INDEX in names else names[0]), None


@dataclass(frozen=True)
class AnomalyReport:
    """What `anomaly_run` wrote and found.

    Attributes:
        csv: The ranked CSV (id, score, flagged), most anomalous first.
        png: The histogram of the scores with the threshold.
        count: Items scored; flagged: how many are above the threshold.
        threshold: The `quantile` of the held-out normal (test split) scores.
    """

    csv: Path
    png: Path
    count: int
    flagged: int
    threshold: float


def anomaly_run(
    run: Path,
    data: str,
    *,
    k: int = 5,
    quantile: float = 0.95,
    out: Path = Path("scores.csv"),
    options: EmbedOptions = EmbedOptions(),
    overwrite: bool = False,
    log: Log = print,
) -> AnomalyReport:
    """Score each item of `data` by its mean cosine distance to its `k` nearest training
    embeddings; flag scores above the `quantile` of the held-out (test split) normal items'
    scores. Writes `out` (CSV: rank, id, score, flagged; highest score first) and
    `<out stem>.png` (the histogram with the threshold).

    Raises:
        UserError: bad k / quantile, existing outputs without `overwrite`, unreadable data.
    """
    if not 0 < quantile < 1:
        raise UserError(f"--quantile must be in (0, 1), got {quantile}")
    png = out.with_suffix(".png")
    check_output_file(out, overwrite=overwrite, run=run)
    check_output_file(png, overwrite=overwrite, run=run, option="--out (histogram)")
    _, modality, method = load_run(run)
    train, held = modality.reference(method, log)
    if not 1 <= k <= len(train):
        raise UserError(f"--k must be in [1, {len(train)}] (training items), got {k}")
    embedded: Embedded = modality.embed(method, data, log, options)
    scores = knn_outlier_scores(train, embedded.vectors, k)
    threshold = threshold_at_quantile(knn_outlier_scores(train, held, k), quantile)
    flagged = scores > threshold
    order = np.argsort(-scores, kind="stable")
    lines = ["rank,id,score,flagged\n"] + [
        f"{r + 1},{_csv_cell(embedded.ids[i])},{scores[i]:.6f},{int(flagged[i])}\n"
        for r, i in enumerate(order)
    ]
    write_text_atomic(out, "".join(lines))
    _histogram(scores, threshold, quantile, png, title=f"{embedded.name}: k-NN distance (k={k})")
    return AnomalyReport(out, png, len(scores), int(flagged.sum()), threshold)


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def _histogram(scores: np.ndarray, threshold: float, q: float, path: Path, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(scores, bins=min(50, max(10, len(scores) // 10)), color="#4c72b0")
    ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold (q={q:g} of held-out)")
    ax.set_xlabel("anomaly score: mean cosine distance to the k nearest training items")
    ax.set_ylabel("items")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    write_atomic(path, lambda handle: fig.savefig(handle, format="png", dpi=100))
    plt.close(fig)


@dataclass(frozen=True)
class ZeroShotReport:
    """Zero-shot predictions: ids, predicted label and its probability per item, and the
    accuracy over the items whose true label is among the labels (None when none is)."""

    ids: list[str]
    predicted: list[str]
    probability: list[float]
    accuracy: float | None
    scored: int


def zero_shot_run(
    run: Path,
    labels: list[str],
    data: str,
    *,
    templates: tuple[str, ...] = ("a photo of {}",),
    log: Log = print,
) -> ZeroShotReport:
    """Classify the inputs of `data` into `labels` with no training labels: the label whose
    prompts' mean text embedding is most similar (CLIP's zero-shot).

    Raises:
        UserError: not an image-text / audio-text run, fewer than 2 labels, a template
            without '{}'.
    """
    labels = [label.strip() for label in labels if label.strip()]
    if len(set(labels)) < 2:
        raise UserError(f"--labels: give at least two distinct labels, got {labels}")
    for template in templates:
        if "{}" not in template:
            raise UserError(f"--template {template!r}: needs '{{}}' where the label goes")
    _, modality, method = load_run(run)
    scores = modality.zero_shot(method, labels, data, list(templates), log)
    ids, probs, truth = scores.ids, scores.probabilities, scores.truth
    best = probs.argmax(dim=1)
    known = truth >= 0
    accuracy = top1_accuracy(best[known], truth[known]) if bool(known.any()) else None
    return ZeroShotReport(
        ids,
        [labels[int(i)] for i in best],
        probs.gather(1, best[:, None]).flatten().tolist(),
        accuracy,
        int(known.sum()),
    )


@dataclass(frozen=True)
class RecommendResult:
    """A user's recommendations, best first; the candidates they were drawn from and how
    many of those were left out (the user already has them)."""

    user: str
    items: list[Recommended]
    candidates: int
    left_out: int


def recommend_run(
    run: Path,
    user: str,
    k: int = 10,
    *,
    item_features: Path | None = None,
    log: Log = print,
) -> RecommendResult:
    """The `k` items a recommender run scores highest for `user` among the items the user
    has no interaction with in the run's data (cosine of the two towers' embeddings).

    With `item_features` (a CSV `item,<the training feature columns>`), the candidates are
    that file's items instead: items the run knows are embedded as in training, new ones
    from their features only (cold start).

    Raises:
        UserError: not a recommender run, an unknown user (close ids named), k < 1, or an
            unreadable item-features file.
    """
    if k < 1:
        raise UserError(f"--k must be >= 1, got {k}")
    _, modality, method = load_run(run)
    table = modality.recommendations(method)
    if table is None:
        raise UserError(
            f"recommend: {run} is a {modality.name} run; recommend needs a recommender run "
            "(method two_tower on interactions, configs/interactions_two_tower.yaml)"
        )
    if item_features is None:
        items = table.top_k(user, k)
        return RecommendResult(user, items, len(table.item_names), table.seen_among(user))
    table.user_code(user)  # an unknown user is named before the file is read
    names, vectors = modality.item_vectors(method, item_features, log)
    items = table.top_k_among(user, k, names, vectors)
    return RecommendResult(user, items, len(names), table.seen_among(user, names))
