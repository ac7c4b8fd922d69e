"""DINO self-distillation loss (Caron et al., 2021, arXiv:2104.14294)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from contrastkit.losses.module import LossModule
from contrastkit.losses.precision import autocast_off, upcast
from contrastkit.losses.validation import check_ndim, check_positive

__all__ = ["DINOLoss", "dino"]


def dino(
    student: Tensor,
    teacher: Tensor,
    center: Tensor,
    *,
    student_temperature: float = 0.1,
    teacher_temperature: float = 0.04,
) -> Tensor:
    """Cross-entropy from the centred, sharpened teacher to the student, over view pairs.

    ``P_t = softmax((teacher - center) / teacher_temperature)`` (no gradient) and
    ``log P_s = log_softmax(student / student_temperature)``; teacher view ``t`` is the
    same crop as student view ``t``, and pairs of the same crop are skipped::

        L = 1/|{(t, s): t != s}| sum_{t, s != t} -(1/N) sum_n sum_k P_t[n,k] log P_s[n,k]

    The center (an EMA of teacher outputs) is state owned by the method: pass it in, and
    update it there after the step.

    Args:
        student: Student head outputs of all crops. Shape: (Vs, N, K).
        teacher: Teacher head outputs of the first Vt crops (the global ones), Vt <= Vs.
            Shape: (Vt, N, K).
        center: Current center. Shape: (K,).
        student_temperature: Paper: 0.1.
        teacher_temperature: Paper: 0.04 (0.04 -> 0.07 warm-up is the method's job).

    Returns:
        Scalar loss (float32 math).

    Raises:
        ValueError: On bad shapes, fewer than one view pair, or temperature <= 0.

    Example:
        >>> loss = dino(torch.randn(4, 8, 64), torch.randn(2, 8, 64), torch.zeros(64))
    """
    check_ndim("student", student, 3, "(Vs, N, K)")
    check_ndim("teacher", teacher, 3, "(Vt, N, K)")
    check_ndim("center", center, 1, "(K,)")
    check_positive("student_temperature", student_temperature)
    check_positive("teacher_temperature", teacher_temperature)
    n_student, n, k = student.shape
    n_teacher = teacher.shape[0]
    if teacher.shape[1:] != (n, k) or center.shape[0] != k or n_teacher > n_student:
        raise ValueError(
            "dino expects student (Vs, N, K), teacher (Vt, N, K) with Vt <= Vs and center "
            f"(K,), got {tuple(student.shape)}, {tuple(teacher.shape)}, {tuple(center.shape)}"
        )
    if n_student < 2:
        raise ValueError(f"dino needs at least 2 student views, got {tuple(student.shape)}")
    with autocast_off(student):
        s32 = upcast(student)
        t32 = upcast(teacher).detach().to(s32.dtype)
        targets = F.softmax((t32 - upcast(center).to(s32.dtype)) / teacher_temperature, dim=2)
        log_p = F.log_softmax(s32 / student_temperature, dim=2)  # (Vs, N, K)
        # ce[t, s] = mean_n -sum_k P_t log P_s; einsum letters: t teacher view, s student
        # view, n sample, k output dimension.
        ce = -torch.einsum("tnk,snk->ts", targets, log_p) / n  # (Vt, Vs)
        same_crop = torch.eye(n_teacher, n_student, dtype=torch.bool, device=ce.device)
        return ce[~same_crop].mean()


class DINOLoss(LossModule, function=dino):
    """Module form of :func:`dino` (the center is the method's)."""
