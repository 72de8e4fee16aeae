"""Linear regression given by its second moments (method sections 5b and 6.3).

For a model whose loss depends on the data only through second moments (linear networks
``f = A W x``, diagonal networks), the population loss

    L(beta) = ½ E||y - beta x||^2 = ½ [tr Syy - 2 tr(beta Syx^T) + tr(beta Sxx beta^T)]

is, up to a constant, the canonical loss of a finite dataset with ``n = d`` rows:
``X = sqrt(d) Sxx^{1/2}`` (symmetric root) and ``Y = sqrt(d) Sxx^{+1/2} Syx^T`` reproduce
``X^T X / n = Sxx`` and ``Y^T X / n = Syx``, and the constant is
``loss_offset = ½ (tr Syy - tr(Y^T Y) / n) = ½ tr(Syy - Syx Sxx^+ Syx^T)`` (the irreducible
loss, 0 for a realizable target). :meth:`Moments.to_dataset` returns that dataset, so gradient
flow, gradient descent and AGF run on the exact population loss with no sampling.

Loss convention: canonical (``loss_scale = 1``), the loss of :func:`agf.theory.linear`.
"""

from __future__ import annotations

import numpy as np

from agf._validate import float_array, integer, positive
from agf.data import Dataset
from agf.errors import ConfigError, DataError
from agf.tasks.task import Task

__all__ = ["Moments", "linear_regression"]


def _sym_psd(name, a, dim=None):
    a = float_array(name, a)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or (dim is not None and a.shape[0] != dim):
        want = f"({dim}, {dim})" if dim is not None else "square"
        raise DataError(f"{name} must be a {want} matrix, got shape {a.shape}")
    scale = max(1.0, float(np.abs(a).max()))
    if not np.allclose(a, a.T, rtol=0.0, atol=1e-10 * scale):
        raise DataError(f"{name} must be symmetric")
    a = 0.5 * (a + a.T)
    w, V = np.linalg.eigh(a)
    if w.min() < -1e-10 * scale:
        raise DataError(f"{name} must be positive semi-definite (smallest eigenvalue {w.min():.3g})")
    return a, np.clip(w, 0.0, None), V


class Moments:
    """Second moments ``Sxx = E[x x^T]`` (d, d), ``Syx = E[y x^T]`` (c, d) and optionally
    ``Syy = E[y y^T]`` (c, c) of a regression problem (method section 5b).

    Validated: ``Sxx`` symmetric positive semi-definite, shapes consistent, ``Syx`` inside the
    range of ``Sxx`` (as for any distribution), and with ``Syy`` the joint second-moment matrix
    positive semi-definite. A 1-D ``Syx`` is one output (c = 1). ``Syy=None`` means a
    realizable target ``y = beta* x`` (``Syy = Syx Sxx^+ Syx^T``, zero irreducible loss).
    """

    __slots__ = ("Sxx", "Syx", "Syy", "_w", "_V")

    def __init__(self, Sxx, Syx, Syy=None):
        Sxx, w, V = _sym_psd("Sxx", Sxx)
        d = Sxx.shape[0]
        Syx = float_array("Syx", Syx)
        if Syx.ndim == 1:
            Syx = Syx[None, :]
        if Syx.ndim != 2 or Syx.shape[1] != d:
            raise DataError(f"Syx must have shape (c, {d}), got {Syx.shape}")
        tol = 1e-9 * max(1.0, float(w.max()))
        null = V[:, w <= tol]
        if null.size and np.abs(Syx @ null).max() > 1e-8 * max(1.0, float(np.abs(Syx).max())):
            raise DataError("Syx has a component outside the range of Sxx: no distribution has these moments")
        self.Sxx = Sxx
        self.Syx = np.ascontiguousarray(Syx)
        self._w, self._V = w, V
        if Syy is not None:
            Syy, _, _ = _sym_psd("Syy", Syy, Syx.shape[0])
            schur = self.irreducible_matrix(Syy)
            if np.linalg.eigvalsh(0.5 * (schur + schur.T)).min() < -1e-9 * max(1.0, float(np.abs(Syy).max())):
                raise DataError("Syy - Syx Sxx^+ Syx^T is not positive semi-definite: the joint moment "
                                "matrix of (x, y) must be")
        self.Syy = Syy

    @classmethod
    def from_data(cls, X, Y) -> "Moments":
        """Empirical moments of samples (rows of X (n, d) and Y (n, c) or (n,))."""
        X = float_array("X", X, ndim=2)
        Y = float_array("Y", Y)
        if Y.ndim == 1:
            Y = Y[:, None]
        if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
            raise DataError(f"Y must have {X.shape[0]} rows, got shape {Y.shape}")
        n = X.shape[0]
        return cls(X.T @ X / n, Y.T @ X / n, Y.T @ Y / n)

    @property
    def d(self) -> int:
        return self.Sxx.shape[0]

    @property
    def c(self) -> int:
        return self.Syx.shape[0]

    def _root(self, power):
        w, V = self._w, self._V
        tol = 1e-12 * max(1.0, float(w.max()))
        with np.errstate(divide="ignore"):
            p = np.where(w > tol, np.abs(w) ** power, 0.0)
        return (V * p) @ V.T

    def irreducible_matrix(self, Syy=None) -> np.ndarray:
        """``Syy - Syx Sxx^+ Syx^T`` (c, c): the residual covariance of the best linear map."""
        Syy = self.Syy if Syy is None else Syy
        expl = self.Syx @ self._root(-1.0) @ self.Syx.T
        return (expl if Syy is None else Syy) - expl

    @property
    def irreducible(self) -> float:
        """The smallest population loss over linear maps, ``½ tr(Syy - Syx Sxx^+ Syx^T)`` (0 if Syy is None)."""
        if self.Syy is None:
            return 0.0
        return max(0.0, 0.5 * float(np.trace(self.irreducible_matrix())))

    def beta_star(self) -> np.ndarray:
        """The population least-squares map ``Syx Sxx^+`` (c, d)."""
        return self.Syx @ self._root(-1.0)

    def loss(self, beta) -> float:
        """Population loss ``½ E||y - beta x||^2`` of a linear map ``beta`` (c, d) (canonical)."""
        B = float_array("beta", beta, error=ConfigError)
        if B.ndim == 1:
            B = B[None, :]
        if B.shape != (self.c, self.d):
            raise ConfigError(f"beta must have shape ({self.c}, {self.d}), got {B.shape}")
        Syy = self.Syy if self.Syy is not None else self.Syx @ self._root(-1.0) @ self.Syx.T
        return 0.5 * float(np.trace(Syy) - 2.0 * np.sum(B * self.Syx) + np.trace(B @ self.Sxx @ B.T))

    def to_dataset(self) -> Dataset:
        """The equivalent dataset of ``n = d`` rows: ``X = sqrt(d) Sxx^{1/2}``,
        ``Y = sqrt(d) Sxx^{+1/2} Syx^T`` and ``loss_offset = ½ (tr Syy - tr(Y^T Y)/n)``, so that
        for every linear map the dataset's canonical loss plus ``loss_offset`` equals the
        population loss (exactly, not in expectation)."""
        d = self.d
        X = np.sqrt(d) * self._root(0.5)
        Y = np.sqrt(d) * self._root(-0.5) @ self.Syx.T
        offset = 0.0 if self.Syy is None else 0.5 * (float(np.trace(self.Syy)) - float(np.sum(Y * Y)) / d)
        return Dataset(X, Y, loss_offset=offset)

    def __repr__(self) -> str:
        return f"Moments(d={self.d}, c={self.c}, Syy={'given' if self.Syy is not None else 'realizable'})"


def _spectrum(d, spectrum, exponent):
    if isinstance(spectrum, str):
        if spectrum == "power":
            exponent = positive("exponent", exponent, allow_zero=True)
            return np.arange(1, d + 1, dtype=float) ** (-exponent)
        if spectrum in ("flat", "white"):
            return np.ones(d)
        raise ConfigError(f"unknown spectrum {spectrum!r}; use 'power', 'flat' or an array of eigenvalues")
    lam = float_array("spectrum", spectrum, ndim=1, error=ConfigError)
    if lam.shape != (d,) or np.any(lam <= 0):
        raise ConfigError(f"spectrum must hold {d} positive eigenvalues")
    return lam


def linear_regression(d: int = 10, c: int = 10, *, spectrum="power", exponent: float = 2.0,
                      commuting: bool = True, seed=None) -> Task:
    """The linear-network setting of method section 6.3 as exact moments: ``y = B x`` with
    ``x ~ N(0, Sxx)``, ``Sxx = diag(lambda)`` and ``lambda_i = i^-exponent`` (``spectrum="power"``,
    default 1/i^2), ``"flat"`` (whitened inputs) or a given array of d eigenvalues.

    ``commuting=False``: ``B ~ randn(c, d)`` (method §6.3). ``commuting=True``: the target is made
    to commute with the input covariance (method §5b): with ``U diag(s) V^T`` the SVD of a
    ``randn(c, d)`` draw, ``B = U diag(s) E`` where E puts ``s_k`` on input coordinate k (the
    eigenvectors of Sxx), so ``Syx^T Syx = Sxx B^T B Sxx`` is diagonal and commutes with Sxx;
    then ``tau(k) = 1/sigma_k(Syx)`` with ``sigma_k = s_k lambda_k``.

    ``data`` is :meth:`Moments.to_dataset` (``n = d`` rows, population loss, no sampling);
    ``info``: ``Sxx``, ``Syx``, ``Syy``, ``B``, ``eigenvalues``, ``commuting``, ``moments``.
    Canonical loss (``loss_scale = 1``).
    """
    d = integer("d", d, minimum=1)
    c = integer("c", c, minimum=1)
    lam = _spectrum(d, spectrum, exponent)
    rng = np.random.default_rng(seed)
    B0 = rng.normal(size=(c, d))
    if commuting:
        U, s, _ = np.linalg.svd(B0, full_matrices=False)
        r = s.size
        B = np.zeros((c, d))
        B[:, :r] = U[:, :r] * s
    else:
        B = B0
    Sxx = np.diag(lam)
    Syx = B @ Sxx
    Syy = B @ Sxx @ B.T
    m = Moments(Sxx, Syx, Syy)
    return Task(name="linear_regression", data=m.to_dataset(), loss_scale=1.0,
                info={"Sxx": Sxx, "Syx": Syx, "Syy": Syy, "B": B, "eigenvalues": lam,
                      "commuting": bool(commuting), "moments": m})
