"""Input checks shared by the public functions (internal)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from agf.errors import ConfigError, DataError


def float_array(name: str, value, *, ndim: int | None = None, finite: bool = True,
                error: type = DataError) -> np.ndarray:
    """``value`` as a C-contiguous float64 array, checked for dimension and finiteness."""
    if np.iscomplexobj(value):  # numpy would drop the imaginary part with only a warning
        raise error(f"{name} must be an array of real numbers, got complex values")
    try:
        arr = np.ascontiguousarray(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError) as exc:
        raise error(f"{name} must be an array of real numbers ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        raise error(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise error(f"{name} contains {bad} non-finite value(s) (nan or inf)")
    return arr


def positive(name: str, value, *, allow_zero: bool = False, allow_inf: bool = False) -> float:
    """``value`` as a float > 0 (or >= 0), else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    if v < 0 or (v == 0 and not allow_zero):
        raise ConfigError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return v


def integer(name: str, value, *, minimum: int = 0) -> int:
    """``value`` as an int >= minimum, else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if v < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {v}")
    return v


def n_threads(value) -> int:
    """A thread count >= 1."""
    return integer("n_threads", value, minimum=1)
