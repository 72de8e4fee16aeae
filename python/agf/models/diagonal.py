"""The diagonal linear family f(x) = sum_i u_i v_i x_i."""

from __future__ import annotations

import numpy as np

from agf import _core
from agf._validate import integer, positive
from agf.errors import ConfigError
from agf.models.base import Model
from agf.params import Params

__all__ = ["DiagonalLinear"]


class DiagonalLinear(Model):
    """Diagonal linear network ``f(x) = <u * v, x>`` with one neuron per input coordinate
    (width = d, one output, kappa = 2). Parameters ``params["u"]`` and ``params["v"]``, each (d,).
    The regression vector is ``beta = u * v`` (:meth:`beta`).
    """

    def __init__(self, d: int):
        d = integer("d", d, minimum=1)
        self._core = _core.DiagonalCore(d)
        self.blocks = (("u", ()), ("v", ()))

    def init(self, alpha: float, seed=None, *, scheme: str = "paper") -> Params:
        """Initialization at scale ``alpha`` (method section 4).

        ``scheme="paper"``: ``u = sqrt(2) alpha``, ``v = 0`` (deterministic, each neuron's norm
        exactly ``sqrt(2) alpha``). ``scheme="gaussian"``: ``u, v ~ N(0, alpha^2)`` with ``seed``.
        """
        alpha = positive("alpha", alpha)
        d = self.width
        if scheme == "paper":
            return Params({"u": np.full(d, np.sqrt(2.0) * alpha), "v": np.zeros(d)})
        if scheme == "gaussian":
            rng = np.random.default_rng(seed)
            return Params({"u": rng.normal(0.0, alpha, d), "v": rng.normal(0.0, alpha, d)})
        raise ConfigError(f"unknown init scheme {scheme!r}; choose 'paper' or 'gaussian'")

    def beta(self, params) -> np.ndarray:
        """The linear predictor ``u * v``, shape (d,)."""
        p = self.as_params(params)
        return p["u"] * p["v"]

    def __repr__(self) -> str:
        return f"DiagonalLinear(d={self.d_in})"
