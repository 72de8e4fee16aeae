"""Modular addition with a template encoding (method sections 5d and 6.5)."""

from __future__ import annotations

import numpy as np

from agf._validate import float_array, integer, positive
from agf.data import Dataset
from agf.errors import ConfigError
from agf.tasks.task import Task
from agf.units import mse_loss_scale

__all__ = ["modular_addition", "paper_template", "spectrum_template"]


def paper_template(p: int = 20) -> np.ndarray:
    """The template of method section 6.5: DFT magnitudes 10, 5, 2.5 at frequencies 1, 3, 5
    (and their conjugates p - xi), real phases, mean zero; ``||x||^2 = 13.125`` for p = 20."""
    p = integer("p", p, minimum=11)
    xhat = np.zeros(p, dtype=complex)
    for xi, mag in ((1, 10.0), (3, 5.0), (5, 2.5)):
        xhat[xi] = xhat[p - xi] = mag
    return np.real(np.fft.ifft(xhat))


def spectrum_template(p: int, spectrum) -> np.ndarray:
    """A real, mean-zero template with DFT magnitudes ``|x̂_ξ| = spectrum[ξ]`` (and the same at the
    conjugate ``p - ξ``), real non-negative phases. ``spectrum`` maps frequencies
    ``1 <= ξ <= p - 1`` to magnitudes >= 0 (ξ and p - ξ name the same pair; giving both with
    different values is an error)."""
    p = integer("p", p, minimum=2)
    xhat = np.zeros(p)
    seen = {}
    for xi, mag in dict(spectrum).items():
        xi = integer("spectrum frequency", xi, minimum=0)
        if not 1 <= xi <= p - 1:
            raise ConfigError(f"spectrum frequencies must lie in 1..{p - 1} (the mean is removed), got {xi}")
        mag = float(mag)
        if not np.isfinite(mag) or mag < 0:
            raise ConfigError(f"spectrum magnitude at frequency {xi} must be finite and >= 0, got {mag}")
        key = min(xi, p - xi)
        if key in seen and seen[key] != mag:
            raise ConfigError(f"frequencies {xi} and {p - xi} are conjugate and need the same magnitude")
        seen[key] = mag
        xhat[key] = xhat[(p - key) % p] = mag
    return np.real(np.fft.ifft(xhat))


def modular_addition(p: int = 20, template="paper", *, seed=None, exponent: float = 1.0) -> Task:
    """All ``p**2`` pairs ``(a, b)`` with input ``(a.x, b.x)`` in R^{2p} and target
    ``((a + b) mod p).x``, where ``a.x = np.roll(x, a)`` is the cyclic shift of the template x.

    ``template``: ``"paper"`` (method section 6.5, needs p >= 11), ``"one_hot"`` (x = e_0 - 1/p,
    equal Fourier magnitudes: no learning order), ``"random"`` (Gaussian, mean-centred, from
    ``seed``), ``"power_law"`` (``|x̂_ξ| = 10 ξ^-exponent`` for ``1 <= ξ <= p/2`` and the
    conjugates, real phases; 10 is the paper's ``|x̂_1|``), a user spectrum as a dict
    ``{ξ: |x̂_ξ|}`` (:func:`spectrum_template`), or an array of length p (mean-centred here). The loss convention is PyTorch's
    ``MSELoss`` (``loss_scale = 2/p``), as in the paper's experiments. Rows are ordered with
    ``a`` major: row ``a*p + b``.
    """
    p = integer("p", p, minimum=2)
    if isinstance(template, str):
        if template == "paper":
            x = paper_template(p)
        elif template == "one_hot":
            x = np.zeros(p)
            x[0] = 1.0
        elif template == "random":
            x = np.random.default_rng(seed).normal(size=p)
        elif template == "power_law":
            exponent = positive("exponent", exponent, allow_zero=True)
            x = spectrum_template(p, {xi: 10.0 * xi ** (-exponent) for xi in range(1, p // 2 + 1)})
        else:
            raise ConfigError(f"unknown template {template!r}; use 'paper', 'one_hot', 'random', 'power_law', "
                              "a dict spectrum or an array")
    elif isinstance(template, dict):
        x = spectrum_template(p, template)
    else:
        x = float_array("template", template, ndim=1)
        if x.size != p:
            raise ConfigError(f"template has length {x.size}, expected p={p}")
    x = x - x.mean()
    if not np.any(x):
        raise ConfigError("the template is constant: nothing to learn")
    shifts = np.stack([np.roll(x, k) for k in range(p)])  # row k = k.x
    a, b = np.divmod(np.arange(p * p), p)
    X = np.hstack([shifts[a], shifts[b]])
    Y = shifts[(a + b) % p]
    return Task(name="modular_addition", data=Dataset(X, Y), loss_scale=mse_loss_scale(p),
                info={"p": p, "template": x})
