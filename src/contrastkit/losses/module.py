"""The module form of a pure loss, written once: it stores the hyperparameters (checked when
it is made) and calls the function with them.

A loss module names its function and nothing else; the function's tensor arguments (those
typed `Tensor` or `Tensor | None`) are the module's inputs, in the function's order, and its
other arguments are the hyperparameters, with the function's defaults.

Example:
    >>> class NTXentLoss(LossModule, function=nt_xent):
    ...     '''Module form of :func:`nt_xent`.'''
    >>> criterion = NTXentLoss(temperature=0.2)    # ValueError at once for temperature <= 0
    >>> loss = criterion(z_a, z_b)                 # nt_xent(z_a, z_b, temperature=0.2)
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar

from torch import Tensor, nn

from contrastkit.losses.validation import check_hyperparameters


def _is_tensor_argument(hint: Any) -> bool:
    """`Tensor` or `Tensor | None`."""
    if hint is Tensor:
        return True
    args = set(typing.get_args(hint))
    return Tensor in args and args <= {Tensor, types.NoneType}


class LossModule(nn.Module):
    """A pure loss with fixed hyperparameters, as an `nn.Module` (no state of its own).

    Args:
        **hyperparameters: Keyword arguments of the function that are not tensors, e.g.
            `temperature`, `chunk_size`, `gather`; the others keep the function's defaults.

    Raises:
        TypeError: A name the function does not take as a hyperparameter.
        ValueError: A value out of range (`temperature <= 0`, `chunk_size < 1`, ...).
    """

    function: ClassVar[Callable[..., Tensor]]
    inputs: ClassVar[tuple[str, ...]]
    """The tensor arguments of `function`, in order: what `forward` takes."""
    hyperparameter_names: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, function: Callable[..., Tensor], **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        hints = typing.get_type_hints(function)
        names = list(inspect.signature(function).parameters)
        cls.function = staticmethod(function)
        cls.inputs = tuple(n for n in names if _is_tensor_argument(hints.get(n)))
        cls.hyperparameter_names = tuple(n for n in names if n not in cls.inputs)

    def __init__(self, **hyperparameters: Any) -> None:
        super().__init__()
        unknown = sorted(set(hyperparameters) - set(self.hyperparameter_names))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} takes no hyperparameter {', '.join(unknown)} "
                f"(it takes {', '.join(self.hyperparameter_names)})"
            )
        check_hyperparameters(hyperparameters)
        self.hyperparameters = dict(hyperparameters)

    def forward(self, *inputs: Tensor | None, **named: Tensor | None) -> Tensor:
        """The loss of `inputs` (the function's tensor arguments, by position or name)."""
        if len(inputs) > len(self.inputs):
            raise TypeError(
                f"{type(self).__name__} takes at most {len(self.inputs)} tensors "
                f"({', '.join(self.inputs)}), got {len(inputs)}"
            )
        given = dict(zip(self.inputs, inputs, strict=False))
        extra = set(named) - set(self.inputs[len(inputs) :])
        if extra:
            raise TypeError(f"{type(self).__name__}: unexpected or repeated {sorted(extra)}")
        return type(self).function(**given, **named, **self.hyperparameters)

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in self.hyperparameters.items())
