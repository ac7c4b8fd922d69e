"""The `contrastkit` command line. The one name -> builder registry lives here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from contrastkit.audio.speech import synthesize_speech
from contrastkit.config import load_config
from contrastkit.errors import UserError
from contrastkit.eval.crossmodal_table import crossmodal_table
from contrastkit.eval.table import metrics_table
from contrastkit.eval.tabular_table import tabular_table
from contrastkit.methods.clip import build_clip, build_siglip
from contrastkit.methods.scarf import build_scarf
from contrastkit.methods.simclr import build_simclr
from contrastkit.run import MethodBuilder, embed_run, eval_run, train_run
from contrastkit.rundir import CONFIG

METHODS: dict[str, MethodBuilder] = {
    "simclr": build_simclr,
    "scarf": build_scarf,
    "clip": build_clip,
    "siglip": build_siglip,
}

app = typer.Typer(
    name="contrastkit",
    help="Contrastive representation learning: train, evaluate and use embeddings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


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
    skip_bad: Annotated[
        bool,
        typer.Option(help="Leave unreadable input files (WAV, images) out and count them."),
    ] = False,
) -> None:
    """Train an encoder, evaluate it against the baselines, and write the run directory."""
    if resume:
        if config is not None or set_:
            raise UserError(
                "--resume continues with the run's saved config.yaml; do not pass --config or --set"
            )
        cfg = load_config(out / CONFIG)
    else:
        cfg = load_config(config, [*(set_ or []), *(["data.skip_bad=true"] if skip_bad else [])])
    metrics = train_run(
        cfg,
        out,
        METHODS,
        resume=resume,
        overwrite=overwrite,
        show_progress=progress,
        log=console.print,
    )
    console.print(metrics_table(metrics, title=f"{out}"))
    if "tabular" in metrics:
        console.print(tabular_table(metrics["tabular"], title=f"{out}: few-label test top-1 (%)"))
    if "crossmodal" in metrics:
        console.print(crossmodal_table(metrics["crossmodal"], title="cross-modal (%)"))
    console.print(
        f"wrote {out}/ (config.yaml, metrics.json, log.jsonl, checkpoint.pt) in "
        f"{metrics['train_time_s']:.0f} s of training"
    )


@app.command("eval")
def eval_(
    run: Annotated[Path, typer.Option(help="Run directory written by `contrastkit train`.")],
) -> None:
    """Evaluate a trained run (kNN, linear and few-label probes, retrieval, baselines)."""
    metrics = eval_run(run, METHODS, log=console.print)
    console.print(metrics_table(metrics, title=str(run)))
    if "tabular" in metrics:
        console.print(tabular_table(metrics["tabular"], title=f"{run}: few-label test top-1 (%)"))
    if "crossmodal" in metrics:
        console.print(crossmodal_table(metrics["crossmodal"], title="cross-modal (%)"))


@app.command()
def embed(
    run: Annotated[Path, typer.Option(help="Run directory written by `contrastkit train`.")],
    data: Annotated[
        str, typer.Option(help="Data to embed: 'digits', or a table run's data.source.")
    ] = "digits",
    out: Annotated[Path, typer.Option(help="Output .npy file, float32 (N, D).")] = Path(
        "embeddings.npy"
    ),
) -> None:
    """Embed a data set with a run's encoder and save the embeddings as .npy."""
    n, d = embed_run(run, data, out, METHODS)
    console.print(f"wrote {out}: {n} embeddings of dimension {d}")


@app.command()
def speech(
    out: Annotated[Path, typer.Option(help="Cache folder for the WAV files.")] = Path(
        "build/speech"
    ),
) -> None:
    """Synthesise the spoken-word audio-text pairs with espeak-ng (WAV + manifest.csv)."""
    manifest = synthesize_speech(out)
    console.print(f"wrote {manifest}")


def main() -> None:
    """Entry point: user errors become one clean line on stderr and exit code 2."""
    try:
        app()
    except UserError as err:
        err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err_console.print("interrupted; continue with `contrastkit train --resume --out DIR`")
        raise SystemExit(130) from None
