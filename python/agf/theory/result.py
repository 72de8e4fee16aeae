"""The result object shared by every closed-form theory prediction in :mod:`agf.theory`.

A :class:`TheoryResult` uses the same attribute names as an AGF run (``order``, ``levels``,
``rescaled_times``, ``jump_times``) so that the two can be compared entry by entry.

Alignment convention (all settings): jump ``k`` (0-based) happens at ``rescaled_times[k]``
(and ``jump_times[k]``), is described by ``order[k]``, and the loss plateau after it is
``levels[k + 1]``; ``levels[0]`` is the loss before the first jump. So
``len(levels) == len(order) + 1`` and ``len(rescaled_times) == len(order)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from agf.errors import ConfigError, DataError

__all__ = ["TheoryResult"]


@dataclass(frozen=True)
class TheoryResult:
    """Theory prediction of a saddle-to-saddle path.

    Attributes
    ----------
    setting : str
        ``"diagonal"``, ``"linear"``, ``"attention"`` or ``"modular"``.
    order : list
        One entry per jump, what was learned at that jump: the coordinate index that activated
        (diagonal; deactivations at the same jump are in ``events`` and ``extras["path"]``),
        the mode index ``k = 0, 1, ...`` (linear, attention), the frequency ``ξ`` in
        ``1..p//2`` (modular).
    levels : numpy.ndarray, shape (len(order) + 1,)
        Loss plateaus: before the first jump, then after every jump. Canonical loss
        ``L = (1/2n) Σ_n ||y_n − f(x_n)||²`` (population version ``½ E||y − f||²``).
    rescaled_times : numpy.ndarray or None, shape (len(order),)
        Jump times divided by ``log(1/α)`` (the α → 0 clock of κ = 2 models); ``None`` where
        the setting has no such clock (κ = 3: attention, modular).
    events : list of dict
        Every event in time order, keys ``kind`` (``"activate"`` / ``"deactivate"``),
        ``index`` (as in ``order``), ``jump`` (index into ``order``), ``rescaled_time``,
        ``level`` (the loss after the jump) and setting-specific keys (``sign`` for diagonal).
    extras : dict
        Setting-specific outputs (saddles, learned singular values, max utilities, ...);
        see each entry point's docstring.
    alpha : float or None
        Initialization scale given at construction; when set, :attr:`jump_times` is defined.
    levels_mse : numpy.ndarray or None
        The levels under PyTorch ``MSELoss`` (modular only).
    time_unit : str
        A human-readable description of the units of :attr:`rescaled_times` and
        :meth:`jump_times_at`.
    """

    setting: str
    order: list
    levels: np.ndarray
    rescaled_times: np.ndarray | None
    events: list = field(default_factory=list)
    extras: dict = field(default_factory=dict)
    alpha: float | None = None
    levels_mse: np.ndarray | None = None
    time_unit: str = ""
    _time_fn: Callable[..., np.ndarray] | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ times
    @property
    def n_jumps(self) -> int:
        """Number of jumps (``len(order)``)."""
        return len(self.order)

    @property
    def jump_times(self) -> np.ndarray | None:
        """Jump times in canonical gradient-flow time for ``alpha`` given at construction.

        ``None`` if no ``alpha`` was given (use :meth:`jump_times_at`).
        """
        if self.alpha is None or self._time_fn is None:
            return None
        return self.jump_times_at(self.alpha)

    def jump_times_at(self, alpha: float, **kwargs: Any) -> np.ndarray:
        """Jump times, shape ``(len(order),)``, in canonical gradient-flow time units.

        Parameters
        ----------
        alpha : float
            Initialization scale, ``0 < alpha < 1`` (see the entry point's docstring for how
            it maps to the initial neuron norm).
        **kwargs
            Setting-specific options (e.g. ``init_norm`` for κ = 3 settings).

        Raises
        ------
        ConfigError
            If ``alpha`` is not in (0, 1) or the setting defines no jump times.
        """
        if self._time_fn is None:
            raise ConfigError(f"the {self.setting!r} theory defines no jump times")
        alpha = _check_alpha(alpha)
        return np.asarray(self._time_fn(alpha, **kwargs), dtype=float)

    # ------------------------------------------------------------------ export
    def to_dataframe(self):
        """One row per jump plus a row 0 for the initial plateau (requires pandas).

        Columns: ``jump`` (0 = before any jump), ``order``, ``rescaled_time``, ``jump_time``
        (if ``alpha`` was given), ``level`` and ``level_mse`` (modular).
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_dataframe() requires pandas (pip install agf[pandas])") from exc
        nan = float("nan")
        rows = []
        jt = self.jump_times
        for k in range(self.n_jumps + 1):
            row = {
                "jump": k,
                "order": None if k == 0 else self.order[k - 1],
                "rescaled_time": (
                    nan if self.rescaled_times is None
                    else 0.0 if k == 0 else float(self.rescaled_times[k - 1])
                ),
                "level": float(self.levels[k]),
            }
            if jt is not None:
                row["jump_time"] = 0.0 if k == 0 else float(jt[k - 1])
            if self.levels_mse is not None:
                row["level_mse"] = float(self.levels_mse[k])
            rows.append(row)
        df = pd.DataFrame(rows)
        df["order"] = pd.Series([None] + list(self.order), dtype=object)
        return df

    def __repr__(self) -> str:  # compact, arrays rounded
        def fmt(a):
            return None if a is None else np.array2string(np.asarray(a), precision=5)

        return (
            f"TheoryResult(setting={self.setting!r}, order={self.order!r}, "
            f"levels={fmt(self.levels)}, rescaled_times={fmt(self.rescaled_times)}, "
            f"alpha={self.alpha!r})"
        )


# ---------------------------------------------------------------------- validation helpers
# (private, shared by the theory modules)


def _check_alpha(alpha: Any) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"alpha must be a number, got {alpha!r}") from exc
    if not (math.isfinite(a) and 0.0 < a < 1.0):
        raise ConfigError(f"alpha must be in (0, 1), got {alpha!r}")
    return a


def _as_float_array(x: Any, name: str, ndim: int | tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must be a numeric array") from exc
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in ndims:
        raise ConfigError(f"{name} must have {' or '.join(map(str, ndims))} dimension(s), "
                          f"got shape {arr.shape}")
    if arr.size == 0:
        raise ConfigError(f"{name} must not be empty")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} contains non-finite values")
    return arr


def _check_init_norm(alpha: float, init_norm: Any) -> float:
    """Initial neuron norm: ``init_norm`` if given, else ``√2 α`` (method §4)."""
    if init_norm is None:
        return math.sqrt(2.0) * alpha
    try:
        rho = float(init_norm)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"init_norm must be a number, got {init_norm!r}") from exc
    if not (math.isfinite(rho) and 0.0 < rho < 1.0):
        raise ConfigError(f"init_norm must be in (0, 1), got {init_norm!r}")
    return rho
