"""Reproductions of the paper's settings (method section 5/6), one call each.

Every function runs, from one initialization, AGF (:func:`agf.run_agf`), gradient flow
(``method="auto"``; optionally gradient descent with the paper's optimizer, ``gd=True``) and the
theory, and returns an :class:`ExperimentResult` holding the three, the comparison table
(``.table``, ``.summary()``) and ``.plot(out_dir)`` for the figures. Defaults finish in a minute
or two on 2 cores; ``full=True`` uses the paper's sizes.

Settings (:data:`SETTINGS`): ``diagonal-2d``, ``diagonal-5d``, ``linear`` (``commuting=True``) and
``linear-noncommuting``, ``attention``, ``modular``, ``relu``.
"""

from agf.experiments.result import ExperimentResult
from agf.experiments.diagonal import diagonal_2d, diagonal_5d
from agf.experiments.modular import modular
from agf.experiments.linear import linear, linear_noncommuting
from agf.experiments.attention import attention
from agf.experiments.relu import relu

#: setting name -> (function, one-line description)
SETTINGS = {
    "diagonal-2d": (diagonal_2d, "diagonal linear network, 2D example (method 6.1)"),
    "diagonal-5d": (diagonal_5d, "diagonal linear network, 5D example (method 6.2)"),
    "linear": (linear, "linear network, commuting input covariance (method 6.3)"),
    "linear-noncommuting": (linear_noncommuting, "linear network, non-commuting covariance (method 6.3)"),
    "attention": (attention, "linear attention heads, in-context regression (method 6.4)"),
    "modular": (modular, "quadratic network on modular addition (method 6.5)"),
    "relu": (relu, "two-layer ReLU teacher-student (method 5e; no theory)"),
}

__all__ = ["ExperimentResult", "SETTINGS", "diagonal_2d", "diagonal_5d", "linear", "linear_noncommuting",
           "attention", "modular", "relu"]
