"""``with adapter:`` for every adapter that holds a connection, a file or a pool."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """Mixin: ``__enter__`` returns the adapter, ``__exit__`` calls its ``close()``."""

    def close(self) -> None:
        """Release what the adapter holds (overridden by each adapter)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
