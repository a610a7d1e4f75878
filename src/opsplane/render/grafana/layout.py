"""Place panels on Grafana's 24-column grid, left to right and top to bottom.

Panels are added in reading order with a width and a height. A panel that does not fit beside
the previous one starts a new line below the tallest panel of the current line, so no two
panels overlap and none leaves the grid. Rows span the full width. Panel ids are assigned in
the same order, from 1, so they are unique and stable.
"""

from __future__ import annotations

from typing import Any

COLUMNS = 24


class Grid:
    """A builder that gives each added panel its ``id`` and ``gridPos``."""

    def __init__(self) -> None:
        self._panels: list[dict[str, Any]] = []
        self._x = 0
        self._y = 0
        self._line_height = 0

    def add(self, panel: dict[str, Any], *, w: int, h: int) -> None:
        """Place ``panel`` (``w`` columns, ``h`` grid units tall) after the last one."""
        if not 0 < w <= COLUMNS or h <= 0:
            msg = f"a panel must be 1-{COLUMNS} columns wide and at least 1 unit high"
            raise ValueError(msg)
        if self._x + w > COLUMNS:
            self.newline()
        grid_pos = {"h": h, "w": w, "x": self._x, "y": self._y}
        placed = {"id": len(self._panels) + 1, "gridPos": grid_pos, **panel}
        self._panels.append(placed)
        self._x += w
        self._line_height = max(self._line_height, h)

    def row(self, panel: dict[str, Any]) -> None:
        """Start a new line with a full-width, one-unit-high row header."""
        self.newline()
        self.add(panel, w=COLUMNS, h=1)
        self.newline()

    def newline(self) -> None:
        """Move below everything placed so far."""
        self._y += self._line_height
        self._x = 0
        self._line_height = 0

    @property
    def panels(self) -> list[dict[str, Any]]:
        """The placed panels, in order."""
        return list(self._panels)
