"""A heat map in the terminal: one coloured cell per weight, tokens on the axes.

Drawn with rich, so it works over SSH wherever colours do; ``course plot`` draws it
only when standard output is a terminal.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from rich.color import Color
from rich.console import Group
from rich.style import Style
from rich.table import Table
from rich.text import Text

from coursepack.plots.figures import WEIGHTS_CMAP


def heat_map(matrix: np.ndarray, rows: list[str], cols: list[str], title: str, vmin: float = 0.0,
             vmax: float = 1.0) -> Group:
    """A rich renderable: ``matrix[i, j]`` as the colour of row ``rows[i]``, column ``cols[j]``."""
    cmap = colormaps[WEIGHTS_CMAP]
    table = Table(title=title, show_header=False, box=None, padding=(0, 0), title_justify="left",
                  title_style="bold")
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    for i, label in enumerate(rows):
        line = Text()
        for value in matrix[i]:
            level = float(np.clip((value - vmin) / (vmax - vmin or 1.0), 0.0, 1.0))
            r, g, b, _ = cmap(level)
            line.append(" " * 3, Style(bgcolor=Color.from_rgb(255 * r, 255 * g, 255 * b)))
        table.add_row(Text(label + " ", style="bold"), line)
    header = Text("".join(f"{j:^3}" for j in range(len(cols))), style="dim")
    table.add_row("", header)
    if cols == [str(j) for j in range(len(cols))]:
        return Group(table)  # the columns are numbered already
    legend = Text("columns: " + "  ".join(f"{j} {c}" for j, c in enumerate(cols)), style="dim")
    return Group(table, legend)
