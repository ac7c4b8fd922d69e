"""The `contrastkit` command line.

Commands import what they use when they run, so that `contrastkit --help` starts without
loading torch (tests/cli/test_cli_startup.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from contrastkit.errors import UserError

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


def print_modality_tables(name: str, metrics: dict[str, Any]) -> None:
    """The tables beyond the image suite: cross-modal retrieval, the tabular label budgets,
    the held-out text task."""
    from contrastkit.eval.modality_tables import modality_tables

    for _, _, table in modality_tables(metrics, name):
        console.print(table)


@app.command()
def train(
    config: Annotated[
        Path | None, typer.Option(help="YAML config (default: built-in defaults).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Run directory to write.")] = Path("runs/latest"),
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
            help="Train on your images: an image folder (one subfolder per class, or flat "
            "and unlabeled), a CIFAR python folder, or a .npy/.npz file (sets data.path)."
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
    from contrastkit.config import load_config, with_eval_overrides
    from contrastkit.eval.table import metrics_table
    from contrastkit.run import train_run
    from contrastkit.rundir import CONFIG

    if resume:
        if config is not None:
            raise UserError(
                "--resume continues with the run's saved config.yaml; do not pass --config"
            )
        cfg = load_config(out / CONFIG)
        if set_:  # the evaluation after training may change (only eval.* keys)
            cfg = with_eval_overrides(cfg, set_, str(out / CONFIG))
    else:
        cfg = load_config(config, set_ or [])
        if data is not None:
            cfg.data.source, cfg.data.path = "auto", str(data)
        if skip_bad:
            cfg.data.skip_bad = True
    if stop_on_collapse:
        cfg.health.stop_on_collapse = True
    try:
        metrics = train_run(
            cfg,
            out,
            resume=resume,
            overwrite=overwrite,
            show_progress=progress,
            log=say,
        )
    except KeyboardInterrupt:  # click would print "Aborted!" and exit 1: say how to go on
        raise Interrupted(
            f"interrupted; continue with `contrastkit train --resume --out {out}`"
        ) from None
    if not metrics:  # a non-zero rank of a multi-process run: rank 0 reports
        return
    if "collapse" in metrics:
        err_console.print(
            f"[bold yellow]warning:[/] collapse at step {metrics['collapse']['step']}: "
            f"{metrics['collapse']['symptom']}"
        )
    if "text" not in metrics:  # a text run's table is its held-out task, printed below
        console.print(metrics_table(metrics, title=f"{out}"))
    print_modality_tables(str(out), metrics)
    console.print(health_line(metrics))
    console.print(
        f"wrote {out}/ (config.yaml, metrics.json, log.jsonl, checkpoint.pt) in "
        f"{metrics['train_time_s']:.0f} s of training"
    )


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
    from contrastkit.eval.table import comparison_table
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
    console.print(comparison_table(results, title="runs and baselines"))
    for name, metrics in results:
        print_modality_tables(name, metrics)


@app.command()
def report(
    run: Annotated[Path, typer.Option(help="Run directory written by `contrastkit train`.")],
) -> None:
    """Write the run's report.html (curves, metric table, confusion matrix, embedding maps)."""
    from contrastkit.report.run_report import report_run

    path = report_run(run, log=say)
    console.print(str(path))


@app.command()
def embed(
    run: Annotated[Path, typer.Option(help="Run directory written by `contrastkit train`.")],
    data: Annotated[
        str,
        typer.Option(
            help="Data to embed: 'digits', 'train' (the run's data), or a PATH (image "
            "folder, CIFAR python folder, .npy/.npz); for a text run, a file of lines; for a "
            "table run, its data.source."
        ),
    ] = "train",
    out: Annotated[Path, typer.Option(help="Output .npy file, float32 (N, D).")] = Path(
        "embeddings.npy"
    ),
) -> None:
    """Embed a data set with a run's encoder: the embeddings as .npy, their ids beside it
    (.ids.txt), and the run's search index (for `contrastkit search`)."""
    from contrastkit.run import embed_run
    from contrastkit.train.ddp import single_process_only

    single_process_only("embed")
    n, d = embed_run(run, data, out, log=say)
    console.print(f"wrote {out}: {n} embeddings of dimension {d}")


@app.command()
def search(
    run: Annotated[Path, typer.Option(help="Run directory written by `contrastkit train`.")],
    query: Annotated[
        str,
        typer.Option(
            help="Query: an image file (image runs), a text (text runs; image-text and "
            "audio-text runs search their images or clips by text)."
        ),
    ],
    k: Annotated[int, typer.Option(help="How many nearest entries to print.")] = 5,
) -> None:
    """Print the k index entries most similar to --query (cosine similarity), from the
    index `contrastkit embed` saved (built from the run's data if there is none)."""
    from contrastkit.run import search_run
    from contrastkit.train.ddp import single_process_only

    single_process_only("search")
    hits, size = search_run(run, query, k, log=say)
    console.print(f"{len(hits)} nearest of {size} to {query}:", highlight=False, soft_wrap=True)
    for rank, (entry, similarity) in enumerate(hits, start=1):
        console.print(f"{rank:>3}  {similarity:+.4f}  {entry}", highlight=False, soft_wrap=True)


@app.command("list")
def list_() -> None:
    """List what a config can name: methods (method.name), data sources (data.source) and
    modalities, from the registries."""
    from contrastkit.methods.registry import METHODS
    from contrastkit.modalities.registry import MODALITIES

    say(f"methods: {', '.join(METHODS)}")
    for modality in MODALITIES:
        say(f"{modality.name} sources: {', '.join(modality.sources)}")


def health_line(metrics: dict[str, Any]) -> str:
    """The label-free health numbers on one line (all an unlabeled run has)."""
    h = metrics.get("health", {})
    parts = [f"{key} {value:.3f}" for key, value in h.items() if isinstance(value, float)]
    skipped = metrics.get("eval", {}).get("skipped")
    return ("health: " + ", ".join(parts)) + (f"  ({skipped})" if skipped else "")


@app.command()
def speech(
    out: Annotated[Path, typer.Option(help="Cache folder for the WAV files.")] = Path(
        "build/speech"
    ),
) -> None:
    """Synthesise the spoken-word audio-text pairs with espeak-ng (WAV + manifest.csv)."""
    from contrastkit.audio.speech import synthesize_speech

    manifest = synthesize_speech(out)
    console.print(f"wrote {manifest}")


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
            f"[bold red]error:[/] {escape(one_line(str(err)))}", highlight=False, soft_wrap=True
        )
        raise SystemExit(2) from None
    except Interrupted as interrupted:
        err_console.print(escape(one_line(str(interrupted))), highlight=False, soft_wrap=True)
        raise SystemExit(130) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise SystemExit(130) from None
