"""The result of one reproduction experiment (:mod:`agf.experiments`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["ExperimentResult"]


@dataclass
class ExperimentResult:
    """Gradient flow, AGF and theory of one setting, from one initialization.

    Attributes
    ----------
    setting : name (``"diagonal-2d"``, ``"modular"``, ...).
    task : the :class:`agf.tasks.Task`; model : the network; params0 : the shared initialization.
    alpha : initialization scale (``rescaled time = t / log(1/alpha)`` for kappa = 2).
    theory : :class:`agf.theory.TheoryResult` or None (ReLU: no theory).
    agf : :class:`agf.AGFResult`; gf : gradient-flow :class:`agf.Trajectory` (canonical time,
        ``save_params=True``); gd : gradient-descent Trajectory or None.
    table : comparison table (pandas): one row per predicted drop with the predicted time and
        level and, for AGF and gradient flow (and descent), the observed ones and their relative
        errors (columns prefixed ``agf_``, ``gf_``, ``gd_``). The prediction is the theory, or
        AGF where there is no theory.
    tables : the individual :func:`agf.compare` tables (``"agf"``, ``"gf"``, ``"gd"``).
    info : options, wall times, notes.
    """

    setting: str
    task: Any
    model: Any
    params0: Any
    alpha: float
    theory: Any
    agf: Any
    gf: Any
    gd: Any = None
    table: Any = None
    tables: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    feature_plot: Callable | None = field(default=None, repr=False)

    @property
    def rescaled(self) -> bool:
        """Whether time is plotted rescaled by log(1/alpha) (kappa = 2)."""
        return int(getattr(self.model, "kappa", 2)) == 2

    def summary(self) -> str:
        """The comparison table as text."""
        import pandas as pd

        cols = [c for c in self.table.columns if not c.endswith("observed_label")]
        with pd.option_context("display.width", 200, "display.max_columns", 40,
                               "display.float_format", lambda x: f"{x:.5g}"):
            head = (f"{self.setting}: {self.model!r}, alpha={self.alpha:g}; canonical loss and gradient-flow time"
                    + ("; rescaled = t / log(1/alpha)" if self.rescaled else ""))
            return head + "\n" + self.table[cols].to_string(index=False)

    def plot(self, out_dir, *, dpi: int = 110) -> list[str]:
        """Write ``<setting>_loss.png`` (loss staircase: gradient flow/descent with AGF and theory
        overlaid) and ``<setting>_features.png`` (the setting's feature panel) into ``out_dir``;
        returns the paths."""
        import matplotlib

        if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "cairo"):
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        import agf.plot as aplt

        os.makedirs(out_dir, exist_ok=True)
        name = self.setting.replace("-", "_")
        paths = []
        ax = aplt.new_axes(figsize=(7.5, 4.2))
        s = self.task.loss_scale
        time = "rescaled" if self.rescaled else "canonical"
        alpha = self.alpha if self.rescaled else None
        t_end = float(self.gf.t[-1])
        t_end_plot = t_end / np.log(1 / self.alpha) if self.rescaled else t_end
        if self.gd is not None:
            aplt.loss_curve(self.gd, ax=ax, time=time, alpha=alpha, lw=3, label="gradient descent")
        aplt.loss_curve(self.gf, ax=ax, time=time, alpha=alpha, lw=1.4, label="gradient flow")
        if self.agf is not None and self.agf.jump_times is not None:
            aplt.staircase(self.agf.jump_times, self.agf.levels * s, ax=ax, t_end=t_end_plot, time=time,
                           alpha=alpha, label="AGF")
        if self.theory is not None:
            jt = self.theory.jump_times
            if jt is not None and np.all(np.isfinite(jt)):
                aplt.staircase(jt, np.asarray(self.theory.levels) * s, ax=ax, t_end=t_end_plot, time=time,
                               alpha=alpha, label="theory" + (" (lower bounds)" if self.theory.setting in
                                                              ("modular", "attention") else ""),
                               color=aplt.COLORS["theory"], mark_jumps=False)
            else:
                for lvl in np.asarray(self.theory.levels) * s:
                    ax.axhline(lvl, color=aplt.COLORS["theory"], lw=0.7, ls=":")
        ax.set_xlim(0, t_end_plot)
        lv = np.asarray(self.theory.levels if self.theory is not None else self.agf.levels, float) * s
        pos = lv[lv > 0]
        if pos.size >= 2 and pos.max() / pos.min() > 50:  # levels over decades: log axes
            ax.set_yscale("log")
            ax.set_ylim(pos.min() / 3, pos.max() * 2)
            jt = np.asarray(self.agf.jump_times if self.agf is not None else [], float)
            if jt.size >= 2 and jt[-1] / jt[0] > 30:
                ax.set_xscale("log")
                first = jt[0] / np.log(1 / self.alpha) if self.rescaled else jt[0]
                ax.set_xlim(first / 5, t_end_plot)
        ax.set_title(f"{self.setting}: loss (alpha={self.alpha:g})")
        ax.legend()
        ax.figure.tight_layout()
        p = os.path.join(out_dir, f"{name}_loss.png")
        ax.figure.savefig(p, dpi=dpi)
        plt.close(ax.figure)
        paths.append(p)
        if self.feature_plot is not None:
            fig = self.feature_plot(self)
            p = os.path.join(out_dir, f"{name}_features.png")
            fig.tight_layout()
            fig.savefig(p, dpi=dpi)
            plt.close(fig)
            paths.append(p)
        return paths

    def save(self, out_dir) -> list[str]:
        """Write the data behind the table and figures into ``out_dir``: ``<setting>_table.csv``
        (the comparison table), ``<setting>_agf.npz`` (:meth:`agf.AGFResult.load`),
        ``<setting>_gf.npz`` and, with gradient descent, ``<setting>_gd.npz``
        (:meth:`agf.Trajectory.load`); returns the paths."""
        os.makedirs(out_dir, exist_ok=True)
        name = self.setting.replace("-", "_")
        paths = [os.path.join(out_dir, f"{name}_table.csv")]
        self.table.to_csv(paths[0], index=False)
        for key, obj in (("agf", self.agf), ("gf", self.gf), ("gd", self.gd)):
            if obj is not None:
                paths.append(os.path.join(out_dir, f"{name}_{key}.npz"))
                obj.save(paths[-1])
        return paths

    def __repr__(self) -> str:
        return (f"ExperimentResult(setting={self.setting!r}, alpha={self.alpha:g}, agf={self.agf!r}, "
                f"theory={self.theory!r})")
