"""Attention-only linear transformer on in-context linear regression (method §5c).

Prompt: N pairs ``(x_n, y_n)`` with ``x ~ N(0, Σ)`` (``Σ`` is D × D), ``y_n = w·x_n``,
``w ~ N(0, I_D)``, query ``x_q``, target ``y_q = w·x_q``. H rank-one heads
``ŷ = Σ_i v_i (k_i·h)(q_i·x_q)``, ``h = Σ_n y_n x_n`` (no 1/N), κ = 3, loss ``½ E(ŷ − y_q)²``.
Heads learn the principal components of Σ one at a time, in decreasing eigenvalue λ_j:

- plateau levels ``ℓ(k) = ½ [tr Σ − Σ_{j<=k} λ_j / (1 + (1 + tr Σ / λ_j) / N)]``;
- the learned matrix ``Σ_i v_i k_i q_iᵀ`` has singular values ``1 / (tr Σ + (N + 1) λ_j)``;
- the first head's maximal utility on the unit sphere is ``Ū* = N λ_1² / (3√3)``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from agf.errors import ConfigError, DataError
from agf.theory.result import TheoryResult, _as_float_array, _check_alpha, _check_init_norm

__all__ = ["attention"]


def attention(eigenvalues: Any, N: int, *, alpha: float | None = None) -> TheoryResult:
    """Plateau levels and learned singular values of linear attention heads.

    Parameters
    ----------
    eigenvalues : array_like, shape (D,) or (D, D)
        Eigenvalues ``λ_j > 0`` of the input covariance Σ (any order), or Σ itself
        (symmetric positive definite).
    N : int
        Context length (number of input-output pairs in the prompt), ``N >= 1``.
    alpha : float, optional
        Initialization scale; if given, ``jump_times`` is defined (see below).

    Returns
    -------
    TheoryResult
        ``setting="attention"``.

        - ``order[k]``: index into ``eigenvalues`` of the principal component learned at jump k
          (decreasing λ; ties keep input order). For a matrix input the index is into
          ``extras["eigenvalues"]``, which is then sorted decreasingly.
        - ``levels``: (D + 1,) ``ℓ(0) = ½ tr Σ, ..., ℓ(D)``, loss ``½ E(ŷ − y_q)²``.
        - ``rescaled_times``: None (κ = 3 has no log(1/α) clock).
        - ``jump_times_at(alpha, init_norm=None)``: array (D,) whose first entry is the lower
          bound ``c / (3 Ū*)`` on the first jump, ``c = 1/||θ0|| − 1``, ``||θ0|| = init_norm``
          (default ``√2 α``); the others are NaN (no closed form).
        - ``extras``: ``eigenvalues`` (as given, or of the matrix), ``singular_values`` (D,)
          learned singular values in ``order``, ``initial_max_utility`` ``Ū*``,
          ``level_drops`` (D,).
    """
    arr = _as_float_array(eigenvalues, "eigenvalues", (1, 2))
    if arr.ndim == 2:
        if arr.shape[0] != arr.shape[1] or not np.allclose(arr, arr.T, rtol=1e-10, atol=0):
            raise ConfigError("a 2-D eigenvalues argument must be the symmetric covariance Σ")
        lam = np.linalg.eigvalsh(arr)[::-1].copy()
    else:
        lam = arr.copy()
    if not np.all(lam > 0):
        raise DataError("the eigenvalues of Σ must be positive")
    if isinstance(N, bool) or not isinstance(N, numbers.Integral):
        if isinstance(N, numbers.Real) and not isinstance(N, bool) and float(N).is_integer():
            N = int(N)
        else:
            raise ConfigError(f"N must be an integer, got {N!r}")
    N = int(N)
    if N < 1:
        raise ConfigError(f"N must be >= 1, got {N}")
    if alpha is not None:
        alpha = _check_alpha(alpha)

    order = [int(j) for j in np.argsort(-lam, kind="stable")]
    ls = lam[order]
    tr = float(np.sum(lam))
    drops = 0.5 * ls / (1.0 + (1.0 + tr / ls) / N)
    levels = 0.5 * tr - np.concatenate([[0.0], np.cumsum(drops)])
    svals = 1.0 / (tr + (N + 1) * ls)
    ustar = N * float(ls[0]) ** 2 / (3.0 * math.sqrt(3.0))

    events = [dict(kind="activate", index=order[k], jump=k, rescaled_time=None,
                   level=float(levels[k + 1])) for k in range(len(order))]

    def time_fn(a: float, init_norm: float | None = None) -> np.ndarray:
        rho = _check_init_norm(a, init_norm)
        out = np.full(len(order), np.nan)
        out[0] = (1.0 / rho - 1.0) / (3.0 * ustar)
        return out

    return TheoryResult(
        setting="attention",
        order=order,
        levels=levels,
        rescaled_times=None,
        events=events,
        extras=dict(eigenvalues=lam, singular_values=svals, initial_max_utility=ustar,
                    level_drops=drops),
        alpha=alpha,
        time_unit="jump_times_at(alpha): canonical gradient-flow time; first entry is a lower "
                  "bound, the others NaN",
        _time_fn=time_fn,
    )
