"""The two-layer family f(x) = sum_i a_i sigma(w_i . x)."""

from __future__ import annotations

import re

import numpy as np

from agf import _core
from agf._validate import integer, positive
from agf.errors import ConfigError
from agf.models.base import Model
from agf.params import Params

__all__ = ["TwoLayer", "ACTIVATIONS"]

#: Activation names. ``monomial`` needs a degree (``activation="monomial", degree=3`` or
#: ``activation="monomial(3)"``). ``tanh`` and ``gelu`` are not homogeneous: gradient flow and
#: descent are exact for them, AGF is an approximation (kappa from the small-argument slope).
ACTIVATIONS = ("linear", "relu", "square", "monomial", "tanh", "gelu")


class TwoLayer(Model):
    """Two-layer network ``f(x) = sum_i a_i sigma(w_i . x)`` with ``width`` hidden neurons.

    Parameters are ``params["w"]`` of shape (width, d_in) and ``params["a"]`` of shape
    (width, d_out). ``kappa = degree(sigma) + 1``: 2 for linear, ReLU, tanh and GELU; 3 for square.
    The modular-addition network of the paper is ``TwoLayer(2p, p, width, "square")`` on the
    concatenated one-hot-template input.
    """

    def __init__(self, d_in: int, d_out: int, width: int, activation: str = "relu", *, degree: int | None = None):
        d_in = integer("d_in", d_in, minimum=1)
        d_out = integer("d_out", d_out, minimum=1)
        width = integer("width", width, minimum=1)
        if not isinstance(activation, str):
            raise ConfigError(f"activation must be a name, one of {ACTIVATIONS}; got {activation!r}")
        name = activation.strip().lower()
        m = re.fullmatch(r"monomial\((\d+)\)", name)
        if m:
            name, degree = "monomial", int(m.group(1))
        if name not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {activation!r}; choose one of {ACTIVATIONS}")
        if name == "monomial":
            if degree is None:
                raise ConfigError("activation 'monomial' needs degree=k (z**k), e.g. degree=3")
            degree = integer("degree", degree, minimum=1)
        elif degree is not None:
            raise ConfigError(f"degree only applies to the 'monomial' activation, not {name!r}")
        self.activation = name
        self.degree = degree if name == "monomial" else None
        self._core = _core.TwoLayerCore(d_in, d_out, width, name, degree or 1)
        self.blocks = (("w", (d_in,)), ("a", (d_out,)))

    def init(self, alpha: float, seed=None, *, scheme: str = "paper") -> Params:
        """Small random initialization at scale ``alpha`` (method section 4).

        ``scheme="paper"``: ``W ~ N(0, alpha^2/d_in)``, ``A ~ N(0, alpha^2/d_out)``, so each
        neuron's norm is about ``sqrt(2) * alpha``. ``scheme="balanced"``: random directions with
        ``||w_i|| = ||a_i|| = alpha`` exactly (zero balance ``||a_i||^2 - ||w_i||^2``).
        ``seed`` is anything ``numpy.random.default_rng`` accepts.
        """
        alpha = positive("alpha", alpha)
        rng = np.random.default_rng(seed)
        H, d, c = self.width, self.d_in, self.d_out
        if scheme == "paper":
            w = rng.normal(0.0, alpha / np.sqrt(d), size=(H, d))
            a = rng.normal(0.0, alpha / np.sqrt(c), size=(H, c))
        elif scheme == "balanced":
            w = rng.normal(size=(H, d))
            a = rng.normal(size=(H, c))
            w *= alpha / np.linalg.norm(w, axis=1, keepdims=True)
            a *= alpha / np.linalg.norm(a, axis=1, keepdims=True)
        else:
            raise ConfigError(f"unknown init scheme {scheme!r}; choose 'paper' or 'balanced'")
        return Params({"w": w, "a": a})

    def __repr__(self) -> str:
        act = f"monomial({self.degree})" if self.activation == "monomial" else self.activation
        return f"TwoLayer(d_in={self.d_in}, d_out={self.d_out}, width={self.width}, activation={act!r})"
