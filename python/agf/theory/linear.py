"""Fully connected linear networks ``f(x) = A W x`` (method §5b).

Plateaus are reduced-rank regression solutions. With ``Σ_xx = E[x xᵀ]`` (d, d),
``Σ_yx = E[y xᵀ]`` (c, d) and ``μ_1 >= μ_2 >= ...`` the eigenvalues (eigenvectors ``u_k``) of
``M = Σ_yx Σ_xx⁻¹ Σ_yxᵀ`` (c, c), saddle k is ``β(k) = P_k Σ_yx Σ_xx⁻¹`` (``P_k`` the projector on
``u_1..u_k``) with loss ``½ E||y − β(k) x||² = ½ tr Σ_yy − ½ Σ_{i<=k} μ_i``, i.e.
``½ Σ_{i>k} μ_i`` for a realizable target.

Jump times (the paper's conjecture), in units of ``log(1/||θ0||)``: with ``σ[k, j]`` the
(j+1)-th singular value of ``(I − P_k) Σ_yx`` (the residual cross-covariance at saddle k),

    Δτ_k = (1 − Σ_{i=0..k−2} σ[i, k−1−i] Δτ_{i+1}) / σ[k−1, 0],     τ(k) = Σ_{j<=k} Δτ_j.

Mode j of the dormant frame accumulates utility at rate ``σ_j`` of the current residual and
activates when the accumulated amount reaches 1. When ``Σ_xx`` commutes with ``Σ_yxᵀ Σ_yx`` the
modes decouple and ``τ(k) = 1/σ_k(Σ_yx)`` (Saxe et al.).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from agf.errors import ConfigError, DataError
from agf.theory.result import TheoryResult, _as_float_array, _check_alpha

__all__ = ["linear", "jump_time_recursion"]


def _sym(a: np.ndarray, name: str, rtol: float) -> np.ndarray:
    if a.shape[0] != a.shape[1]:
        raise ConfigError(f"{name} must be square, got shape {a.shape}")
    scale = max(float(np.max(np.abs(a))), 1e-300)
    if np.max(np.abs(a - a.T)) > 1e3 * rtol * scale:
        raise DataError(f"{name} must be symmetric")
    return 0.5 * (a + a.T)


def jump_time_recursion(Syx: Any, U: Any, n_modes: int | None = None, *, rtol: float = 1e-10):
    """The §5b jump-time recursion for a given sequence of learned left directions.

    Parameters
    ----------
    Syx : array_like, shape (c, d)
        Input-output cross-covariance ``E[y xᵀ]``.
    U : array_like, shape (c, r)
        Orthonormal columns ``u_1..u_r``; saddle k has residual cross-covariance
        ``(I − P_k) Σ_yx`` with ``P_k = U[:, :k] U[:, :k]ᵀ``.
    n_modes : int, optional
        Number of jumps to compute (default ``r``).

    Returns
    -------
    times : numpy.ndarray, shape (n_modes,)
        ``τ(1..n_modes)`` in units of ``log(1/||θ0||)``.
    delta : numpy.ndarray, shape (n_modes,)
        ``Δτ_k`` before clamping at 0 (a negative value means mode k had already accumulated
        enough utility: it jumps together with the previous one).
    sigma : numpy.ndarray, shape (n_modes, n_modes)
        ``sigma[k, j] = σ[k, j]``; NaN where not needed.
    """
    Syx = np.asarray(Syx, dtype=float)
    U = np.asarray(U, dtype=float)
    r = U.shape[1] if n_modes is None else int(n_modes)
    c = Syx.shape[0]
    sigma = np.full((r, r), np.nan)
    for k in range(r):
        P = U[:, :k] @ U[:, :k].T if k else np.zeros((c, c))
        sv = np.linalg.svd((np.eye(c) - P) @ Syx, compute_uv=False)
        m = min(r - k, sv.size)
        sigma[k, :m] = sv[:m]
    delta = np.zeros(r)
    clamped = np.zeros(r)
    for k in range(1, r + 1):
        acc = sum(sigma[i, k - 1 - i] * clamped[i] for i in range(k - 1))
        top = sigma[k - 1, 0]
        if not top > rtol * sigma[0, 0]:
            raise DataError(f"the residual at saddle {k - 1} has no cross-covariance left")
        delta[k - 1] = (1.0 - acc) / top
        clamped[k - 1] = max(delta[k - 1], 0.0)
    return np.cumsum(clamped), delta, sigma


def linear(
    Sxx: Any,
    Syx: Any,
    *,
    Syy: Any = None,
    commuting: bool | None = None,
    alpha: float | None = None,
    rtol: float = 1e-10,
) -> TheoryResult:
    """Saddles, plateau levels and jump times of a linear network ``f(x) = A W x``.

    Parameters
    ----------
    Sxx : array_like, shape (d, d)
        Input covariance ``E[x xᵀ]``, symmetric positive definite.
    Syx : array_like, shape (c, d)
        Cross-covariance ``E[y xᵀ]``.
    Syy : array_like, shape (c, c), optional
        Output covariance ``E[y yᵀ]``. If given the levels include the irreducible part:
        ``ℓ(k) = ½ tr Σ_yy − ½ Σ_{i<=k} μ_i``; otherwise the target is taken realizable,
        ``ℓ(k) = ½ Σ_{i>k} μ_i``.
    commuting : bool, optional
        Whether ``Σ_xx`` commutes with ``Σ_yxᵀ Σ_yx``; detected (relative tolerance
        ``1e-8``) when None.
    alpha : float, optional
        Initial scale ``||θ0||``; if given, ``jump_times = rescaled_times · log(1/alpha)``.
    rtol : float
        Relative tolerance under which an eigenvalue ``μ`` (or singular value) counts as 0.

    Returns
    -------
    TheoryResult
        ``setting="linear"``; ``order[k]`` is the index (0-based, by decreasing μ) of the
        reduced-rank-regression mode learned at jump k; ``levels`` the canonical population
        loss ``½ E||y − β x||²`` at ``β(0) = 0, β(1), ..., β(r)`` (r = rank of Σ_yx);
        ``rescaled_times`` in units of ``log(1/||θ0||)``: the recursion in general, the closed
        form ``1/σ_k(Σ_yx)`` in the commuting case. ``extras``:

        - ``saddles``: (r + 1, c, d) array, ``β(k)``;
        - ``mu``: (c,) eigenvalues of ``Σ_yx Σ_xx⁻¹ Σ_yxᵀ``, decreasing; ``U``: (c, c)
          eigenvectors;
        - ``singular_values``: singular values of ``Σ_yx``, decreasing;
        - ``commuting``: bool;
        - ``recursion_times``, ``delta_tau``, ``sigma_table``: the recursion (see
          :func:`jump_time_recursion`) along the saddles used;
        - ``closed_form_times``: ``1/σ_k(Σ_yx)`` (commuting case only, else None).

    Notes
    -----
    In the commuting case the modes evolve independently and are learned in decreasing
    ``σ_k(Σ_yx)``, each lowering the loss by its own ``μ``; if that order differs from the μ
    order, ``order`` shows it (the saddles are then not the reduced-rank-regression optima).
    If the recursion gives ``Δτ_k < 0`` (non-commuting data) it is clamped at 0 (simultaneous
    jump) and a ``RuntimeWarning`` is issued.
    """
    Sxx = _sym(_as_float_array(Sxx, "Sxx", 2), "Sxx", rtol)
    Syx = _as_float_array(Syx, "Syx", 2)
    c, d = Syx.shape
    if Sxx.shape != (d, d):
        raise ConfigError(f"Sxx has shape {Sxx.shape} but Syx has shape {Syx.shape} (c, d)")
    lam = np.linalg.eigvalsh(Sxx)
    if not lam[0] > 0:
        raise DataError("Sxx must be positive definite")
    if Syy is not None:
        Syy = _sym(_as_float_array(Syy, "Syy", 2), "Syy", rtol)
        if Syy.shape != (c, c):
            raise ConfigError(f"Syy must have shape {(c, c)}, got {Syy.shape}")
    if alpha is not None:
        alpha = _check_alpha(alpha)

    B = np.linalg.solve(Sxx, Syx.T).T                         # Σ_yx Σ_xx⁻¹, (c, d)
    M = B @ Syx.T
    M = 0.5 * (M + M.T)
    mu, U = np.linalg.eigh(M)
    mu, U = mu[::-1].copy(), U[:, ::-1].copy()
    sv_u, sv, _ = np.linalg.svd(Syx)
    if sv.size == 0 or sv[0] == 0.0:
        raise DataError("Syx is zero: there is nothing to learn")
    r = int(np.sum(sv > rtol * sv[0]))
    mu_tol = rtol * max(mu[0], 1e-300)
    mu[np.abs(mu) <= mu_tol] = 0.0

    if commuting is None:
        A = Syx.T @ Syx
        comm = np.linalg.norm(Sxx @ A - A @ Sxx)
        commuting = bool(comm <= 1e-8 * np.linalg.norm(Sxx) * np.linalg.norm(A))
    commuting = bool(commuting)

    if commuting:
        # modes = left singular vectors of Σ_yx in decreasing σ; each is an eigenvector of M
        V = sv_u[:, :r]
        gains = np.einsum("ik,ij,jk->k", V, M, V)            # μ of each σ-mode
        order = []
        used: set[int] = set()
        for k in range(r):
            overlap = np.abs(U.T @ V[:, k])
            cand = [j for j in np.argsort(-overlap) if j not in used]
            order.append(int(cand[0]))
            used.add(int(cand[0]))
        closed = 1.0 / sv[:r]
    else:
        V = U[:, :r]
        gains = mu[:r]
        order = list(range(r))
        closed = None

    with np.errstate(all="ignore"):
        rec, delta, sigma = jump_time_recursion(Syx, V, r, rtol=rtol)
    if np.any(delta < 0):
        warnings.warn("linear theory: the jump-time recursion gave a negative interval; "
                      "clamped to a simultaneous jump", RuntimeWarning, stacklevel=2)
    rescaled = closed if commuting else rec

    if Syy is not None:
        total = 0.5 * float(np.trace(Syy))
        levels = total - 0.5 * np.concatenate([[0.0], np.cumsum(gains)])
    else:  # tail sums: accurate down to the smallest μ
        rest = max(float(np.sum(mu)) - float(np.sum(gains)), 0.0)
        tails = np.concatenate([np.cumsum(gains[::-1])[::-1], [0.0]])
        levels = 0.5 * (tails + (rest if rest > 1e-12 * float(np.sum(mu)) else 0.0))
    saddles = np.stack([V[:, :k] @ V[:, :k].T @ B for k in range(r + 1)])

    events = [dict(kind="activate", index=order[k], jump=k, rescaled_time=float(rescaled[k]),
                   level=float(levels[k + 1])) for k in range(r)]

    def time_fn(a: float) -> np.ndarray:
        return rescaled * np.log(1.0 / a)

    return TheoryResult(
        setting="linear",
        order=order,
        levels=np.asarray(levels, dtype=float),
        rescaled_times=np.asarray(rescaled, dtype=float),
        events=events,
        extras=dict(
            saddles=saddles,
            mu=mu,
            U=U,
            singular_values=sv,
            commuting=commuting,
            recursion_times=rec,
            delta_tau=delta,
            sigma_table=sigma,
            closed_form_times=closed,
        ),
        alpha=alpha,
        time_unit="rescaled_times: gradient-flow time / log(1/||theta0||); "
                  "jump_times_at(alpha): canonical gradient-flow time with ||theta0|| = alpha",
        _time_fn=time_fn,
    )
