"""In-context linear regression for linear attention (method sections 5c and 6.4).

A prompt holds N pairs ``(x_n, y_n)``, ``x_n ~ N(0, Σ)``, ``y_n = w·x_n`` with ``w ~ N(0, I_D)``,
and a query ``x_q ~ N(0, Σ)`` with target ``y_q = w·x_q``. The model sees ``h = Σ_n y_n x_n``
(no 1/N) and ``x_q``: each data row is ``(h, x_q)`` in R^{2D} (the input layout of
:class:`agf.LinearAttention`) and its target is ``y_q``. Loss ``½ E(ŷ − y_q)²``, i.e. the
canonical loss (``loss_scale = 1``).

Exact population loss. Every model of the form ``ŷ = hᵀ M x_q`` (linear attention for any
number of heads) has, with ``K = E[h hᵀ] = N(N+1) Σ² + N tr(Σ) Σ`` (Wishart moments) and
``E[h wᵀ] = N Σ`` (x_q independent of (h, w)),

    L(M) = ½ [tr(Σ Mᵀ K M) − 2 N tr(Mᵀ Σ²) + tr Σ].

The same loss, up to a constant, is the canonical loss of ``D²`` rows indexed (j, l):
``h_j = √D K^{1/2} e_j``, ``x_q,l = √D Σ^{1/2} e_l`` (so the row averages of ``h hᵀ`` and
``x_q x_qᵀ`` over the product design are K and Σ, and every fourth moment factorizes), with
targets ``Y = D N Σ^{3/2} K^{+1/2}`` (so that ``(1/D²) Σ_jl y_jl h_j x_q,lᵀ = N Σ²``) and
``loss_offset = ½ (tr Σ − ||Y||_F² / D²)``. This dataset is exact (not an estimate) and tiny.
"""

from __future__ import annotations

import numpy as np

from agf._validate import float_array, integer
from agf.data import Dataset
from agf.errors import ConfigError, DataError
from agf.tasks.task import Task

__all__ = ["in_context_regression", "context_moment"]


def _covariance(D, eigenvalues):
    if eigenvalues is None:
        lam = 1.0 / np.arange(1, D + 1)
        lam = lam * 2.0 / lam.sum()
        return np.diag(lam)
    arr = float_array("eigenvalues", eigenvalues, error=ConfigError)
    if arr.ndim == 1:
        if arr.shape != (D,) or np.any(arr < 0):
            raise ConfigError(f"eigenvalues must hold D={D} non-negative numbers, got shape {arr.shape}")
        S = np.diag(arr)
    elif arr.ndim == 2:
        if arr.shape != (D, D) or not np.allclose(arr, arr.T, rtol=1e-10, atol=1e-12):
            raise ConfigError(f"a 2-D eigenvalues argument must be the symmetric ({D}, {D}) covariance Σ")
        S = 0.5 * (arr + arr.T)
    else:
        raise ConfigError("eigenvalues must be 1-D (the spectrum of a diagonal Σ) or the matrix Σ")
    if np.linalg.eigvalsh(S).min() < -1e-12 * max(1.0, np.abs(S).max()):
        raise DataError("Σ must be positive semi-definite")
    if not np.trace(S) > 0:
        raise DataError("Σ is zero: nothing to learn")
    return S


def context_moment(Sigma, N: int) -> np.ndarray:
    """``K = E[h hᵀ] = N(N+1) Σ² + N tr(Σ) Σ`` for ``h = Σ_{n<=N} (w·x_n) x_n``,
    ``w ~ N(0, I)``, ``x_n ~ N(0, Σ)``."""
    S = np.asarray(Sigma, dtype=float)
    return N * (N + 1) * S @ S + N * np.trace(S) * S


def in_context_regression(D: int = 4, N: int = 32, eigenvalues=None, *, exact: bool = True,
                          n_prompts: int | None = None, seed=None) -> Task:
    """In-context linear regression data for :class:`agf.LinearAttention` (method §5c).

    Parameters
    ----------
    D : input dimension; N : context length (pairs per prompt).
    eigenvalues : spectrum of a diagonal Σ (D,), or Σ itself (D, D). Default: method §6.4,
        ``λ ∝ (1, 1/2, ..., 1/D)`` scaled to sum 2.
    exact : True (default): the exact population loss as an equivalent dataset of ``D²`` rows
        with ``loss_offset`` (module docstring). False: ``n_prompts`` sampled prompts with
        inputs ``(h, x_q)`` and targets ``y_q`` (``seed``: anything ``numpy.random.default_rng``
        accepts); its loss estimates the population loss.

    ``info``: ``Sigma``, ``eigenvalues`` (of Σ, decreasing), ``N``, ``D``, ``K`` (= E[h hᵀ]),
    ``exact``, ``n_prompts``. Canonical loss ``½ E(ŷ − y_q)²`` (``loss_scale = 1``).
    """
    D = integer("D", D, minimum=1)
    N = integer("N", N, minimum=1)
    S = _covariance(D, eigenvalues)
    lam, V = np.linalg.eigh(S)
    lam = np.clip(lam, 0.0, None)
    K = context_moment(S, N)
    info = {"Sigma": S, "eigenvalues": lam[::-1].copy(), "N": N, "D": D, "K": K, "exact": bool(exact)}
    if exact:
        if n_prompts is not None:
            raise ConfigError("n_prompts applies to sampled prompts (exact=False) only")
        kap = N * (N + 1) * lam ** 2 + N * lam.sum() * lam  # eigenvalues of K (same eigenvectors)
        tol = 1e-14 * kap.max()
        with np.errstate(divide="ignore", invalid="ignore"):
            ymat_eig = np.where(kap > tol, D * N * lam ** 1.5 / np.sqrt(np.where(kap > tol, kap, 1.0)), 0.0)
        Khalf = (V * np.sqrt(kap)) @ V.T
        Shalf = (V * np.sqrt(lam)) @ V.T
        Ymat = (V * ymat_eig) @ V.T
        j, l = np.divmod(np.arange(D * D), D)
        X = np.hstack([np.sqrt(D) * Khalf[:, j].T, np.sqrt(D) * Shalf[:, l].T])
        Y = Ymat[j, l]
        offset = 0.5 * (lam.sum() - float(np.sum(Ymat ** 2)) / D ** 2)
        info["n_prompts"] = None
        return Task(name="in_context_regression", data=Dataset(X, Y, loss_offset=offset), loss_scale=1.0,
                    info=info)
    if n_prompts is None:
        raise ConfigError("sampled prompts (exact=False) need n_prompts")
    n_prompts = integer("n_prompts", n_prompts, minimum=1)
    rng = np.random.default_rng(seed)
    root = V * np.sqrt(lam)  # x = root @ z
    X = np.empty((n_prompts, 2 * D))
    Y = np.empty(n_prompts)
    chunk = max(1, 2 ** 20 // (N * D))
    for a in range(0, n_prompts, chunk):
        m = min(chunk, n_prompts - a)
        w = rng.normal(size=(m, D))
        xs = rng.normal(size=(m, N, D)) @ root.T
        ys = np.einsum("mnd,md->mn", xs, w)
        X[a:a + m, :D] = np.einsum("mn,mnd->md", ys, xs)
        xq = rng.normal(size=(m, D)) @ root.T
        X[a:a + m, D:] = xq
        Y[a:a + m] = np.einsum("md,md->m", xq, w)
    info["n_prompts"] = n_prompts
    return Task(name="in_context_regression", data=Dataset(X, Y), loss_scale=1.0, info=info)
