"""The `contrastkit` command line.

Commands import what they use when they run, so that `contrastkit --help` starts without
loading torch (tests/cli/test_cli_startup.py).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from contrastkit.errors import UserError, user_message

if TYPE_CHECKING:  # the commands import the library when they run (`--help` stays fast)
    from contrastkit.config import Config

app = typer.Typer(
    name="contrastkit",
    help="Contrastive representation learning: train, evaluate and use embeddings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
if not console.is_terminal:  # a log or a pipe: rich would assume 80 columns and wrap tables
    console.width = max(console.width, 110)
err_console = Console(stderr=True)


class Interrupted(Exception):
    """Ctrl-C during a command: `main` prints the message (how to go on) and exits 130.

    A `KeyboardInterrupt` must be turned into this inside the command: click catches it
    first and prints only "Aborted!" (exit 1)."""


def say(message: str) -> None:
    """A progress line as it is: never wrapped (paths stay whole), no colour guessing."""
    console.print(message, soft_wrap=True, highlight=False)


def print_tables(
    runs: list[tuple[str, dict[str, Any]]], *, title: str, rows: list[str] | None = None
) -> None:
    """The suite's comparison table of `runs` (name, metrics) when it has a number to show,
    its rows named `rows` (default: the runs' names); then each run's own tables
    (cross-modal retrieval, label budgets, a text task, ...), as its modality declares them."""
    from contrastkit.eval.table import comparison_table, has_values
    from contrastkit.modalities.registry import metrics_tables

    names = rows or [name for name, _ in runs]
    suite = [(row, metrics) for row, (_, metrics) in zip(names, runs, strict=True)]
    if has_values(suite):
        console.print(comparison_table(suite, title=title))
    for name, metrics in runs:
        for _, table in metrics_tables(metrics, name):
            console.print(table)


@app.command()
def train(
    config: Annotated[
        Path | None, typer.Option(help="YAML config (default: built-in defaults).")
    ] = None,
    out: Annotated[str, typer.Option(help="Run directory to write.")] = "runs/latest",
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a config key, e.g. --set train.epochs=50 (repeatable)."
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue the run in --out from its checkpoint.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace a finished run in --out.")] = False,
    progress: Annotated[bool, typer.Option(help="Show the progress bar.")] = True,
    stop_on_collapse: Annotated[
        bool,
        typer.Option(help="Stop early when the health monitor sees the embedding collapse."),
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Train on your data, with the recipe for what it holds: an image folder (one "
            "subfolder per class, or flat and unlabeled), a CIFAR python folder or a .npy/.npz "
            "file; a table (.csv, .parquet); text (.txt: one sentence per line; .jsonl, or "
            ".csv with anchor,positive columns: pairs); spoken words (a .csv manifest with "
            "path,text,voice,speed,pitch columns). Sets data.path; the chosen settings are "
            "printed."
        ),
    ] = None,
    label: Annotated[
        str | None,
        typer.Option(
            help="Tables: the label column (evaluation only; default: a column named label, "
            "target, class or y)."
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            help="Tables: the column whose values name the rows, not a feature (default: a "
            "column whose values are all distinct)."
        ),
    ] = None,
    skip_bad: Annotated[
        bool,
        typer.Option(
            help="Leave unreadable input files (images, WAV) out and say how many (data.skip_bad)."
        ),
    ] = False,
) -> None:
    """Train an encoder, evaluate it against the baselines, and write the run directory.

    Multi-process: `torchrun --nproc-per-node N -m contrastkit train ...` (DDP; gloo on CPU).
    """
    from contrastkit.run import train_run

    if not out.strip():
        raise UserError("--out: empty; name the run directory, e.g. --out runs/a")
    run_dir = Path(out)
    data_keys = {"label": label, "id_column": id_column, "skip_bad": skip_bad or None}
    if data is not None:
        data_keys |= {"source": "auto", "path": str(data)}
    cfg = _train_config(config, set_ or [], run_dir, resume, data_keys, stop_on_collapse)
    started = time.time()
    try:
        metrics = train_run(
            cfg,
            run_dir,
            resume=resume,
            overwrite=overwrite,
            show_progress=progress,
            log=say,
        )
    except KeyboardInterrupt as err:  # click would print "Aborted!" and exit 1: say how to go on
        raise Interrupted(interrupted_message(err, run_dir, resume=resume, since=started)) from None
    if metrics:  # a non-zero rank of a multi-process run returns none: rank 0 reports
        print_training_summary(run_dir, metrics)


def print_training_summary(run_dir: Path, metrics: dict[str, Any]) -> None:
    """What `train` prints at the end: a collapse warning, the tables, the health line,
    what was written, and a note when training waited long for its data."""
    if "collapse" in metrics:
        err_console.print(
            f"[bold yellow]warning:[/] collapse at step {metrics['collapse']['step']}: "
            f"{metrics['collapse']['symptom']}"
        )
    this_run = f"{metrics.get('method', 'trained')} (this run)"
    print_tables([(str(run_dir), metrics)], title=str(run_dir), rows=[this_run])
    if "health" in metrics or "eval" in metrics:
        console.print(health_line(metrics))
    console.print(
        f"wrote {run_dir}/ (config.yaml, metrics.json, log.jsonl, checkpoint.pt) in "
        f"{metrics['train_time_s']:.0f} s of training"
    )
    waited, total = metrics.get("data_wait_s", 0.0), metrics["train_time_s"]
    if total > 0 and waited > INPUT_BOUND * total:
        err_console.print(
            f"note: training waited {waited:.0f} s ({waited / total:.0%}) for its data; "
            "raise train.workers, or decode once with data.cache: true"
        )


def _train_config(
    config: Path | None,
    sets: list[str],
    out: Path,
    resume: bool,
    data_keys: dict[str, Any],
    stop_on_collapse: bool,
) -> Config:
    """The user's config for `train`: the file and `--set` values with the flags' keys
    (`data_keys`: the data section's, None where the flag is not given), or for `--resume`
    the run's saved config (only eval.* keys may change)."""
    from contrastkit.config import load_config, updated, with_eval_overrides
    from contrastkit.rundir import CONFIG

    if resume:
        if config is not None:
            raise UserError(
                "--resume continues with the run's saved config.yaml; do not pass --config"
            )
        cfg = load_config(out / CONFIG)
        if sets:  # the evaluation after training may change (only eval.* keys)
            cfg = with_eval_overrides(cfg, sets, str(out / CONFIG))
    else:
        given = {key: value for key, value in data_keys.items() if value is not None}
        cfg = load_config(config, sets)
        if given:
            cfg = updated(cfg, "data", **given)
    if stop_on_collapse:
        cfg = updated(cfg, "health", stop_on_collapse=True)
    return cfg


def interrupted_message(err: KeyboardInterrupt, out: Path, *, resume: bool, since: float) -> str:
    """What Ctrl-C during `train` leaves: `--resume` is suggested only when this run has a
    checkpoint (one it resumed, or one it wrote after `since`: training ended and the
    evaluation was interrupted)."""
    from contrastkit.rundir import CHECKPOINT
    from contrastkit.train.loop import TrainingInterrupted

    how = f"`contrastkit train --resume --out {out}`"
    if isinstance(err, TrainingInterrupted):
        if err.checkpoint_step is None:
            return (
                f"interrupted at step {err.step}, before the first checkpoint (written after "
                f"step {err.first_checkpoint_step}): nothing to resume yet; run the same "
                "command again to start over"
            )
        return (
            f"interrupted at step {err.step}; continue from step {err.checkpoint_step} with {how}"
        )
    checkpoint = out / CHECKPOINT
    if resume or (checkpoint.is_file() and checkpoint.stat().st_mtime >= since):
        return f"interrupted; continue with {how}"
    return "interrupted before training started: nothing to resume; run the same command again"


@app.command("eval")
def eval_(
    run: Annotated[
        list[Path],
        typer.Option(help="Run directory written by `contrastkit train` (repeatable)."),
    ],
    cached: Annotated[
        bool,
        typer.Option(help="Show the runs' saved metrics.json instead of evaluating again."),
    ] = False,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Evaluation setting for this run, e.g. --set eval.full=true (eval.* keys only).",
        ),
    ] = None,
) -> None:
    """Evaluate runs (kNN, probes, retrieval, clustering, anomaly, baselines) side by side."""
    from contrastkit.atomic import read_json
    from contrastkit.run import eval_run
    from contrastkit.rundir import METRICS
    from contrastkit.train.ddp import single_process_only

    single_process_only("eval")
    try:
        results = [
            (str(r), read_json(r / METRICS) if cached else eval_run(r, log=say, overrides=set_))
            for r in run
        ]
    except KeyboardInterrupt:
        raise Interrupted("interrupted; metrics.json is unchanged") from None
    print_tables(results, title="runs and baselines")


@app.command()
def sweep(
    grid: Annotated[
        list[str] | None,
        typer.Option(
            help="KEY=\\[v1,v2,...]: a config key and its values (repeatable; the points are "
            "the product). augment=pairs (or singles, pairs:crop,blur,...): the "
            "augmentation-composition preset; config=\\[a.yaml,b.yaml]: one recipe per file."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML config of every point (default: built-in defaults).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Sweep folder to write or continue.")] = Path(
        "runs/sweep"
    ),
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a config key in every point (repeatable)."),
    ] = None,
    subset: Annotated[
        int | None,
        typer.Option(min=1, help="Train each point on a seeded sample of N training images."),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(min=1, help="Train each point E epochs (train.epochs).")
    ] = None,
    sample: Annotated[
        int | None, typer.Option(min=1, help="Run K points of the grid, drawn with --seed.")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of --sample and --subset.")] = 0,
    parallel: Annotated[
        int, typer.Option(min=1, help="Points trained at once, each in its own process.")
    ] = 1,
    metric: Annotated[
        str,
        typer.Option(
            help="Pick the best point by knn, linear, fewshot, or a dotted key of "
            "metrics.json (higher is better)."
        ),
    ] = "knn",
    time_limit: Annotated[
        float | None,
        typer.Option(min=0, help="Start no point after S seconds (running ones finish)."),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option(help="Run the points that failed before again.")
    ] = False,
) -> None:
    """Train and evaluate one run per point of a grid of config values; write sweep.json,
    sweep.html (table, heat map or line plot) and best.yaml. The same command continues
    a sweep that was stopped."""
    from contrastkit.sweep.plan import PAGE, SWEEP_FILE, make_plan
    from contrastkit.sweep.results import terminal_table
    from contrastkit.sweep.session import Options, best_line, run_sweep, sigterm_interrupts
    from contrastkit.train.ddp import single_process_only

    single_process_only("sweep")
    plan = make_plan(
        config=None if config is None else str(config),
        sets=set_ or [],
        grid=grid or [],
        subset=subset,
        epochs=epochs,
        sample_size=sample,
        seed=seed,
    )
    options = Options(parallel=parallel, metric=metric, time_limit_s=time_limit,
                      retry_failed=retry_failed)  # fmt: skip
    try:
        with sigterm_interrupts():
            results = run_sweep(plan, out, options, say)
    except KeyboardInterrupt:
        raise Interrupted(
            f"interrupted; finished points are kept: run the same command to continue {out}"
        ) from None
    console.print(terminal_table(results, title=str(out)))
    line = best_line(results, out)
    if line is not None:
        say(line)
    say(f"wrote {out / SWEEP_FILE} and {out / PAGE}")


@app.command()
def report(
    run: Annotated[Path, typer.Option(help="Run directory written by `contrastkit train`.")],
) -> None:
    """Write the run's report.html (curves, metric table, confusion matrix, embedding maps)."""
    from contrastkit.report.run_report import report_run

    path = report_run(run, log=say)
    console.print(str(path))


INPUT_BOUND = 0.2
"""The share of training time spent waiting for data above which `train` says so."""


RUN_HELP = "Run directory written by `contrastkit train`."
FPS_HELP = "Videos: frames sampled per second (at most the video's own frame rate)."
SKIP_BAD_HELP = "Leave unreadable files (videos) out and say how many."
RunFolder = Annotated[Path, typer.Option(help=RUN_HELP)]
IdColumn = Annotated[
    str | None, typer.Option(help="Table runs: the column whose values are the row ids.")
]
VideoFps = Annotated[float, typer.Option(help=FPS_HELP)]
SkipBad = Annotated[bool, typer.Option(help=SKIP_BAD_HELP)]
Side = Annotated[str, typer.Option(help="Paired runs: the 'inputs' or the 'texts' (shared space).")]


@app.command()
def embed(
    run: RunFolder,
    data: Annotated[
        str,
        typer.Option(
            help="Data to embed: 'train' (the run's data), or a PATH: an image folder / "
            ".npy / .npz (image runs), a file of lines (text runs), a CSV or Parquet file "
            "with the training columns (table runs), images / WAV clips or, with --side "
            "texts, a file of lines (image-text and audio-text runs), a video file or folder "
            "(image and image-text runs: one row per sampled frame, id VIDEO#t=SECONDS)."
        ),
    ] = "train",
    out: Annotated[Path, typer.Option(help="Output .npy file, float32 (N, D).")] = Path(
        "embeddings.npy"
    ),
    side: Side = "inputs",
    id_column: IdColumn = None,
    fps: VideoFps = 1.0,
    skip_bad: SkipBad = False,
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
) -> None:
    """Embed data with a run's model, preprocessed as in training: the embeddings as .npy
    and their ids beside it (<out stem>.ids.txt, line i = row i)."""
    from contrastkit.modalities.base import EmbedOptions
    from contrastkit.train.ddp import single_process_only
    from contrastkit.use import embed_run

    single_process_only("embed")
    options = EmbedOptions(side=side, id_column=id_column, fps=fps, skip_bad=skip_bad)
    n, d = embed_run(run, data, out, options=options, overwrite=overwrite, log=say)
    console.print(f"wrote {out}: {n} embeddings of dimension {d}", highlight=False, soft_wrap=True)


@app.command()
def search(
    run: RunFolder,
    query: Annotated[
        str | None,
        typer.Option(
            help="Query: an image file (image runs; image-text runs: the inputs most like "
            "it, or its best texts), a text (text runs; image-text and audio-text runs "
            "search an index of inputs by text), a WAV file (audio-text runs), a one-row CSV "
            "(table runs)."
        ),
    ] = None,
    text: Annotated[
        str | None,
        typer.Option(help="A text query for the run's text tower (image-text and text runs)."),
    ] = None,
    row: Annotated[
        str | None,
        typer.Option(help="Table runs: the query row as 'col=value,col=value' (all columns)."),
    ] = None,
    index: Annotated[
        str | None,
        typer.Option(help="Named index to search (default: the run's only one, or 'default')."),
    ] = None,
    k: Annotated[
        int, typer.Option(help="How many nearest entries (scenes, in an index of videos).")
    ] = 5,
    json_: Annotated[bool, typer.Option("--json", help="Print the hits as JSON.")] = False,
) -> None:
    """Print the k index entries most similar to the query (cosine similarity): rank,
    score, id and what the entry is (the sentence, the row's leading columns, the image's
    name in its folder). In an index of videos, the k best scenes: consecutive matching
    frames as time ranges (video, start, end, best score). Without any index, the run's data
    is indexed as 'default' first."""
    from contrastkit.train.ddp import single_process_only
    from contrastkit.use import search_run

    single_process_only("search")
    given = [value for value in (query, text, row) if value is not None]
    if len(given) != 1:
        raise UserError("search: give exactly one of --query, --text and --row")
    log = err_console.print if json_ else say
    result = search_run(run, given[0], k, index=index, text=text is not None, log=log)
    if json_:
        print(search_json(result))
    elif result.scenes is not None:
        say(
            f"{len(result.scenes)} best scenes in index {result.index!r} "
            f"({result.size} frames) for {given[0]!r}:"
        )
        for rank, scene in enumerate(result.scenes, start=1):
            say(
                f"{rank:>3}  {scene.score:+.4f}  {scene.video}  {clock(scene.start)}-"
                f"{clock(scene.end)}  (best frame at {clock(scene.best)})"
            )
    else:
        size = f"{len(result.hits)} nearest of {result.size}"
        say(f"{size} in index {result.index!r} to {given[0]!r}:")
        for rank, hit in enumerate(result.hits, start=1):
            say(f"{rank:>3}  {hit.score:+.4f}  {_hit_text(hit.id, hit.shown)}")


def _hit_text(item: str, shown: str) -> str:
    """A hit as the id and what it is, the id once when the shown text starts with it."""
    if not shown:
        return item
    return shown if shown.startswith(f"{item}: ") else f"{item}  {shown}"


def search_json(result: Any) -> str:
    """`search --json`: the index, its size and the hits; scenes too for an index of videos."""
    import json

    hits = [
        {"rank": r, "score": x.score, "id": x.id, **({"shown": x.shown} if x.shown else {})}
        for r, x in enumerate(result.hits, 1)
    ]
    out: dict[str, Any] = {"index": result.index, "size": result.size, "hits": hits}
    if result.scenes is not None:
        out["scenes"] = [
            {"rank": r, "video": x.video, "start": x.start, "end": x.end, "score": x.score,
             "best": x.best}
            for r, x in enumerate(result.scenes, 1)
        ]  # fmt: skip
    return json.dumps(out)


def clock(seconds: float) -> str:
    """Seconds as m:ss.s (h:mm:ss.s from an hour)."""
    minutes, rest = divmod(seconds, 60.0)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{rest:04.1f}" if hours else f"{minutes}:{rest:04.1f}"


@app.command("index")
def index_(
    run: RunFolder,
    data: Annotated[
        str, typer.Option(help="Data to index, as for `contrastkit embed --data`.")
    ] = "train",
    name: Annotated[str, typer.Option(help="Index name (several per run).")] = "default",
    kind: Annotated[
        str,
        typer.Option(help="auto (exact up to 100,000 vectors, IVF above), flat, ivf or hnsw."),
    ] = "auto",
    side: Side = "inputs",
    id_column: IdColumn = None,
    fps: VideoFps = 1.0,
    skip_bad: SkipBad = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an index of that name.")] = False,
) -> None:
    """Build a named FAISS index <run>/indexes/<name>/ of the data's embeddings (for
    `contrastkit search --index NAME`); prints its kind, size and recall@10. A video file or
    folder (mp4, webm, mkv) is indexed frame by frame, each frame with its time and a
    thumbnail, and searched by scenes."""
    from contrastkit.modalities.base import EmbedOptions
    from contrastkit.train.ddp import single_process_only
    from contrastkit.use import index_run

    single_process_only("index")
    report = index_run(
        run,
        data,
        name=name,
        kind=kind,
        options=EmbedOptions(side=side, id_column=id_column, fps=fps, skip_bad=skip_bad),
        overwrite=overwrite,
        log=say,
    )
    recall = (
        "exact search"
        if report.recall_at_10 is None
        else f"recall@10 {report.recall_at_10:.3f} against exact search on {report.recall_queries}"
    )
    say(
        f"index {report.name!r}: {report.kind}, {report.count} vectors of dimension "
        f"{report.dim}, {recall}; wrote {report.folder}/"
    )


@app.command()
def anomaly(
    run: RunFolder,
    data: Annotated[str, typer.Option(help="Data to score, as for `contrastkit embed --data`.")],
    k: Annotated[int, typer.Option(help="Neighbours in the training set.")] = 5,
    quantile: Annotated[
        float,
        typer.Option(help="Threshold: this quantile of the held-out normal (test) scores."),
    ] = 0.95,
    out: Annotated[Path, typer.Option(help="Ranked CSV (id, score, flagged).")] = Path(
        "scores.csv"
    ),
    id_column: IdColumn = None,
    overwrite: Annotated[bool, typer.Option(help="Replace --out and its .png.")] = False,
) -> None:
    """Score new data for anomalies: mean cosine distance to the k nearest training
    embeddings; flag scores above the quantile of held-out normal data. Writes a ranked
    CSV and a histogram PNG beside it."""
    from contrastkit.modalities.base import EmbedOptions
    from contrastkit.train.ddp import single_process_only
    from contrastkit.use import anomaly_run

    single_process_only("anomaly")
    report = anomaly_run(
        run,
        data,
        k=k,
        quantile=quantile,
        out=out,
        options=EmbedOptions(id_column=id_column),
        overwrite=overwrite,
        log=say,
    )
    say(
        f"scored {report.count} items: {report.flagged} flagged above {report.threshold:.4f} "
        f"(the {quantile:g} quantile of the held-out normal scores); wrote {report.csv} and "
        f"{report.png}"
    )


@app.command("zero-shot")
def zero_shot(
    run: Annotated[Path, typer.Option(help=RUN_HELP + " (image-text or audio-text).")],
    labels: Annotated[str, typer.Option(help="Comma-separated class labels, e.g. cat,dog.")],
    data: Annotated[
        str,
        typer.Option(
            help="'test' (the run's first test split) or an image folder (one subfolder per "
            "class: accuracy over the subfolders named like a label)."
        ),
    ] = "test",
    template: Annotated[
        list[str] | None,
        typer.Option(help="Prompt template with {} for the label (repeatable; averaged)."),
    ] = None,
    show: Annotated[int, typer.Option(help="How many predictions to print.")] = 10,
) -> None:
    """Classify data into --labels with no labelled training: the label whose prompts'
    text embedding is closest (CLIP zero-shot); accuracy when the data has labels."""
    from contrastkit.train.ddp import single_process_only
    from contrastkit.use import zero_shot_run

    single_process_only("zero-shot")
    if show < 0:
        raise UserError(f"--show {show}: expected a count >= 0")
    templates = tuple(template) if template else ("a photo of {}",)
    report = zero_shot_run(run, labels.split(","), data, templates=templates, log=say)
    for i in range(min(show, len(report.ids))):
        say(f"{report.ids[i]}  {report.predicted[i]}  {report.probability[i]:.3f}")
    if report.accuracy is None:
        say(f"{len(report.ids)} items classified; no true labels among --labels")
    else:
        say(
            f"accuracy {report.accuracy:.3f} over {report.scored} labelled items "
            f"(chance {1 / len(set(labels.split(','))):.3f})"
        )


@app.command()
def recommend(
    run: Annotated[Path, typer.Option(help=RUN_HELP + " (two_tower on interactions).")],
    user: Annotated[str, typer.Option(help="The user id, as in the run's data.")],
    k: Annotated[int, typer.Option(help="How many items to recommend.")] = 10,
    item_features: Annotated[
        Path | None,
        typer.Option(
            help="Rank this CSV's items instead (item,<the training feature columns>); new "
            "items are embedded from their features only (cold start)."
        ),
    ] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the items as JSON.")] = False,
) -> None:
    """Print the k items the run's recommender scores highest for a user, among the items
    the user has no interaction with: rank, score (cosine), item id."""
    import json

    from contrastkit.train.ddp import single_process_only
    from contrastkit.use import recommend_run

    single_process_only("recommend")
    log = err_console.print if json_ else say
    result = recommend_run(run, user, k, item_features=item_features, log=log)
    if json_:
        items = [
            {"rank": r, "item": x.item, "score": x.score, "new": x.new}
            for r, x in enumerate(result.items, 1)
        ]
        print(
            json.dumps(
                {
                    "user": user,
                    "candidates": result.candidates,
                    "left_out": result.left_out,
                    "items": items,
                }
            )
        )
        return
    say(
        f"top {len(result.items)} for user {user} among {result.candidates} items "
        f"({result.left_out} already theirs left out):"
    )
    for rank, x in enumerate(result.items, start=1):
        say(f"{rank:>3}  {x.score:+.4f}  {x.item}" + ("  (new: by its features)" if x.new else ""))


@app.command("list")
def list_() -> None:
    """List what a config can name: methods (method.name), encoders (model.encoder) and the
    data sources (data.source) of each modality, from the registries."""
    from contrastkit.encoders.registry import ENCODERS
    from contrastkit.methods.registry import METHODS
    from contrastkit.modalities.registry import MODALITIES

    say(f"methods: {', '.join(METHODS)}")
    say(f"encoders: {', '.join(ENCODERS)}")
    for modality in MODALITIES:
        say(f"{modality.name} sources: {', '.join(modality.sources)}")


def health_line(metrics: dict[str, Any]) -> str:
    """The label-free health numbers on one line (all an unlabeled run has), with why the
    label metrics are absent when they all are (partial skips are noted under the table)."""
    h = metrics.get("health", {})
    parts = [f"{key} {value:.3f}" for key, value in h.items() if isinstance(value, float)]
    block = metrics.get("eval", {})
    skipped = None if "knn_top1" in block else block.get("skipped")
    return ("health: " + ", ".join(parts)) + (f"  ({skipped})" if skipped else "")


@app.command()
def speech(
    out: Annotated[Path, typer.Option(help="Cache folder for the WAV files.")] = Path(
        "build/speech"
    ),
    languages: Annotated[
        str, typer.Option(help="Comma-separated languages to speak: en, de, fr, es.")
    ] = "en",
) -> None:
    """Synthesise the spoken-word audio-text pairs with espeak-ng (WAV + manifest.csv): each
    concept in each language's own words, 8 voices per language, 2 speeds, 2 pitches."""
    from contrastkit.audio.speech import speech_plan, synthesize_speech

    chosen = tuple(lang.strip() for lang in languages.split(",") if lang.strip())
    manifest = synthesize_speech(speech_plan(out, languages=chosen))
    console.print(f"wrote {manifest}")


@app.command("export")
def export_(
    run: Annotated[Path, typer.Option(help="Run directory written by `contrastkit train`.")],
    format_: Annotated[str, typer.Option("--format", help="Model format: onnx.")] = "onnx",
    out: Annotated[
        Path | None, typer.Option(help="Folder to write (default: <run>/export).")
    ] = None,
    quantize: Annotated[
        str | None,
        typer.Option(help="Also write an int8 model and print its accuracy cost: int8."),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing export folder.")] = False,
) -> None:
    """Export the run's encoder (both towers of a two-tower run) as ONNX with its
    preprocess.json, checked against PyTorch on the run's data (max abs diff <= 1e-4)."""
    from contrastkit.export.run_export import export_run
    from contrastkit.train.ddp import single_process_only

    single_process_only("export")
    report = export_run(run, fmt=format_, out=out, quantize=quantize, overwrite=overwrite, log=say)
    say(f"wrote {report.out}/ ({len(report.towers)} model{'s' * (len(report.towers) > 1)})")


@app.command()
def serve(
    run: Annotated[Path, typer.Option(help="Run directory written by `contrastkit train`.")],
    index: Annotated[
        str | None,
        typer.Option(help="Named index in <run>/indexes/ (default: the run's data, embedded)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind (loopback unless told).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    backend: Annotated[
        str, typer.Option(help="onnx (the run's export, ONNX Runtime) or torch.")
    ] = "onnx",
    api_key_env: Annotated[
        str | None,
        typer.Option(help="Require the X-API-Key header to equal this environment variable."),
    ] = None,
) -> None:
    """Serve the encoder over HTTP: /embed, /search, /health, OpenAPI docs at /docs and a
    search page at /."""
    from contrastkit.serve.server import serve_run
    from contrastkit.train.ddp import single_process_only

    single_process_only("serve")
    serve_run(
        run, index=index, host=host, port=port, backend=backend, api_key_env=api_key_env, log=say
    )


def one_line(message: str) -> str:
    """`message` on one line: a line break or other control character in a user's key or
    file name is shown escaped (`\\n`, `\\x1e`), never printed."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)


def main() -> None:
    """Entry point: user errors become one clean line on stderr and exit code 2."""
    try:
        app()
    except UserError as err:
        err_console.print(
            f"[bold red]error:[/] {escape(one_line(user_message(err)))}",
            highlight=False,
            soft_wrap=True,
        )
        raise SystemExit(2) from None
    except Interrupted as interrupted:
        err_console.print(escape(one_line(str(interrupted))), highlight=False, soft_wrap=True)
        raise SystemExit(130) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise SystemExit(130) from None
