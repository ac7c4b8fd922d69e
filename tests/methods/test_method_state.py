"""EMA teacher, momentum schedules, feature queue and multi-crop, checked by hand."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from contrastkit.augment.image import ViewAugment
from contrastkit.augment.views import MultiCrop
from contrastkit.methods.ema import EMATeacher, cosine_momentum, ema_, linear_warmup
from contrastkit.methods.multicrop import LocalCrops, encode_crops, multi_crop, two_views
from contrastkit.methods.queue import FeatureQueue, nearest_neighbours


def test_ema_update_matches_hand_computation() -> None:
    student = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    teacher = EMATeacher(student)
    t0 = teacher.net[0].weight.clone()
    with torch.no_grad():
        student[0].weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        student[1].running_mean.fill_(7.0)
    teacher.update(student, momentum=0.9)
    expected = 0.9 * t0 + 0.1 * torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    torch.testing.assert_close(teacher.net[0].weight, expected)
    assert torch.equal(teacher.net[1].running_mean, torch.full((2,), 7.0))  # buffers copied
    assert not any(p.requires_grad for p in teacher.parameters())


def test_ema_in_place_and_extremes() -> None:
    target = torch.tensor([1.0, 1.0])
    ema_(target, torch.tensor([3.0, 5.0]), 0.75)
    torch.testing.assert_close(target, torch.tensor([1.5, 2.0]))
    ema_(target, torch.tensor([9.0, 9.0]), 0.0)
    torch.testing.assert_close(target, torch.tensor([9.0, 9.0]))


def test_cosine_momentum_schedule() -> None:
    assert cosine_momentum(0.0, base=0.996) == pytest.approx(0.996)
    assert cosine_momentum(1.0, base=0.996) == pytest.approx(1.0)
    assert cosine_momentum(0.5, base=0.99) == pytest.approx(0.995)
    p = 0.25
    assert cosine_momentum(p, base=0.9) == pytest.approx(1 - 0.1 * (math.cos(math.pi * p) + 1) / 2)
    with pytest.raises(ValueError, match="base"):
        cosine_momentum(0.5, base=1.5)


def test_linear_warmup() -> None:
    assert linear_warmup(0.0, start=0.04, end=0.07, fraction=0.3) == pytest.approx(0.04)
    assert linear_warmup(0.15, start=0.04, end=0.07, fraction=0.3) == pytest.approx(0.055)
    assert linear_warmup(0.5, start=0.04, end=0.07, fraction=0.3) == pytest.approx(0.07)
    assert linear_warmup(0.0, start=0.04, end=0.07, fraction=0.0) == pytest.approx(0.07)


def test_queue_is_fifo_and_wraps() -> None:
    queue = FeatureQueue(size=4, dim=1)
    assert queue.features().shape == (0, 1)
    queue.push(torch.tensor([[1.0], [2.0], [3.0]]))
    assert queue.features().flatten().tolist() == [1.0, 2.0, 3.0]
    queue.push(torch.tensor([[4.0], [5.0], [6.0]]))  # overwrites the two oldest
    assert queue.rows.flatten().tolist() == [5.0, 6.0, 3.0, 4.0]
    assert int(queue.ptr) == 2 and int(queue.filled) == 4
    queue.push(torch.arange(10.0, 16.0)[:, None])  # more than size: keeps the newest 4
    assert sorted(queue.features().flatten().tolist()) == [12.0, 13.0, 14.0, 15.0]
    with pytest.raises(ValueError, match=r"\(B, 1\)"):
        queue.push(torch.zeros(2, 3))


def test_queue_features_are_a_copy() -> None:
    queue = FeatureQueue(size=2, dim=2)
    queue.push(torch.ones(2, 2))
    snapshot = queue.features()
    queue.push(torch.zeros(2, 2))
    assert torch.equal(snapshot, torch.ones(2, 2))


def test_nearest_neighbours_by_cosine() -> None:
    support = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-1.0, -1.0]])
    z = torch.tensor([[5.0, 0.1], [0.1, 0.2], [-3.0, -2.0]])
    assert torch.equal(nearest_neighbours(z, support), support[[0, 1, 2]])
    with pytest.raises(ValueError, match="non-empty"):
        nearest_neighbours(z, support[:0])


def test_multi_crop_shapes_and_encode_by_resolution() -> None:
    images = torch.randint(0, 256, (3, 1, 8, 8), dtype=torch.uint8)
    crops = multi_crop(images, ViewAugment(), LocalCrops(2, 4, (0.2, 0.5)), generator=None)
    assert [tuple(c.shape) for c in crops] == [(3, 1, 8, 8)] * 2 + [(3, 1, 4, 4)] * 2
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(1))
    out = encode_crops(net, crops)
    assert out.shape == (4, 3, 2)
    torch.testing.assert_close(out[3], net(crops[3]))
    with pytest.raises(TypeError, match="ViewAugment"):
        multi_crop(images, lambda x, g: x, LocalCrops(1, 4, (0.2, 0.5)))


def test_view_sets_from_the_augment_config_are_used_as_given() -> None:
    images = torch.randint(0, 256, (3, 1, 8, 8), dtype=torch.uint8)
    pair = MultiCrop(global_views=(ViewAugment(noise_std=0.0), ViewAugment(noise_std=0.0)))
    a, b = two_views(images, pair, torch.Generator().manual_seed(0))
    c, d = pair(images, torch.Generator().manual_seed(0))
    assert torch.equal(a, c) and torch.equal(b, d)
    local = ViewAugment(size=4)
    crops = MultiCrop(global_views=(ViewAugment(),) * 2, local_view=local, num_local=3)
    out = multi_crop(images, crops, LocalCrops(1, 2, (0.2, 0.5)))
    assert [tuple(x.shape[2:]) for x in out] == [(8, 8)] * 2 + [(4, 4)] * 3
