"""The linear-attention family: rank-one heads f_i(h, x_q) = v_i (k_i . h)(q_i . x_q)."""

from __future__ import annotations

import numpy as np

from agf import _core
from agf._validate import integer, positive
from agf.errors import ConfigError
from agf.models.base import Model
from agf.params import Params

__all__ = ["LinearAttention"]


class LinearAttention(Model):
    """Attention-only linear transformer with ``heads`` rank-one heads (method section 5c).

    Input rows are ``x = (h, x_q)`` in R^{2D}: the first ``D`` columns are the context summary
    ``h = sum_n y_n x_n`` of a prompt, the last ``D`` the query ``x_q``. One output:

        f(x) = sum_i v_i (k_i . h)(q_i . x_q) = h^T M x_q,   M = sum_i v_i k_i q_i^T,

    each head homogeneous of degree ``kappa = 3`` in its parameters. Parameters
    ``params["v"]`` (heads,), ``params["k"]`` (heads, D), ``params["q"]`` (heads, D); the flat
    layout of the core is ``[v, k (row-major), q (row-major)]``. The data of
    :func:`agf.tasks.in_context_regression` has this input layout.
    """

    def __init__(self, D: int, heads: int):
        D = integer("D", D, minimum=1)
        heads = integer("heads", heads, minimum=1)
        self.D = D
        self._core = _core.AttentionCore(D, heads)
        self.blocks = (("v", ()), ("k", (D,)), ("q", (D,)))

    @property
    def heads(self) -> int:
        return self.width

    def init(self, alpha: float, seed=None, *, scheme: str = "paper") -> Params:
        """Small random initialization at scale ``alpha`` (method section 4: each head's norm about
        ``sqrt(2) alpha``, like the other families, so AGF thresholds compare).

        ``scheme="paper"``: ``v ~ N(0, 2 alpha^2 / 3)``, ``k, q ~ N(0, 2 alpha^2 / (3 D))``
        (each of the three blocks carries a third of ``E||theta_i||^2 = 2 alpha^2``).
        ``scheme="balanced"``: random signs/directions with ``|v_i| = ||k_i|| = ||q_i|| =
        alpha sqrt(2/3)`` exactly, so ``||theta_i|| = sqrt(2) alpha`` and the conserved balances
        ``v_i^2 - ||k_i||^2`` and ``v_i^2 - ||q_i||^2`` are zero.
        ``seed`` is anything ``numpy.random.default_rng`` accepts.
        """
        alpha = positive("alpha", alpha)
        rng = np.random.default_rng(seed)
        H, D = self.width, self.D
        s = alpha * np.sqrt(2.0 / 3.0)
        if scheme == "paper":
            v = rng.normal(0.0, s, size=H)
            k = rng.normal(0.0, s / np.sqrt(D), size=(H, D))
            q = rng.normal(0.0, s / np.sqrt(D), size=(H, D))
        elif scheme == "balanced":
            v = s * rng.choice([-1.0, 1.0], size=H)
            k = rng.normal(size=(H, D))
            q = rng.normal(size=(H, D))
            k *= s / np.linalg.norm(k, axis=1, keepdims=True)
            q *= s / np.linalg.norm(q, axis=1, keepdims=True)
        else:
            raise ConfigError(f"unknown init scheme {scheme!r}; choose 'paper' or 'balanced'")
        return Params({"v": v, "k": k, "q": q})

    def matrix(self, params) -> np.ndarray:
        """The learned bilinear map ``M = sum_i v_i k_i q_i^T`` (D, D); ``f = h^T M x_q``.
        Its singular values are what method section 5c predicts."""
        p = self.as_params(params)
        return np.einsum("i,ij,ik->jk", p["v"], p["k"], p["q"])

    def __repr__(self) -> str:
        return f"LinearAttention(D={self.D}, heads={self.width})"
