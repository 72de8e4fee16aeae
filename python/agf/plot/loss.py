"""Loss curves: the staircase of gradient flow and descent, with AGF and theory overlaid."""

from __future__ import annotations

import numpy as np

from agf.errors import ConfigError
from agf.plot.style import COLORS, new_axes


def _time(t, time: str, alpha: float | None):
    if time == "canonical":
        return t, "t (canonical gradient-flow time)"
    if time == "rescaled":
        if alpha is None or not 0 < alpha < 1:
            raise ConfigError("time='rescaled' needs alpha in (0, 1)")
        return t / np.log(1.0 / alpha), "t / log(1/alpha)"
    raise ConfigError(f"time must be 'canonical' or 'rescaled', got {time!r}")


def loss_curve(trajectory, *, ax=None, label=None, time: str = "canonical", alpha=None, **kw):
    """Plot a :class:`~agf.Trajectory`'s loss (in its loss convention) against time; returns ax."""
    ax = new_axes(ax)
    t, xlabel = _time(np.asarray(trajectory.t), time, alpha)
    kw.setdefault("color", COLORS.get(trajectory.kind))
    ax.plot(t, trajectory.loss, label=label or trajectory.kind.replace("_", " "), **kw)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss" if trajectory.loss_scale == 1 else f"loss (scale {trajectory.loss_scale:g} x canonical)")
    return ax


def staircase(jump_times, levels, *, ax=None, t_end=None, label="AGF", time: str = "canonical", alpha=None,
              mark_jumps: bool = True, **kw):
    """Plot a piecewise-constant loss: ``levels[0]`` until ``jump_times[0]``, then ``levels[k+1]``
    after ``jump_times[k]``; vertical lines at the jumps. Returns ax."""
    ax = new_axes(ax)
    jt = np.asarray(jump_times, dtype=float)
    lv = np.asarray(levels, dtype=float)
    if lv.size != jt.size + 1:
        raise ConfigError(f"need one more level than jump times, got {lv.size} levels and {jt.size} times")
    jt_plot, _ = _time(jt, time, alpha)
    end = t_end if t_end is not None else (jt_plot[-1] * 1.2 if jt.size else 1.0)
    xs = np.concatenate([[0.0], np.repeat(jt_plot, 2), [end]])
    ys = np.repeat(lv, 2)
    kw.setdefault("color", COLORS["agf"])
    ax.plot(xs, ys, label=label, lw=1.6, ls="--", **kw)
    if mark_jumps:
        for x in jt_plot:
            ax.axvline(x, color=kw["color"], alpha=0.25, lw=0.8)
    return ax
