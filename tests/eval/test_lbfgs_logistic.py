"""The batched L-BFGS (closed-form minimisers, batch == one problem at a time) and the
logistic probe's objective (coefficients equal scikit-learn's when both are converged)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from contrastkit.eval.lbfgs import minimize_lbfgs
from contrastkit.eval.linear import fewshot_accuracies
from contrastkit.eval.logistic import fit_logistic


def quadratics(batch: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """SPD matrices A (B, P, P) of condition numbers 1 to 10^4 and vectors b (B, P)."""
    gen = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(batch, size, size, generator=gen, dtype=torch.float64))
    spectra = torch.stack(
        [torch.logspace(0, k, size, dtype=torch.float64) for k in range(batch)]
    )  # (B, P): condition number 10^k
    a = q @ torch.diag_embed(spectra) @ q.transpose(1, 2)
    return a, torch.randn(batch, size, generator=gen, dtype=torch.float64)


def quadratic_objective(a: torch.Tensor, b: torch.Tensor):
    def objective(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ax = (a @ x[:, :, None])[:, :, 0]
        return 0.5 * (x * ax).sum(dim=1) - (b * x).sum(dim=1), ax - b

    return objective


def test_quadratics_reach_the_closed_form() -> None:
    """|x - x*| <= |g| / lambda_min (= 1 here) once the gradient is small; near the optimum
    of the worst-conditioned problem f stops decreasing in float64 at |g| about 1e-8."""
    a, b = quadratics(5, 8)
    x = minimize_lbfgs(
        quadratic_objective(a, b), torch.zeros_like(b), max_iter=500, tolerance_grad=1e-10
    )
    expected = torch.linalg.solve(a, b)
    torch.testing.assert_close(x, expected, atol=1e-7, rtol=0)


def test_batch_equals_each_problem_alone() -> None:
    a, b = quadratics(4, 6)
    together = minimize_lbfgs(
        quadratic_objective(a, b), torch.zeros_like(b), max_iter=200, tolerance_grad=1e-6
    )
    for i in range(4):
        alone = minimize_lbfgs(
            quadratic_objective(a[i : i + 1], b[i : i + 1]),
            torch.zeros_like(b[i : i + 1]),
            max_iter=200,
            tolerance_grad=1e-6,
        )
        torch.testing.assert_close(together[i : i + 1], alone, atol=1e-12, rtol=0)


def test_a_converged_start_is_returned() -> None:
    a, b = quadratics(2, 4)
    start = torch.linalg.solve(a, b)
    x = minimize_lbfgs(quadratic_objective(a, b), start, max_iter=10, tolerance_grad=1e-6)
    assert torch.equal(x, start)


@pytest.mark.parametrize("num_classes", [2, 4])
def test_coefficients_equal_sklearn(num_classes: int) -> None:
    """Both solvers run to a tight tolerance: the same objective has the same minimiser."""
    x, y = make_classification(
        n_samples=600, n_features=12, n_informative=6, n_classes=num_classes, random_state=0
    )
    ref = make_pipeline(StandardScaler(), LogisticRegression(C=0.3, tol=1e-10, max_iter=10_000))
    ref.fit(x, y)
    coef = ref[-1].coef_ / ref[0].scale_  # on the raw features, as LogisticFit keeps them
    fit = fit_logistic(
        torch.from_numpy(x)[None],
        torch.from_numpy(y)[None],
        num_classes=num_classes,
        c=0.3,
        tolerance_grad=1e-10,
        max_iter=10_000,
    )
    weight = fit.weight[0].numpy()  # (D, K)
    ours = weight[:, 1] - weight[:, 0] if num_classes == 2 else weight.T
    np.testing.assert_allclose(ours, coef.reshape(ours.shape), atol=1e-6)
    np.testing.assert_allclose(
        fit.logits(torch.from_numpy(x))[0].argmax(dim=1).numpy(), ref.predict(x)
    )


def test_a_class_absent_from_a_draw_is_never_predicted() -> None:
    x, y = make_classification(
        n_samples=400, n_features=10, n_informative=6, n_classes=3, random_state=1
    )
    x, y = torch.from_numpy(x).float(), torch.from_numpy(y)
    without_two = torch.nonzero(y != 2).flatten()[:60].numpy()
    with_all = np.arange(60)
    fit = fit_logistic(
        torch.stack([x[without_two], x[with_all]]),
        torch.stack([y[without_two], y[with_all]]),
        num_classes=3,
    )
    preds = fit.predict(x)  # (2, N)
    assert not (preds[0] == 2).any()
    assert (preds[1] == 2).any()
    ref = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[without_two], y[without_two])
    assert float((preds[0].numpy() == ref.predict(x.numpy())).mean()) > 0.99


def test_features_of_tiny_magnitude_are_scaled_as_scikit_learn_scales_them() -> None:
    """A random-init network's outputs are about 1e-9: standardising must scale them (as
    `StandardScaler` does), not call them constant and predict one class."""
    x, y = make_classification(
        n_samples=400, n_features=10, n_informative=6, n_classes=3, random_state=2
    )
    x[:, 0] = 0.5  # a truly constant feature stays centred, not scaled
    tiny = torch.from_numpy(x * 1e-9).float()
    ref = make_pipeline(StandardScaler(), LogisticRegression()).fit(x[:300] * 1e-9, y[:300])
    fit = fit_logistic(tiny[None, :300], torch.from_numpy(y)[None, :300], num_classes=3)
    preds = fit.predict(tiny[300:])[0].numpy()
    assert len(np.unique(preds)) == 3
    assert float((preds == ref.predict(x[300:] * 1e-9)).mean()) > 0.98


def test_fewshot_float64_equals_float32_on_the_device_of_the_features() -> None:
    x, y = make_classification(n_samples=300, n_features=8, n_classes=3, n_informative=5)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    subsets = [np.arange(0, 60), np.arange(60, 120)]
    single = fewshot_accuracies(x.float(), y, x.float(), y, subsets)
    double = fewshot_accuracies(x, y, x, y, subsets)
    np.testing.assert_allclose(single, double, atol=2 / 300)


def test_rejects_one_class() -> None:
    with pytest.raises(ValueError, match="two classes"):
        fit_logistic(torch.randn(1, 5, 3), torch.zeros(1, 5, dtype=torch.long), num_classes=2)
