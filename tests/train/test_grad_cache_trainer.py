"""`train.grad_cache_chunk`: the trainer's GradCache step gives the plain step's loss and
gradients (CPU, fp32, a network without batch statistics), trains the same weights, holds
the memory of one chunk whatever the batch (peak RSS at batch 8,192 within 1.3x of batch
512, each in its own process), and refuses a method without a loss over the whole batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import pytest
import torch
from torch import nn

from contrastkit.augment.image import ViewAugment
from contrastkit.batches import ImageBatch
from contrastkit.config import TrainConfig
from contrastkit.data.digits import load_digits
from contrastkit.encoders.small_cnn import SmallCNN
from contrastkit.errors import UserError
from contrastkit.heads.projection import ProjectionHead
from contrastkit.methods.byol import BYOL
from contrastkit.methods.simclr import SimCLR
from contrastkit.train.ddp import LossForward
from contrastkit.train.loop import fit
from contrastkit.train.step import grad_cache_loss, plain_loss

sys.path.insert(0, str(Path(__file__).parent))
from in_batch_simclr import no_batch_stats  # noqa: E402

PROBE = Path(__file__).parent / "grad_cache_memory_probe.py"


def digits(n: int) -> ImageBatch:
    return ImageBatch(images=load_digits().x_train[:n], labels=torch.full((n,), -1))


def gradients(method: nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.grad.clone() for name, p in method.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("chunk", [1, 5, 48])
def test_loss_and_gradients_equal_the_plain_step(chunk: int) -> None:
    method, batch, augment = no_batch_stats(), digits(24), ViewAugment()
    plain = plain_loss(LossForward(method), augment)
    want_loss, backward = plain(batch, torch.Generator().manual_seed(1))
    backward()
    want = gradients(method)
    method.zero_grad(set_to_none=True)
    cached = grad_cache_loss(method, augment, chunk_size=chunk, amp=nullcontext)
    loss, backward = cached(batch, torch.Generator().manual_seed(1))
    backward()
    got = gradients(method)
    torch.testing.assert_close(loss, want_loss, rtol=1e-6, atol=1e-6)
    assert got.keys() == want.keys() and len(got) == 8
    for name in want:
        torch.testing.assert_close(got[name], want[name], rtol=1e-5, atol=1e-7, msg=name)


def test_training_with_grad_cache_ends_with_the_plain_weights(tmp_path: Path) -> None:
    def train(chunk: int | None) -> SimCLR:
        method = no_batch_stats()
        cfg = TrainConfig(epochs=2, batch_size=32, warmup_epochs=0, optimizer="sgd", lr=0.05)
        cfg = cfg.model_copy(update={"grad_cache_chunk": chunk})
        fit(
            method,
            digits(96),
            augment=ViewAugment(),
            cfg=cfg,
            seed=0,
            run_dir=tmp_path / str(chunk),
            device=torch.device("cpu"),
            show_progress=False,
        )
        return method

    cached, plain = train(16), train(None)
    for (name, a), (_, b) in zip(
        cached.state_dict().items(), plain.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)


def test_batchnorm_statistics_move_once_per_chunk() -> None:
    torch.manual_seed(0)
    method = SimCLR(SmallCNN(width=4, feature_dim=8), ProjectionHead(8, 8, 4), temperature=0.5)
    counts = [m for m in method.modules() if isinstance(m, nn.BatchNorm2d)]
    step = grad_cache_loss(method, ViewAugment(), chunk_size=8, amp=nullcontext)
    _, backward = step(digits(16), torch.Generator().manual_seed(0))
    assert [int(m.num_batches_tracked) for m in counts] == [0] * len(counts)  # first pass kept
    backward()
    assert [int(m.num_batches_tracked) for m in counts] == [4] * len(counts)  # 32 views / 8


def test_a_method_without_a_loss_over_the_whole_batch_is_refused(tmp_path: Path) -> None:
    torch.manual_seed(0)
    byol = BYOL(
        SmallCNN(width=4, feature_dim=8),
        ProjectionHead(8, 8, 4),
        ProjectionHead(4, 8, 4),
        momentum=0.99,
    )
    cfg = TrainConfig(epochs=1, batch_size=16, grad_cache_chunk=4)
    with pytest.raises(
        UserError, match=r"train.grad_cache_chunk: BYOL has no loss over the whole batch"
    ):
        fit(
            byol,
            digits(32),
            augment=ViewAugment(),
            cfg=cfg,
            seed=0,
            run_dir=tmp_path,
            device=torch.device("cpu"),
            show_progress=False,
        )


def peak_mib(batch: int, chunk: int) -> float:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(PROBE.parents[2] / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, str(PROBE), str(batch), str(chunk)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["peak_mib"])


@pytest.mark.slow
def test_peak_memory_at_batch_8192_within_1_3x_of_batch_512() -> None:
    small, large = peak_mib(512, 256), peak_mib(8192, 256)
    assert large <= 1.3 * small, (small, large)
