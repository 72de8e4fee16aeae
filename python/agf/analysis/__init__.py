"""Analysis of runs: staircase detection, comparisons, feature read-outs.

- :func:`detect_staircase` -> :class:`Staircase` (plateau levels and drop times of a loss curve);
- :func:`compare` lines up any two of a gradient-flow/descent :class:`agf.Trajectory`, an
  :class:`agf.AGFResult`, a :class:`agf.theory.TheoryResult` (or a :class:`Staircase`);
- :mod:`agf.analysis.features`: Fourier read-outs (modular addition), singular values and
  alignment (linear networks, attention), support and signs (diagonal).
"""

from agf.analysis.compare import compare, staircase_of
from agf.analysis.staircase import Staircase, detect_staircase
from agf.analysis import features

__all__ = ["Staircase", "detect_staircase", "compare", "staircase_of", "features"]
