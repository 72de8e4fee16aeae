"""Sweep tables (:func:`agf.sweep.sweep`): a result column against a swept setting."""

from __future__ import annotations

import numpy as np

from agf.errors import ConfigError
from agf.plot.style import new_axes


def sweep_summary(table, x: str, y: str, *, by: str | None = None, ax=None, logx: bool | None = None,
                  logy: bool = False, band: bool = True, **kw):
    """Plot column ``y`` of a sweep table against the swept column ``x``: at each ``x`` the mean
    over the rows that share it (e.g. over seeds) as a line with markers, and the min-max range
    as a band. ``by`` draws one line per value of another column. ``logx`` defaults to True when
    every ``x`` is positive and they span more than a factor 50 (initialization scales). Rows
    whose ``y`` is missing (a failed point, a drop that did not happen) are left out. Returns ax."""
    for col in (x, y) + ((by,) if by is not None else ()):
        if col not in table.columns:
            raise ConfigError(f"the table has no column {col!r} (columns: {', '.join(map(str, table.columns))})")
    ax = new_axes(ax)
    data = table[[x, y] + ([by] if by is not None else [])].dropna(subset=[y])
    groups = [(None, data)] if by is None else list(data.groupby(by, sort=True))
    for key, part in groups:
        g = part.groupby(x, sort=True)[y]
        xs = np.asarray(g.mean().index, float)
        label = kw.pop("label", None) if by is None else f"{by} = {key}"
        (line,) = ax.plot(xs, g.mean().to_numpy(float), marker="o", label=label, **kw)
        if band:
            ax.fill_between(xs, g.min().to_numpy(float), g.max().to_numpy(float), color=line.get_color(), alpha=0.2,
                            lw=0)
    xv = np.asarray(data[x], float)
    if logx is None:
        logx = bool(xv.size and np.all(xv > 0) and xv.max() / xv.min() > 50)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if by is not None or ax.get_legend_handles_labels()[1]:
        ax.legend()
    return ax
