"""A `with` block that ends in `close()`: what the log sinks and the progress bar share."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

ClosingT = TypeVar("ClosingT", bound="Closing")


class Closing:
    """Something that lets go of what it holds when its `with` block ends."""

    def close(self) -> None:
        """Flush and let go of what it holds."""

    def __enter__(self: ClosingT) -> ClosingT:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
