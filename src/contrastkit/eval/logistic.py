"""L2-regularised multinomial logistic regression on standardised features, in torch.

Each problem b of a batch (the few-label draws are one batch) minimises scikit-learn's
objective for `LogisticRegression(C)`,

    (1 / N) sum_i CE(W_b^T z_bi + c_b, y_bi) + ||W_b||^2 / (2 C N),

over the classes present in its labels (the intercept c_b is not penalised), on its rows
standardised by their own mean and population std (a constant feature is centred, not
scaled), as `StandardScaler` does. With two classes scikit-learn fits one sigmoid w; the
softmax pair (W_1, W_2) = (w / 2, -w / 2) has half its squared norm, so the penalty is
doubled to reach the same classifier.

The solver is `lbfgs.minimize_lbfgs` from zero weights, preconditioned by Boehning's bound
on the Hessian (1/2 Z^T Z / N + the penalty for each class's weights, 1/2 for the
intercepts; Boehning 1992, doi:10.1007/BF00048682) when the rows outnumber the features:
on Fashion-MNIST embeddings (60,000 x 256) it needs 293 evaluations instead of 1,033. It
stops at a gradient of 1e-5, tighter than scikit-learn's default 1e-4: its lbfgs can stop
before the optimum where the features are ill-conditioned (the digits' pixels, C = 1:
98.2% test accuracy at tol 1e-4, 97.7% at the optimum, which this solver reaches).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.eval.lbfgs import Objective, minimize_lbfgs

TOLERANCE_GRAD = 1e-5
"""L-BFGS stops a problem when no gradient entry of its objective exceeds this."""


@dataclass(frozen=True)
class LogisticFit:
    """Fitted problems, the standardisation folded into the weights.

    Shapes: `weight` (B, D, K); `bias` (B, K), -inf for the classes a problem never saw.
    """

    weight: Tensor
    bias: Tensor

    def logits(self, x: Tensor) -> Tensor:
        """Class scores. x: Shape: (M, D), shared by the problems, or (B, M, D).

        Returns:
            Shape: (B, M, K).
        """
        return x.to(self.weight.dtype) @ self.weight + self.bias[:, None]

    def predict(self, x: Tensor) -> Tensor:
        """Shape: (B, M), the predicted class of each row of `x` for every problem."""
        return self.logits(x).argmax(dim=2)


def _standardise(x: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and population std of each problem's rows (B, D), in x's dtype; the std of a
    constant feature is 1. Computed in float64 and called constant as scikit-learn's
    `StandardScaler` does (a variance within the rounding error of its computation), so
    that a feature of tiny magnitude (1e-9: a random-init network's output) is scaled,
    not dropped."""
    n = x.shape[1]
    x64 = x.to(torch.float64)
    mean = x64.mean(dim=1)
    var = x64.var(dim=1, unbiased=False)
    eps = torch.finfo(torch.float64).eps
    constant = var <= n * eps * var + (n * mean * eps) ** 2
    std = torch.where(constant, torch.ones_like(var), var.sqrt())
    return mean.to(x.dtype), std.to(x.dtype)


def _objective(z: Tensor, y: Tensor, present: Tensor, penalty: Tensor) -> Objective:
    """Values and gradients of every problem at params (B, K D + K): the weights (B, K, D)
    flattened, then the intercepts (B, K). z: (B, N, D) standardised, y: (B, N)."""
    batch, n, dim = z.shape
    num_classes = present.shape[1]
    size = num_classes * dim
    z_t = z.transpose(1, 2).contiguous()  # (B, D, N): class-major products run faster
    one_hot = F.one_hot(y, num_classes).to(z.dtype).transpose(1, 2)  # (B, K, N)
    absent = torch.zeros(batch, num_classes, 1, dtype=z.dtype, device=z.device)
    absent = absent.masked_fill(~present[:, :, None], float("-inf"))

    def objective(params: Tensor) -> tuple[Tensor, Tensor]:
        weight = params[:, :size].view(batch, num_classes, dim)  # (B, K, D)
        logits = weight @ z_t + params[:, size:, None] + absent  # (B, K, N)
        log_p = logits.log_softmax(dim=1)
        nll = -log_p.gather(1, y[:, None, :]).sum(dim=(1, 2)) / n  # (B,)
        value = nll + penalty * weight.pow(2).sum(dim=(1, 2))
        residual = (log_p.exp() - one_hot) / n  # (B, K, N) = d nll / d logits
        grad_w = residual @ z + 2 * penalty[:, None, None] * weight  # (B, K, D)
        return value, torch.cat([grad_w.flatten(1), residual.sum(dim=2)], dim=1)

    return objective


def _preconditioner(z: Tensor, penalty: Tensor, num_classes: int) -> Callable[[Tensor], Tensor]:
    """v -> M^-1 v for Boehning's bound M (module doc); z: (B, N, D) standardised."""
    batch, n, dim = z.shape
    eye = torch.eye(dim, dtype=z.dtype, device=z.device)
    gram = z.transpose(1, 2) @ z / (2 * n)  # (B, D, D)
    ridge = 2 * penalty + 1e-6 * gram.diagonal(dim1=1, dim2=2).mean(dim=1)  # keeps M SPD
    gram_inv = torch.cholesky_inverse(torch.linalg.cholesky(gram + ridge[:, None, None] * eye))
    size = num_classes * dim

    def precondition(v: Tensor) -> Tensor:
        w = v[:, :size].view(batch, num_classes, dim) @ gram_inv  # (B, K, D)
        return torch.cat([w.flatten(1), 2 * v[:, size:]], dim=1)

    return precondition


def fit_logistic(
    x: Tensor,
    y: Tensor,
    *,
    num_classes: int,
    c: float = 1.0,
    max_iter: int = 2000,
    tolerance_grad: float = TOLERANCE_GRAD,
) -> LogisticFit:
    """Fit B independent logistic regressions on their own standardised rows (module doc).

    Runs on `x`'s device in float32 (float64 when `x` is float64); deterministic for a
    given device.

    Args:
        x: Shape: (B, N, D), each problem's training features (detached).
        y: Shape: (B, N), int64 labels in [0, num_classes).
        num_classes: K; classes absent from a problem's labels are never predicted by it.
        c: Inverse regularisation strength (scikit-learn's C), > 0.
        max_iter: L-BFGS iterations at most (scikit-learn's max_iter).
        tolerance_grad: Stop when no gradient entry of the mean objective exceeds this.

    Raises:
        ValueError: shapes disagree, labels out of range, c <= 0, or a problem has fewer
            than two classes.
    """
    if x.ndim != 3 or y.shape != x.shape[:2]:
        raise ValueError(f"need x (B, N, D) and y (B, N), got {tuple(x.shape)}, {tuple(y.shape)}")
    if c <= 0:
        raise ValueError(f"c must be > 0, got {c}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes}), got [{int(y.min())}, {int(y.max())}]"
        )
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    x = x.detach().to(dtype)
    batch, n, dim = x.shape
    present = F.one_hot(y, num_classes).sum(dim=1) > 0  # (B, K)
    count = present.sum(dim=1)
    if int(count.min()) < 2:
        raise ValueError("a linear probe needs at least two classes in its labels")
    mean, scale = _standardise(x)
    z = (x - mean[:, None]) / scale[:, None]  # (B, N, D)
    penalty = torch.where(count == 2, 2.0, 1.0).to(dtype) / (2 * c * n)  # (B,)
    params = minimize_lbfgs(
        _objective(z, y, present, penalty),
        torch.zeros(batch, num_classes * (dim + 1), dtype=dtype, device=x.device),
        max_iter=max_iter,
        tolerance_grad=tolerance_grad,
        # with fewer rows than features (few-label draws) the bound has rank N and costs
        # D x D products per step for no fewer iterations
        precondition=_preconditioner(z, penalty, num_classes) if n > dim else None,
    )
    weight = params[:, : num_classes * dim].view(batch, num_classes, dim).transpose(1, 2)
    weight = weight / scale[:, :, None]  # (B, D, K), on the raw features
    bias = params[:, num_classes * dim :] - (mean[:, None, :] @ weight)[:, 0]
    return LogisticFit(weight, bias.masked_fill(~present, float("-inf")))
