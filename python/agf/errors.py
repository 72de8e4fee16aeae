"""The exception hierarchy of agf.

Every error agf raises on purpose derives from :class:`AGFError`:

- :class:`ConfigError` (also a ``ValueError``): a bad argument or configuration (shapes, an
  unknown activation, ``alpha <= 0``, an unknown method).
- :class:`DataError` (also a ``ValueError``): data that cannot be used (non-finite values,
  mismatched sample counts).
- :class:`NumericalError` (also a ``FloatingPointError``): a run that failed numerically
  (divergence, step-size underflow, step budget exhausted). ``.partial`` holds what was computed
  before the failure (a :class:`~agf.Trajectory`, or a list of them for a batch).
"""

from __future__ import annotations

from typing import Any

__all__ = ["AGFError", "ConfigError", "DataError", "NumericalError"]


class AGFError(Exception):
    """Base class of all errors raised by agf."""


class ConfigError(AGFError, ValueError):
    """An argument or configuration agf cannot use."""


class DataError(AGFError, ValueError):
    """Training data agf cannot use (shapes, non-finite values)."""


class NumericalError(AGFError, FloatingPointError):
    """A numerical failure; ``partial`` is the result computed before it."""

    def __init__(self, message: str, partial: Any = None):
        super().__init__(message)
        self.partial = partial
