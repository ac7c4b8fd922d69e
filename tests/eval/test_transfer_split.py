"""Class-disjoint transfer: class selection and relabelling, and the run wiring."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from contrastkit.config import load_config
from contrastkit.data.split import ImageSplit
from contrastkit.errors import UserError
from contrastkit.eval.transfer import class_mask, select_classes
from contrastkit.run import train_run


def _split() -> ImageSplit:
    y_train, y_test = torch.tensor([0, 1, 2, 3, 2, 1]), torch.tensor([3, 2, 0, 1])
    return ImageSplit(
        x_train=torch.arange(6, dtype=torch.uint8).view(6, 1, 1, 1),
        y_train=y_train,
        x_test=torch.arange(10, 14, dtype=torch.uint8).view(4, 1, 1, 1),
        y_test=y_test,
        class_names=["a", "b", "c", "d"],
        name="toy",
    )


def test_select_classes_keeps_and_relabels_in_given_order() -> None:
    sub = select_classes(_split(), [3, 1])
    assert sub.x_train.flatten().tolist() == [1, 3, 5]
    assert sub.y_train.tolist() == [1, 0, 1]  # 1 -> 1, 3 -> 0, 1 -> 1
    assert sub.x_test.flatten().tolist() == [10, 13]
    assert sub.y_test.tolist() == [0, 1]
    assert sub.class_names == ["d", "b"]
    assert class_mask(torch.tensor([0, 4, 2]), [2, 4]).tolist() == [False, True, True]


def test_select_classes_rejects_bad_lists() -> None:
    with pytest.raises(ValueError, match="two distinct"):
        select_classes(_split(), [1, 1])
    with pytest.raises(ValueError, match=r"\[7\] not in \[0, 4\)"):
        select_classes(_split(), [0, 7])


@pytest.mark.slow
def test_transfer_run_evaluates_on_the_held_out_classes(tmp_path: Path) -> None:
    cfg = load_config(
        "configs/digits_transfer.yaml",
        ["train.epochs=1", "model.width=8", "eval.fewshot_draws=1", "eval.baselines=false"],
    )
    logs: list[str] = []
    metrics = train_run(cfg, tmp_path / "t", show_progress=False, log=logs.append)
    assert any("pre-training on classes [0, 1, 2, 3, 4] only" in m for m in logs)
    linear = metrics["eval"]["classification"]["linear"]
    assert len(linear["confusion"]) == 5  # digits 5-9, relabelled 0-4
    assert sum(linear["per_class"]["support"]) == 269  # digits 5-9 among the 540 test digits
    bad = load_config("configs/digits_transfer.yaml", ["eval.classes=[5, 12]", "train.epochs=1"])
    with pytest.raises(UserError, match=r"eval.classes: classes \[12\]"):
        train_run(bad, tmp_path / "bad", show_progress=False, log=lambda _m: None)
