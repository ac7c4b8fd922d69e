"""The loss modules are their functions: every `LossModule` gives its function's value and
gradient, takes the function's tensors by position or name, and refuses a bad
hyperparameter when it is made, not at the first step."""

from __future__ import annotations

import pytest
import torch

from contrastkit import losses
from contrastkit.losses.module import LossModule


def _rows(n: int, d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64, requires_grad=True)


N, D = 6, 5
LABELS = torch.tensor([0, 1, 0, 2, 1, 2])
INPUTS: dict[str, tuple[torch.Tensor, ...]] = {
    "NTXentLoss": (_rows(N, D, 0), _rows(N, D, 1)),
    "DCLLoss": (_rows(N, D, 0), _rows(N, D, 1)),
    "InfoNCELoss": (_rows(N, D, 0), _rows(N, D, 1), _rows(3, D, 2)),
    "SupConLoss": (_rows(N, 2 * D, 0).view(N, 2, D), LABELS),
    "BarlowTwinsLoss": (_rows(N, D, 0), _rows(N, D, 1)),
    "VICRegLoss": (_rows(N, D, 0), _rows(N, D, 1)),
    "DINOLoss": (_rows(3 * N, D, 0).view(3, N, D), _rows(2 * N, D, 1).view(2, N, D),
                 _rows(1, D, 2)[0]),
    "SwAVLoss": (_rows(3 * N, D, 0).view(3, N, D),),
    "NegativeCosineLoss": (_rows(N, D, 0), _rows(N, D, 1)),
    "BYOLLoss": (_rows(N, D, 0), _rows(N, D, 1)),
    "SampledSoftmaxLoss": (_rows(N, D, 0), _rows(N, D, 1), torch.full((N,), -1.5)),
    "TripletLoss": (_rows(N, D, 0), _rows(N, D, 1), _rows(N, D, 2)),
    "MarginContrastiveLoss": (_rows(N, D, 0), _rows(N, D, 1), LABELS == 0),
    "NPairLoss": (_rows(N, D, 0), _rows(N, D, 1)),
}  # fmt: skip
MODULES = {
    name: cls
    for name in losses.__all__
    if isinstance(cls := getattr(losses, name), type) and issubclass(cls, LossModule)
}


def test_every_loss_module_is_listed_here() -> None:
    assert sorted(MODULES) == sorted(INPUTS)


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_module_equals_its_function_in_value_and_gradient(name: str) -> None:
    cls = MODULES[name]
    inputs = INPUTS[name]
    tensors = [x for x in inputs if x.requires_grad]
    module_loss = cls()(*inputs)
    module_grads = torch.autograd.grad(module_loss, tensors, allow_unused=True)
    function_loss = cls.function(**dict(zip(cls.inputs, inputs, strict=False)))
    function_grads = torch.autograd.grad(function_loss, tensors, allow_unused=True)
    assert module_loss.item() == function_loss.item()
    assert module_grads[0] is not None
    for got, want in zip(module_grads, function_grads, strict=True):
        assert (got is None and want is None) or torch.equal(got, want)


def test_hyperparameters_reach_the_function_and_the_rest_keep_its_defaults() -> None:
    a, b = INPUTS["NTXentLoss"]
    module = losses.NTXentLoss(temperature=0.3, chunk_size=2)
    assert module(a, b).item() == losses.nt_xent(a, b, 0.3, chunk_size=2).item()
    assert repr(module) == "NTXentLoss(temperature=0.3, chunk_size=2)"
    q, k, negatives = INPUTS["InfoNCELoss"]
    mask = torch.eye(N, dtype=torch.bool).roll(1, dims=1)
    by_name = losses.InfoNCELoss(temperature=0.2)(q, k, negatives=negatives, mask=mask)
    want = losses.info_nce(q, k, 0.2, negatives, mask=mask)
    assert by_name.item() == want.item()
    assert losses.InfoNCELoss.inputs == ("query", "key", "negatives", "ids", "mask")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: losses.NTXentLoss(temperature=0.0), "temperature must be > 0, got 0.0"),
        (lambda: losses.DCLLoss(sigma=-1.0), "sigma must be > 0"),
        (lambda: losses.InfoNCELoss(chunk_size=0), "chunk_size must be None or >= 1"),
        (lambda: losses.VICRegLoss(variance_weight=-1.0), "variance_weight must be >= 0"),
        (lambda: losses.SwAVLoss(sinkhorn_iterations=0), "sinkhorn_iterations must be >= 1"),
        (lambda: losses.TripletLoss(margin=-0.1), "margin must be >= 0"),
    ],
)
def test_a_bad_hyperparameter_fails_when_the_module_is_made(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_unknown_names_and_extra_tensors_are_refused() -> None:
    with pytest.raises(TypeError, match=r"NTXentLoss takes no hyperparameter temprature \(it"):
        losses.NTXentLoss(temprature=0.1)
    with pytest.raises(TypeError, match="no hyperparameter z_a"):
        losses.NTXentLoss(z_a=torch.zeros(2, 2))
    a, b = INPUTS["NTXentLoss"]
    with pytest.raises(TypeError, match="at most 4 tensors"):
        losses.NTXentLoss()(a, b, None, None, a)
    with pytest.raises(TypeError, match="unexpected or repeated"):
        losses.NTXentLoss()(a, b, z_a=a)
