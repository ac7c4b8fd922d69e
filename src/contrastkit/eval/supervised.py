"""The supervised-from-scratch baseline: the same encoder trained on the few labels only."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from contrastkit.augment.image import ViewAugment, to_float
from contrastkit.schedule import warmup_cosine


def train_supervised(
    encoder: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    num_classes: int,
    feature_dim: int,
    augment: ViewAugment,
    steps: int,
    lr: float = 2e-3,
    weight_decay: float = 5e-4,
    batch_size: int = 256,
    seed: int = 0,
) -> nn.Module:
    """Train `encoder` + a linear classifier with cross-entropy on augmented labelled images.

    Args:
        encoder: Freshly initialised; trained in place.
        images: Shape: (N, C, H, W), the labelled subset.
        labels: Shape: (N,).

    Returns:
        The classifier (encoder followed by a linear layer), in eval mode.
    """
    device = next(encoder.parameters()).device
    model = nn.Sequential(encoder, nn.Linear(feature_dim, num_classes)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator(device=device).manual_seed(seed)
    images, labels = images.to(device), labels.to(device)
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = warmup_cosine(step, total_steps=steps, warmup_steps=steps // 20, base=lr)
        idx = torch.randint(
            0, len(images), (min(batch_size, len(images)),), generator=gen, device=device
        )
        loss = F.cross_entropy(model(augment(images[idx], gen)), labels[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 512) -> float:
    """Top-1 accuracy of a classifier on uint8/float images (N, C, H, W)."""
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, len(images), batch_size):
        logits = model(to_float(images[i : i + batch_size].to(device)))
        correct += int((logits.argmax(dim=1).cpu() == labels[i : i + batch_size]).sum())
    return correct / len(images)
