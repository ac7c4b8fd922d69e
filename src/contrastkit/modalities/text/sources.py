"""Where a run's text comes from: the `data` and `text` sections to `TextData` (training
texts + held-out task)."""

from __future__ import annotations

from pathlib import Path

from contrastkit.data.text import read_text_lines, read_text_pairs
from contrastkit.data.text_split import TextData, retrieval_task, split_by_group
from contrastkit.data.wordnet import wordnet_task
from contrastkit.errors import UserError
from contrastkit.modalities.options import DataConfig, TextConfig

TEXT_SOURCES = ("wordnet", "text_lines", "text_pairs")


def load_text_data(data: DataConfig, text: TextConfig) -> TextData:
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
    source = data.source
    if source == "wordnet":
        pairs, task = wordnet_task(
            directory=text.wordnet_dir,
            train_synsets=text.wordnet_train_synsets,
            test_synsets=text.wordnet_test_synsets,
            hard_negatives=text.hard_negatives,
            seed=data.split_seed,
        )
        return TextData(name="wordnet", sentences=pairs.sentences(), pairs=pairs, test=task)
    if source not in TEXT_SOURCES:
        raise ValueError(f"not a text source: {source!r}")
    if data.path is None:
        raise UserError(f"data.path: data.source {source!r} needs a file to read")
    path = Path(data.path)
    if source == "text_pairs":
        pairs = read_text_pairs(path)
        try:
            train, test = split_by_group(
                pairs, test_fraction=data.test_fraction, seed=data.split_seed
            )
        except ValueError as err:
            raise UserError(f"{path}: {err} (data.test_fraction)") from None
        task = retrieval_task(test, f"{path.name}: anchor -> positive")
        return TextData(name=path.stem, sentences=train.sentences(), pairs=train, test=task)
    sentences = list(dict.fromkeys(read_text_lines(path)))
    if len(sentences) < 2:  # a batch of one line has no negative: the loss would be 0
        raise UserError(
            f"{path}: {len(sentences)} distinct line(s); training needs at least 2 "
            "(each line is contrasted with the others in its batch)"
        )
    eval_task = None
    if text.eval_pairs is not None:
        eval_path = Path(text.eval_pairs)
        eval_task = retrieval_task(
            read_text_pairs(eval_path), f"{eval_path.name}: anchor -> positive"
        )
    return TextData(name=path.stem, sentences=sentences, pairs=None, test=eval_task)
