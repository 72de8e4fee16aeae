"""Sparse regression for diagonal linear networks (method sections 5a, 6.1 and 6.2).

Loss convention: canonical, ``L = (1/2n) ||X beta - y||^2`` (``loss_scale = 1``), the loss
of the saddle-to-saddle levels in method section 6 and of :func:`agf.theory.diagonal`.
"""

from __future__ import annotations

import numbers

import numpy as np

from agf._validate import float_array, integer, positive
from agf.data import Dataset
from agf.errors import ConfigError
from agf.tasks.task import Task

__all__ = ["diagonal_2d", "diagonal_5d", "diagonal_regression"]


def diagonal_2d() -> Task:
    """The two-dimensional example of method section 6.1 (Pesme & Flammarion): ``d = n = 2``,
    ``X`` the lower Cholesky factor of ``R diag(1, 25) R^T`` (``R`` the rotation by 150 degrees),
    ``beta* = (-0.2, 2.0)``, ``y = X beta*``. AGF path: coordinate 0 activates, deactivates while
    coordinate 1 activates, coordinate 0 re-activates with the opposite sign; levels 2.3111,
    1.11465, 0.07, 0."""
    th = np.deg2rad(150.0)
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    X = np.linalg.cholesky(R @ np.diag([1.0, 25.0]) @ R.T)
    beta = np.array([-0.2, 2.0])
    return Task(name="diagonal_2d", data=Dataset(X, X @ beta), loss_scale=1.0,
                info={"beta_star": beta, "rotation_deg": 150.0, "eigenvalues": np.array([1.0, 25.0])})


def diagonal_5d() -> Task:
    """The five-dimensional example of method section 6.2: ``n = 20`` rows
    ``x ~ N(0, diag(1, 1/2, 1/3, 1/4, 1/5))`` and ``beta* = 10 randn(5)``, drawn in that order
    from numpy's legacy generator seeded with 10, ``y = X beta*``. Learning order
    [1, 2, 3, 0, 4]; levels 82.417, 13.323, 2.267, 0.988, 0.1656, 0.

    The global legacy numpy state is saved and restored around the draw."""
    cov = np.diag([1.0, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    state = np.random.get_state()
    try:
        np.random.seed(10)
        X = np.random.multivariate_normal(np.zeros(5), cov, size=20)
        beta = 10 * np.random.randn(5)
    finally:
        np.random.set_state(state)
    return Task(name="diagonal_5d", data=Dataset(X, X @ beta), loss_scale=1.0,
                info={"beta_star": beta, "covariance": cov})


def diagonal_regression(n: int, d: int, *, covariance=None, sparsity=None, noise: float = 0.0,
                        seed=None) -> Task:
    """Random regression data ``y = X beta* + noise * eps`` for diagonal networks.

    Parameters
    ----------
    n, d : samples and features.
    covariance : rows ``x ~ N(0, covariance)``: None (identity), a vector of ``d`` variances, or a
        symmetric positive semi-definite (d, d) matrix.
    sparsity : None for a dense ``beta* ~ N(0, I_d)``; an integer ``k`` (1 <= k <= d) for ``k``
        non-zero Gaussian entries at random positions; a float in (0, 1] for that fraction of
        ``d`` (rounded, at least 1).
    noise : standard deviation of the Gaussian label noise (>= 0).
    seed : anything ``numpy.random.default_rng`` accepts.

    ``info``: ``beta_star``, ``covariance`` (d, d), ``support`` (indices of the non-zeros),
    ``noise``.
    """
    n = integer("n", n, minimum=1)
    d = integer("d", d, minimum=1)
    noise = positive("noise", noise, allow_zero=True)
    rng = np.random.default_rng(seed)
    if covariance is None:
        cov = np.eye(d)
    else:
        cov = float_array("covariance", covariance, error=ConfigError)
        if cov.ndim == 1:
            if cov.shape != (d,) or np.any(cov < 0):
                raise ConfigError(f"a covariance vector must hold {d} non-negative variances")
            cov = np.diag(cov)
        elif cov.shape != (d, d) or not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12):
            raise ConfigError(f"covariance must be a symmetric ({d}, {d}) matrix, got shape {cov.shape}")
        elif np.linalg.eigvalsh(cov).min() < -1e-10 * max(1.0, np.abs(cov).max()):
            raise ConfigError("covariance must be positive semi-definite")
    w, V = np.linalg.eigh(0.5 * (cov + cov.T))
    root = V * np.sqrt(np.clip(w, 0.0, None))
    X = rng.normal(size=(n, d)) @ root.T
    if sparsity is None:
        k = d
    elif isinstance(sparsity, numbers.Integral) and not isinstance(sparsity, bool):
        k = int(sparsity)
        if not 1 <= k <= d:
            raise ConfigError(f"sparsity must be between 1 and d={d} non-zeros, got {k}")
    elif isinstance(sparsity, numbers.Real) and not isinstance(sparsity, bool) and 0 < sparsity <= 1:
        k = max(1, int(round(float(sparsity) * d)))
    else:
        raise ConfigError(f"sparsity must be None, an integer count or a fraction in (0, 1], got {sparsity!r}")
    support = np.sort(rng.choice(d, size=k, replace=False)) if k < d else np.arange(d)
    beta = np.zeros(d)
    beta[support] = rng.normal(size=k)
    y = X @ beta
    if noise > 0:
        y = y + noise * rng.normal(size=n)
    return Task(name="diagonal_regression", data=Dataset(X, y), loss_scale=1.0,
                info={"beta_star": beta, "covariance": cov, "support": support, "noise": noise})
