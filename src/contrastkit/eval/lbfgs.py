"""Limited-memory BFGS for a batch of independent smooth convex problems, in torch.

Each problem b has its own iterate, curvature history, step length and stopping test, so
the batch behaves as B separate L-BFGS runs (Nocedal & Wright 2006, Algorithms 7.4 and 7.5:
the two-loop recursion with the initial scaling s^T y / y^T y, or s^T y / y^T M^-1 y with a
preconditioner M), evaluated together. The step is accepted by backtracking until the Armijo
condition f(x + t d) <= f(x) + c1 t g^T d holds and f decreased; a problem stops when no
gradient entry exceeds `tolerance_grad`, or when no step along its direction lowers f any
more (converged to the precision of its dtype).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Objective = Callable[[Tensor], tuple[Tensor, Tensor]]
"""params (B, P) -> (values (B,), gradients (B, P)), each problem on its own row."""

ARMIJO_C1 = 1e-4
MAX_HALVINGS = 30


def _identity(v: Tensor) -> Tensor:
    return v


def _direction(
    grad: Tensor,
    history: list[tuple[Tensor, Tensor, Tensor]],
    gamma: Tensor,
    precondition: Callable[[Tensor], Tensor],
) -> Tensor:
    """-H g by the two-loop recursion from H0 = gamma M^-1; history entries (s, y, rho),
    oldest first, rho = 0 for an entry a problem skipped. Shapes: grad (B, P), gamma (B,)."""
    q = grad.clone()
    alphas = []
    for s, y, rho in reversed(history):
        alpha = rho * (s * q).sum(dim=1)  # (B,)
        q -= alpha[:, None] * y
        alphas.append(alpha)
    r = gamma[:, None] * precondition(q)
    for (s, y, rho), alpha in zip(history, reversed(alphas), strict=True):
        beta = rho * (y * r).sum(dim=1)
        r += (alpha - beta)[:, None] * s
    return -r


def minimize_lbfgs(
    objective: Objective,
    x0: Tensor,
    *,
    max_iter: int,
    tolerance_grad: float,
    history_size: int = 10,
    precondition: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """Minimise B independent problems from `x0` (module doc).

    Args:
        objective: Values and gradients of all problems at once (`Objective`).
        x0: Shape: (B, P), the starting points.
        max_iter: Iterations at most.
        tolerance_grad: A problem stops when max |gradient| <= this.
        history_size: Curvature pairs kept (scipy's maxcor).
        precondition: v -> M^-1 v for an SPD M close to the Hessian (each problem's own
            rows); the first step is then -M^-1 g, and later ones scale M^-1 by
            s^T y / y^T M^-1 y. None: M = I, the first step of unit length.

    Returns:
        Shape: (B, P), the minimisers.
    """
    x = x0.clone()
    value, grad = objective(x)
    history: list[tuple[Tensor, Tensor, Tensor]] = []
    apply = _identity if precondition is None else precondition
    if precondition is None:
        gamma = 1.0 / grad.norm(dim=1).clamp(min=1e-12)  # first step: unit length
    else:
        gamma = torch.ones_like(value)
    active = grad.abs().amax(dim=1) > tolerance_grad
    for _ in range(max_iter):
        if not bool(active.any()):
            break
        direction = _direction(grad, history, gamma, apply)
        slope = (grad * direction).sum(dim=1)  # (B,) < 0 for a descent direction
        step = torch.ones_like(value)
        for _ in range(MAX_HALVINGS):
            new_value, new_grad = objective(x + step[:, None] * direction)
            # a step must lower f: where c1 t g^T d is below f's rounding, Armijo alone
            # would accept a step that changes nothing
            ok = (new_value <= value + ARMIJO_C1 * step * slope) & (new_value < value)
            if bool((ok | ~active).all()):
                break
            step = torch.where(ok, step, step / 2)
        moved = active & ok & (slope < 0)
        s = torch.where(moved[:, None], step[:, None] * direction, 0.0)
        y = torch.where(moved[:, None], new_grad - grad, 0.0)
        sy = (s * y).sum(dim=1)
        curved = sy > 0
        rho = torch.where(curved, 1.0 / torch.where(curved, sy, 1.0), 0.0)
        history = [*history, (s, y, rho)][-history_size:]
        y_my = (y * apply(y)).sum(dim=1)
        gamma = torch.where(curved, sy / y_my.clamp(min=1e-30), gamma)
        x = torch.where(moved[:, None], x + s, x)
        value = torch.where(moved, new_value, value)
        grad = torch.where(moved[:, None], new_grad, grad)
        active = moved & (grad.abs().amax(dim=1) > tolerance_grad)
    return x
