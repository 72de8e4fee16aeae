"""agf: Alternating Gradient Flows for two-layer networks from small initialization.

Simulate gradient flow and gradient descent of two-layer networks from tiny initialization
with exact time units and located events; the AGF algorithm (Kunin et al., NeurIPS 2025).
"""
from agf.errors import AGFError, ConfigError, DataError, NumericalError  # noqa: I001
from agf import _core
from agf import events, units
from agf.data import Dataset, input_structure
from agf.events import LossBelow, NormCrosses
from agf.gradient_descent import gradient_descent
from agf.gradient_flow import METHODS, default_save_times, gradient_flow
from agf.models import ACTIVATIONS, DiagonalLinear, LinearAttention, Model, TwoLayer
from agf.tasks.linear_regression import Moments
from agf.params import Params
from agf.trajectory import Trajectory
from agf.agf_result import AGFResult
from agf.run_agf import AGFApproximationWarning, AGFBasinWarning, AGFConvergenceWarning, run_agf
from agf.analysis.compare import compare

__version__: str = _core.__version__
#: Whether the C++ core was built with OpenMP (kernel threads; batches always use threads).
has_openmp: bool = _core.has_openmp

__all__ = [
    "AGFError", "ConfigError", "DataError", "NumericalError",
    "Dataset", "input_structure", "Moments", "Params", "Model", "TwoLayer", "DiagonalLinear", "LinearAttention", "ACTIVATIONS",
    "gradient_flow", "gradient_descent", "Trajectory", "METHODS", "default_save_times",
    "NormCrosses", "LossBelow", "run_agf", "AGFResult", "compare", "events", "units", "has_openmp", "__version__",
    "AGFBasinWarning", "AGFConvergenceWarning", "AGFApproximationWarning",
]

_LAZY = ("analysis", "experiments", "theory", "plot", "tasks", "cli", "sweep")


def __getattr__(name):
    """Subpackages on first use (``agf.theory``, ``agf.experiments``, ...): importing agf stays
    cheap (no matplotlib, pandas or scipy)."""
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"agf.{name}")
    raise AttributeError(f"module 'agf' has no attribute {name!r}")
