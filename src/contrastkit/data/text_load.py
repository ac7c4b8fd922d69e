"""Turn a config's `data` and `text` sections into `TextData` (training texts + held-out task)."""

from __future__ import annotations

from pathlib import Path

from contrastkit.config import Config
from contrastkit.data.text import read_text_lines, read_text_pairs
from contrastkit.data.text_split import TextData, retrieval_task, split_by_group
from contrastkit.data.wordnet import wordnet_task
from contrastkit.errors import UserError

TEXT_SOURCES = ("wordnet", "text_lines", "text_pairs")


def load_text_data(cfg: Config) -> TextData:
    """The text data a config names.

    - wordnet: definition -> word pairs of `text.wordnet_train_synsets` synsets; the test
      task is held-out synsets (`data.split_seed` draws them).
    - text_pairs: the pairs in `data.path`; `data.test_fraction` of the distinct anchors
      (with all their rows) are held out for the test task.
    - text_lines: the distinct lines of `data.path` (SimCSE only); the test task is the
      pairs file `text.eval_pairs` when given, else none.

    Raises:
        UserError: a source that needs `data.path` lacks it, or any reader error.
    """
    source = cfg.data.source
    if source == "wordnet":
        pairs, task = wordnet_task(
            directory=cfg.text.wordnet_dir,
            train_synsets=cfg.text.wordnet_train_synsets,
            test_synsets=cfg.text.wordnet_test_synsets,
            hard_negatives=cfg.text.hard_negatives,
            seed=cfg.data.split_seed,
        )
        return TextData(name="wordnet", sentences=pairs.sentences(), pairs=pairs, test=task)
    if source not in TEXT_SOURCES:
        raise ValueError(f"not a text source: {source!r}")
    if cfg.data.path is None:
        raise UserError(f"data.path: data.source {source!r} needs a file to read")
    path = Path(cfg.data.path)
    if source == "text_pairs":
        pairs = read_text_pairs(path)
        try:
            train, test = split_by_group(
                pairs, test_fraction=cfg.data.test_fraction, seed=cfg.data.split_seed
            )
        except ValueError as err:
            raise UserError(f"{path}: {err} (data.test_fraction)") from None
        task = retrieval_task(test, f"{path.name}: held-out anchor -> positive")
        return TextData(name=path.stem, sentences=train.sentences(), pairs=train, test=task)
    sentences = list(dict.fromkeys(read_text_lines(path)))
    eval_task = None
    if cfg.text.eval_pairs is not None:
        eval_path = Path(cfg.text.eval_pairs)
        eval_task = retrieval_task(
            read_text_pairs(eval_path), f"{eval_path.name}: anchor -> positive"
        )
    return TextData(name=path.stem, sentences=sentences, pairs=None, test=eval_task)
