"""Plots (opt-in: ``import agf.plot``; needs ``pip install 'agf[plot]'``). Every function takes
``ax=`` and returns the axes."""
from agf.plot.features import beta_paths, fourier_power, modular_weights, singular_values, utilities
from agf.plot.loss import loss_curve, staircase
from agf.plot.style import COLORS, new_axes
from agf.plot.sweep import sweep_summary

__all__ = ["loss_curve", "staircase", "new_axes", "COLORS", "beta_paths", "utilities", "singular_values",
           "fourier_power", "modular_weights", "sweep_summary"]
